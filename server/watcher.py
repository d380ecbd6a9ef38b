"""Noticing changes made by other processes: one thread per process looks at the store for every
run this process's viewers watch, in one query every PLAYGROUND_POLL seconds (default 0.05), and wakes
the viewers of the runs that changed. Cost: one small query per interval, whatever the number of
viewers, and nothing at all when nobody watches.

Runs trained by this process also wake their viewers directly (server.recorder), without this delay.
"""

from __future__ import annotations

import logging
import threading

from server.notify import Notifier
from server.store import Store, StoreUnavailable

log = logging.getLogger(__name__)


class StoreWatcher:
    def __init__(self, store: Store, notifier: Notifier, interval: float) -> None:
        self.store = store
        self.notifier = notifier
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="store-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        seen: dict[str, tuple] = {}
        while not self._stop.wait(self.interval):
            try:
                run_ids = self.notifier.watched()
                states = self.store.states(run_ids) if run_ids else {}
                for run_id, state in states.items():
                    if seen.get(run_id) != state:
                        self.notifier.changed(run_id)
                seen = states
            except StoreUnavailable:  # streams still wake on their own fallback timer
                pass
            except Exception:
                log.exception("watching the store failed")
