"""How a stored epoch reaches viewers, in the embedded mode: straight to this process's viewers, plus a
store watcher for the runs other processes train (the seam: server.broadcast).

- `publish()` hands the message to this process's viewers of the run at once (server.broadcast.Viewers):
  an epoch trained here reaches its viewers here without a trip to the store.
- The store watcher: runs trained by another gunicorn worker change only in the store. One thread per
  process looks there for every run this process's viewers watch, in one query every PLAYGROUND_POLL
  seconds (default 0.05), and tells the viewers of the runs that changed: STATUS when the status or
  queue position moved, STORED when only new epochs were stored. Cost: one small query per interval,
  whatever the number of viewers, and nothing at all when nobody watches.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager

from server.broadcast import QUEUE, STATUS, STORED, Message, Viewers, Watch
from server.store import Store, StoreUnavailable

log = logging.getLogger(__name__)


class LocalBroadcast:
    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.viewers = Viewers()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch_store, name="store-watcher", daemon=True)

    def publish(self, run_id: str, kind: str, data: str = "", event_id: int | None = None) -> None:
        self.viewers.deliver(run_id, Message(kind, data, event_id))

    def queue_changed(self) -> None:
        self.viewers.deliver_to_all(Message(QUEUE))

    def watch(self, run_id: str) -> AbstractContextManager[Watch]:
        return self.viewers.watch(run_id)

    def streams(self) -> int:
        return self.viewers.streams()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch_store(self) -> None:
        seen: dict[str, tuple] = {}
        while not self._stop.wait(self.interval):
            try:
                run_ids = self.viewers.watched()
                states = self.store.states(run_ids) if run_ids else {}
                for run_id, (status, epochs_done, position) in states.items():
                    before = seen.get(run_id)
                    if before is None or before[::2] != (status, position):
                        self.viewers.deliver(run_id, Message(STATUS))
                    elif before[1] != epochs_done:
                        self.viewers.deliver(run_id, Message(STORED, id=epochs_done))
                seen = states
            except StoreUnavailable:  # streams still look on their own fallback timer
                pass
            except Exception:
                log.exception("watching the store failed")
