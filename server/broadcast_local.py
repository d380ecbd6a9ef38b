"""In-process wake-ups: a trainer tells this process's streams that a run changed.

A run trained by another process changes only in the store: server.watcher looks there for this
process's viewers and wakes them through the same notifier. Each run has its own condition, so an
epoch of one run does not wake the viewers of every other run. A version number per run closes the
gap between a stream reading the store and going to sleep: if it moved meanwhile, it does not sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
