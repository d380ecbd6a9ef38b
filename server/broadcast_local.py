"""How a stored epoch reaches viewers, in the embedded mode: straight to this process's viewers, plus a
store watcher for the runs other processes train (the seam: server.broadcast).

- `publish()` hands the message to this process's viewers of the run at once (server.broadcast.Viewers):
  an epoch trained here reaches its viewers here without a trip to the store.
- The store watcher: runs trained by another gunicorn worker change only in the store. One thread per
  process looks there for every run this process's viewers watch, in one query every PLAYGROUND_POLL
  seconds (default 0.05), and tells the viewers of the runs that changed: STATUS when the status or
  queue position moved; when only new epochs were stored, it reads them once and hands each to the
  run's viewers as an EPOCH message, so a thousand viewers cost one read, not a thousand (STORED, "read
  the store yourself", when there are many or the store is away). Cost: one small query per interval,
  whatever the number of viewers, and nothing at all when nobody watches.
- Progress within an epoch (PROGRESS, live-only) has no broker between gunicorn workers but the store:
  `publish()` also overwrites the run row's `progress` (never part of its epochs), and the watcher hands
  a running run's new progress to this process's viewers, unless this process published it itself
  (its viewers had it already)."""

from __future__ import annotations

import json
import logging
import threading
from contextlib import AbstractContextManager

from server.broadcast import EPOCH, PROGRESS, QUEUE, STATUS, STORED, Message, Viewers, Watch
from server.store import Status, Store, StoreUnavailable

log = logging.getLogger(__name__)

READ_ONCE_EPOCHS = 20  # new epochs the watcher reads for the viewers at most; past it they read them


class LocalBroadcast:
    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval = interval
        self.viewers = Viewers()
        self._published: dict[str, str] = {}  # run id -> the last progress published here, while it trains
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch_store, name="store-watcher", daemon=True)

    def publish(self, run_id: str, kind: str, data: str = "", event_id: int | None = None) -> None:
        if kind == PROGRESS:
            self._published[run_id] = data
            self._store_progress(run_id, data)
        elif kind == STATUS:  # started or ended: its progress so far is no news
            self._published.pop(run_id, None)
        self.viewers.deliver(run_id, Message(kind, data, event_id))

    def _store_progress(self, run_id: str, data: str) -> None:
        """Progress is for the eye: a store busy or read-only for now skips a report, never the run."""
        try:
            self.store.set_progress(run_id, data)
        except StoreUnavailable:
            log.debug("run %s: progress not stored, the store is unavailable", run_id)
        except Exception:
            log.exception("run %s: could not store its progress", run_id)

    def queue_changed(self) -> None:
        self.viewers.deliver_to_all(Message(QUEUE))

    def watch(self, run_id: str) -> AbstractContextManager[Watch]:
        return self.viewers.watch(run_id)

    def streams(self) -> int:
        return self.viewers.streams()

    def close_streams(self) -> None:
        self.viewers.close_all()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _new_epochs(self, run_id: str, seen: int, epochs_done: int) -> None:
        """Epochs another process stored: read once here and handed to every viewer of the run as EPOCH
        messages (a stream then sends each as it is), rather than each stream reading them itself."""
        try:
            events = self.store.events_after(run_id, seen) if epochs_done - seen <= READ_ONCE_EPOCHS else []
        except StoreUnavailable:
            events = []
        if not events:  # many at once, or the store away: each stream reads what it misses
            self.viewers.deliver(run_id, Message(STORED, id=epochs_done))
            return
        for epoch, data in events:
            self.viewers.deliver(run_id, Message(EPOCH, data, epoch))

    def _watch_store(self) -> None:
        seen: dict[str, tuple] = {}
        while not self._stop.wait(self.interval):
            try:
                run_ids = self.viewers.watched()
                states = self.store.states(run_ids) if run_ids else {}
                for run_id, (status, epochs_done, position, progress) in states.items():
                    before = seen.get(run_id)
                    if before is None or (before[0], before[2]) != (status, position):
                        self.viewers.deliver(run_id, Message(STATUS))
                    elif before[1] != epochs_done:
                        self._new_epochs(run_id, before[1], epochs_done)
                    news = progress is not None and (before is None or before[3] != progress)
                    if news and status == Status.RUNNING and progress != self._published.get(run_id):
                        epoch = json.loads(progress)["epoch"]
                        self.viewers.deliver(run_id, Message(PROGRESS, progress, epoch))
                seen = states
            except StoreUnavailable:  # streams still look on their own fallback timer
                pass
            except Exception:
                log.exception("watching the store failed")
