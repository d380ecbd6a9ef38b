"""The job runner: a bounded pool of training threads fed by a bounded queue.

POST /api/runs puts a run in this process's queue (or refuses with QueueFull); a training thread
takes it and trains it with core.training.train, handing every epoch to a Recorder (which stores it
and wakes this process's streams). A run ends `done`, `stopped` (on request), `failed` (diverged:
the reason says why; any other error: a generic reason, details in the server log) or `interrupted`
(the server shut down). Nothing a run does can kill a training thread.

A keeper thread writes this process's heartbeat and interrupts the runs of dead processes.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque

from core.datasets import load_mnist
from core.training import Diverged, train
from server.notify import Notifier
from server.owners import Identity, recover
from server.recorder import Recorder
from server.runs import config_from_dict, new_run_id
from server.store import Store

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Training failed because of an error in the server; it has been logged for the operators."
SHUTDOWN_REASON = "The server shut down while this run was training; the epochs recorded so far are kept."
STOP_CHECK_SECONDS = 0.25  # how often a trainer asks the store whether another process stopped its run
RETRY_AFTER_SECONDS = 10


class QueueFull(RuntimeError):
    """Every training thread is busy and the queue is full."""


class Runner:
    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        workers: int,
        queue_size: int,
        stale_seconds: float,
        preload_mnist: bool = False,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.identity = Identity.of_this_process()
        self.workers = workers
        self.queue_size = queue_size
        self.stale_seconds = stale_seconds
        self._queue: deque[str] = deque()
        self._busy = 0
        self._cond = threading.Condition()
        self._stops: dict[str, threading.Event] = {}
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._preload_mnist = preload_mnist

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Say we are alive, clean up after dead processes, then start the threads."""
        self.store.beat(self.identity.owner, self.identity.host, self.identity.pid)
        for run_id in recover(self.store, self.identity, self.stale_seconds):
            log.warning("run %s interrupted: its server process is gone", run_id)
        targets = [self._work] * self.workers + [self._keep]
        if self._preload_mnist:
            targets.append(_preload_mnist)
        for i, target in enumerate(targets):
            # Daemon threads: the interpreter must not wait for a training run to exit; shutdown()
            # (also called at exit) stops them between batches.
            thread = threading.Thread(target=target, name=f"playground-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        atexit.register(_shutdown_at_exit, weakref.ref(self))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop training (running runs end `interrupted`), drop the queue, forget this process."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._cond:
            queued, self._queue = list(self._queue), deque()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        for run_id in queued:
            self.store.finish(run_id, "interrupted", SHUTDOWN_REASON)
            self.notifier.changed(run_id)
        self.store.interrupt(self.identity.owner, SHUTDOWN_REASON)
        self.store.forget_owner(self.identity.owner)

    # --- the API's side ------------------------------------------------------------------------

    def submit(self, config: dict, query: str, total_epochs: int) -> str:
        """Store a new queued run and queue it here; raises QueueFull past capacity."""
        with self._cond:
            idle = self.workers - self._busy  # a run given to an idle thread waits in the queue briefly
            if len(self._queue) >= self.queue_size + idle:
                raise QueueFull(
                    f"All {self.workers} training slots and {self.queue_size} queue places are taken."
                )
            run_id = new_run_id()
            self.store.create_run(run_id, config, query, self.identity.owner, total_epochs)
            self._queue.append(run_id)
            self._cond.notify()
        return run_id

    def stop(self, run_id: str) -> None:
        """Stop a queued or running run, whichever process owns it; a no-op for a finished run."""
        with self._cond:
            if run_id in self._queue:
                self._queue.remove(run_id)
        if self.store.stop_queued(run_id, "Stopped before it started."):
            self._queued_changed()
            self.notifier.changed(run_id)
            return
        flag = self._stops.get(run_id)
        if flag is not None:
            flag.set()  # ours: the trainer sees it before its next batch
        else:
            self.store.request_stop(run_id)  # another process's: its trainer polls the store

    def counts(self) -> dict[str, int]:
        with self._cond:
            return {"training": self._busy, "queued": len(self._queue)}

    # --- the training threads ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing.is_set():
                    self._cond.wait()
                if self._closing.is_set():
                    return
                run_id = self._queue.popleft()
                self._busy += 1
            try:
                self._queued_changed()
                self._train(run_id)
            except Exception:  # the store itself failed: log it, try once more to end the run, go on
                log.exception("run %s: could not record the run", run_id)
                try:
                    self.store.finish(run_id, "failed", GENERIC_FAILURE)
                except Exception:
                    log.exception("run %s: could not mark it failed", run_id)
            finally:
                with self._cond:
                    self._busy -= 1

    def _train(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run is None or not self.store.start(run_id):
            return  # stopped while it waited
        self.notifier.changed(run_id)
        flag = self._stops[run_id] = threading.Event()
        try:
            status, reason, last = self._epochs(run_id, run["config"], flag)
            test = (last.test_loss, last.test_acc) if last is not None and status == "done" else (None, None)
            self.store.finish(run_id, status, reason, *test)
        finally:
            del self._stops[run_id]
            self.notifier.changed(run_id)

    def _epochs(self, run_id: str, config: dict, flag: threading.Event):
        """Train, recording each epoch; returns (final status, reason, last EpochResult)."""
        next_check = time.monotonic() + STOP_CHECK_SECONDS

        def should_stop() -> bool:
            nonlocal next_check
            if flag.is_set() or self._closing.is_set():
                return True
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + STOP_CHECK_SECONDS
                if self.store.should_stop(run_id):
                    flag.set()
            return flag.is_set()

        recorder = Recorder(self.store, self.notifier, run_id)
        last, outcome = None, None
        try:
            for result in train(config_from_dict(config), should_stop):
                recorder.add(result)
                last = result
        except Diverged as error:
            outcome = ("failed", str(error))
        except Exception:
            log.exception("run %s failed", run_id)
            outcome = ("failed", GENERIC_FAILURE)
        try:
            recorder.close()  # every epoch is stored before the run's status changes
        except Exception:
            log.exception("run %s: could not record its epochs", run_id)
            outcome = ("failed", GENERIC_FAILURE)
        if outcome is not None:
            return *outcome, last
        if last is not None and last.test_acc is not None:
            return "done", None, last
        if self._closing.is_set():
            return "interrupted", SHUTDOWN_REASON, last
        return "stopped", "Stopped on request.", last

    def _queued_changed(self) -> None:
        """Queue positions moved: wake the streams of the runs still waiting."""
        with self._cond:
            waiting = list(self._queue)
        for run_id in waiting:
            self.notifier.changed(run_id)

    # --- the keeper thread ---------------------------------------------------------------------

    def _keep(self) -> None:
        """Heartbeat and recovery, every fifth of the staleness limit."""
        while not self._closing.wait(self.stale_seconds / 5):
            try:
                self.store.beat(self.identity.owner, self.identity.host, self.identity.pid)
                for run_id in recover(self.store, self.identity, self.stale_seconds):
                    log.warning("run %s interrupted: its server process is gone", run_id)
                    self.notifier.changed(run_id)
                self._drop_stopped_from_queue()
            except Exception:
                log.exception("heartbeat failed")

    def _drop_stopped_from_queue(self) -> None:
        """Runs another process stopped while they waited here no longer take a queue place."""
        with self._cond:
            waiting = list(self._queue)
        gone = [run_id for run_id in waiting if (self.store.status(run_id) or ("",))[0] != "queued"]
        with self._cond:
            for run_id in gone:
                if run_id in self._queue:
                    self._queue.remove(run_id)


def _preload_mnist() -> None:
    """Load MNIST at boot, so the first MNIST run does not wait for it (about half a second)."""
    try:
        load_mnist()
    except Exception:
        log.exception("could not preload MNIST")


def _shutdown_at_exit(runner_ref: weakref.ref) -> None:
    runner = runner_ref()
    if runner is not None:
        runner.shutdown(timeout=5.0)
