"""Training one run, in either mode: a web process's training thread (server.training_local) or an RQ
worker's job (server.training_rq) hands a run it has just moved to `running` to `Trainer.train`.

The run trains with core.training.train, which hands every epoch to a Recorder (it stores the epoch,
then publishes it) and every batch to a BatchProgress (server.progress), whose progress within a long
epoch the recorder publishes too. The run ends `done`, `stopped` (on request, or past the wall-clock cap
PLAYGROUND_RUN_SECONDS), `failed` (diverged: the reason says why; any other error: a generic reason,
details in the log) or `interrupted` (the process is shutting down: `closing`; or the storage is full, so
its epochs cannot be stored: STORAGE_FULL_REASON). As it ends, its views are computed once and stored
(server.run_views). Viewers hear of the
start and the end through the broadcast (server.broadcast). Nothing a run does escapes `train()`.

Stop requests reach the trainer between batches: from this process through `stop(run_id)` at once,
from any other process (on any host) through the store's stop flag, which it reads every
STOP_CHECK_SECONDS. A run whose end cannot be stored (the store away for longer than
server.store.patiently waits) is remembered, and `finish_unended()` (the keeper's chore) ends it
once the store answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from core.training import Diverged, EpochResult, train
from server.broadcast import STATUS, Broadcast
from server.progress import BatchProgress
from server.recorder import Recorder
from server.run_json import config_from_dict
from server.run_views import store_views
from server.store import Status, Store, StoreFull, StoreUnavailable, patiently

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Training failed because of an error in the server; it has been logged for the operators."
STORAGE_FULL_REASON = (
    "The server's storage is full, so this run's next epoch could not be saved; the epochs recorded so far"
    " are kept. Train it again later."
)
STOP_CHECK_SECONDS = 0.25  # how often a trainer asks the store whether another process stopped its run


class Trainer:
    """Trains the runs one process has claimed, each on the thread that calls `train()`."""

    def __init__(
        self,
        store: Store,
        broadcast: Broadcast,
        run_seconds: float,
        shutdown_reason: str,
        after_run: Callable[[], object] = lambda: None,
    ) -> None:
        """`after_run()` is called as each run has ended (the store budget's check, server.store_budget)."""
        self.store = store
        self.after_run = after_run
        self.broadcast = broadcast
        self.run_seconds = run_seconds
        self.shutdown_reason = shutdown_reason
        self.closing = threading.Event()  # set: every run training here ends `interrupted` at once
        self._stops: dict[str, threading.Event] = {}
        self._unended: dict[str, tuple[Status, str]] = {}  # run id -> the end it could not store

    def stop(self, run_id: str) -> bool:
        """Stop a run this process trains (before its next batch); False if it does not train it."""
        flag = self._stops.get(run_id)
        if flag is None:
            return False
        flag.set()
        return True

    def train(self, run_id: str) -> None:
        """Train a run this process has claimed (`running` under its name), record it and end it."""
        try:
            self._train(run_id)
        except Exception as error:  # the store itself failed: log it, try once more to end the run
            log.exception("run %s: could not record the run", run_id)
            end = ending_of(error)
            try:
                self.store.finish(run_id, *end)
                self.broadcast.publish(run_id, STATUS)
            except Exception:
                log.exception("run %s: could not end it; the keeper will", run_id)
                self._unended[run_id] = end
        except BaseException:  # SystemExit or KeyboardInterrupt: the process goes now; say so if we can
            try:
                self.store.finish(run_id, Status.INTERRUPTED, self.shutdown_reason)
                self.broadcast.publish(run_id, STATUS)
            except Exception:
                log.exception("run %s: could not mark it interrupted; recovery will", run_id)
            raise

    def finish_unended(self) -> None:
        """End the runs whose end could not be stored (raises StoreUnavailable while away)."""
        for run_id, end in list(self._unended.items()):
            self.store.finish(run_id, *end)
            del self._unended[run_id]
            self.broadcast.publish(run_id, STATUS)

    def _train(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run is None or run["status"] != Status.RUNNING:
            return  # ended while it waited (stopped, or interrupted by a process that thought we were dead)
        self.broadcast.publish(run_id, STATUS)
        flag = self._stops[run_id] = threading.Event()
        try:
            status, reason, last = self._epochs(run_id, run["config"], flag)
            if last is not None and not self.closing.is_set():  # shutting down: the first request will
                self._keep_views(run_id)
            done = last is not None and status == Status.DONE
            test = (last.test_loss, last.test_acc) if done else (None, None)
            patiently(lambda: self.store.finish(run_id, status, reason, *test))
        finally:
            del self._stops[run_id]
            self.broadcast.publish(run_id, STATUS)
            try:
                self.after_run()
            except Exception:
                log.exception("run %s: the check after it failed", run_id)

    def _keep_views(self, run_id: str) -> None:
        """Compute the ended run's views once and store them (requests then read them); on trouble they
        are computed by the first request instead."""
        try:
            store_views(self.store, run_id)
        except Exception:
            log.exception("run %s: could not store its views", run_id)

    def _epochs(
        self, run_id: str, config: dict, flag: threading.Event
    ) -> tuple[Status, str | None, EpochResult | None]:
        """Train, recording each epoch; returns (final status, reason, last EpochResult)."""
        next_check = time.monotonic() + STOP_CHECK_SECONDS
        deadline = time.monotonic() + self.run_seconds
        timed_out = False
        recorder = Recorder(self.store, self.broadcast, run_id)
        batches = BatchProgress(recorder.progress)  # progress within a long epoch, about once a second

        def should_stop() -> bool:
            nonlocal next_check, timed_out
            batches.before_batch()
            if flag.is_set() or self.closing.is_set():
                return True
            if time.monotonic() >= deadline:
                timed_out = True
                flag.set()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + STOP_CHECK_SECONDS
                try:
                    if self.store.should_stop(run_id):
                        flag.set()
                except StoreUnavailable:  # the store is away for a moment: train on, ask again later
                    pass
            return flag.is_set()

        last, outcome = None, None
        try:
            for result in train(config_from_dict(config, self.store), should_stop, batches.after_batch):
                recorder.add(result)
                last = result
        except Diverged as error:
            outcome = (Status.FAILED, str(error))
        except Exception as error:  # the recorder's error (raised by add) or a bug
            log.exception("run %s failed", run_id)
            outcome = ending_of(error)
        try:
            recorder.close()  # every epoch is stored before the run's status changes
        except Exception as error:
            log.exception("run %s: could not record its epochs", run_id)
            outcome = ending_of(error)
        if outcome is not None:
            return *outcome, last
        if last is not None and last.test_acc is not None:
            return Status.DONE, None, last
        if self.closing.is_set():
            return Status.INTERRUPTED, self.shutdown_reason, last
        if timed_out:
            reason = f"Time limit of {self.run_seconds:g} s reached; the epochs recorded so far are kept."
            return Status.STOPPED, reason, last
        return Status.STOPPED, "Stopped on request.", last


def ending_of(error: Exception) -> tuple[Status, str]:
    """(status, reason) of a run that hit an error: `interrupted` with a sentence when the storage is full
    (it could not store its epochs), else `failed` with the generic reason (the details are logged)."""
    if isinstance(error, StoreFull):
        return Status.INTERRUPTED, STORAGE_FULL_REASON
    return Status.FAILED, GENERIC_FAILURE
