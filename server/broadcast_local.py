"""How a stored epoch reaches viewers, in the embedded mode: this process's notifier plus a store watcher.

Contract: whoever changes a run in the store (server.recorder stores an epoch, server.training_local
starts, stops or ends a run) calls `Notifier.changed(run_id)`; a stream (server.sse) opens
`Notifier.watch(run_id)`, reads `version`, reads the store, then `wait(version, timeout)`. The events
themselves always come from the store; this module only says when to look again.

Progress within an epoch (`ProgressBoard`) is not an epoch: it is never stored with the epochs nor
replayed. The trainer publishes the latest (`publish(run_id, data)`, about once a second) and a stream
reads it when it wakes (`latest(run_id)`). Here the latest lives in the store's run row, so a stream in
any process reads it and the store watcher wakes the others'; a broker (a Redis stream) can carry it
behind the same two calls.

- `Notifier`: in-process wake-ups. Each run has its own condition, so an epoch of one run does not wake
  the viewers of every other run. A version number per run closes the gap between a stream reading the
  store and going to sleep: if it moved meanwhile, it does not sleep.
- `StoreWatcher`: runs trained by another process change only in the store. One thread per process
  looks there for every run this process's viewers watch, in one query every PLAYGROUND_POLL seconds
  (default 0.05), and wakes the viewers of the runs that changed through the same notifier. Cost: one
  small query per interval, whatever the number of viewers, and nothing at all when nobody watches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from server.store import Store, StoreUnavailable

log = logging.getLogger(__name__)


class _Watched:
    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.version = 0
        self.watchers = 0


class Watch:
    """A stream's handle on one run: read `version`, look at the store, then `wait(version, ...)`."""

    def __init__(self, entry: _Watched) -> None:
        self._entry = entry

    @property
    def version(self) -> int:
        return self._entry.version

    def wait(self, seen: int, timeout: float) -> None:
        """Sleep until the run changes after `seen`, or timeout seconds pass."""
        with self._entry.condition:
            if self._entry.version == seen:
                self._entry.condition.wait(timeout)


class Notifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, _Watched] = {}

    def changed(self, run_id: str) -> None:
        with self._lock:
            entry = self._runs.get(run_id)
            if entry is not None:  # nobody watches: nothing to wake
                entry.version += 1
                entry.condition.notify_all()

    @contextmanager
    def watch(self, run_id: str) -> Iterator[Watch]:
        with self._lock:
            entry = self._runs.setdefault(run_id, _Watched(self._lock))
            entry.watchers += 1
        try:
            yield Watch(entry)
        finally:
            with self._lock:
                entry.watchers -= 1
                if entry.watchers == 0:
                    del self._runs[run_id]

    def watched(self) -> list[str]:
        """The runs that have a viewer in this process."""
        with self._lock:
            return list(self._runs)

    def streams(self) -> int:
        """How many streams of this process are open (for tests and /healthz)."""
        with self._lock:
            return sum(entry.watchers for entry in self._runs.values())


class ProgressBoard:
    """The latest progress within an epoch of each training run: {epoch, batch, batches, seconds}."""

    def __init__(self, store: Store, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    def publish(self, run_id: str, progress: dict) -> None:
        """Say how far a run got (the trainer's side); wakes this process's viewers of the run."""
        self.store.set_progress(run_id, json.dumps(progress))
        self.notifier.changed(run_id)

    def latest(self, run_id: str) -> dict | None:
        """The last progress published for a run (a stream's side), or None."""
        text = self.store.progress(run_id)
        return None if text is None else json.loads(text)


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
