"""Where a run waits and trains, in the embedded mode: a queue in the store, training threads in every
web process.

Contract (what the API uses): `Runner.submit()` stores a queued run (or, asked to reuse, answers with a
stored run of the same config) or raises QueueFull; `stop()` stops
a queued or running run, whichever process has it; `counts()` says what this process trains and how
many runs wait; `start()` and `shutdown()` bracket the process's life.

The queue. A new run waits in the store as `queued` with the owner QUEUE_OWNER instead of the process
that accepted it, so:
- the queue limit counts every waiting run, whichever gunicorn worker took the POST (past it: QueueFull);
- queue positions (Store.queue_position and Store.states count the queued runs of one owner) are
  positions in the one global queue;
- any process with a free training thread claims the oldest waiting run (Store.claim: a conditional
  UPDATE, so only one process can move a run out of `queued`), and no run waits behind a busy worker
  while another is idle.

Training. A claimed run trains with core.training.train on one of this process's PLAYGROUND_WORKERS
threads, which hands every epoch to a Recorder (it stores the epoch and wakes this process's streams).
A run ends `done`, `stopped` (on request, or past the wall-clock cap PLAYGROUND_RUN_SECONDS), `failed`
(diverged: the reason says why; any other error: a generic reason, details in the server log) or
`interrupted` (the server shut down). Nothing a run does can kill a training thread.

Liveness. A keeper thread writes this process's heartbeat and interrupts the runs of dead processes
(server.recovery). It also keeps the queue alive like a process: every process writes a heartbeat for
QUEUE_OWNER under a host name no process has, so recovery judges the queue by its heartbeat alone.
When every process is gone for longer than the staleness limit, the next process to start interrupts
the waiting runs, as it does the runs of any dead process; the last process to shut down does the same.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref

from core.datasets import load_mnist
from core.training import Diverged, train
from server.broadcast_local import Notifier, ProgressBoard
from server.progress import BatchProgress
from server.recorder import Recorder
from server.recovery import Identity, is_dead, recover
from server.run_json import config_from_dict, new_run_id
from server.store import Status, Store, StoreUnavailable, patiently

log = logging.getLogger(__name__)

GENERIC_FAILURE = "Training failed because of an error in the server; it has been logged for the operators."
SHUTDOWN_REASON = "The server shut down while this run was training; the epochs recorded so far are kept."
STOP_CHECK_SECONDS = 0.25  # how often a trainer asks the store whether another process stopped its run
RETRY_AFTER_SECONDS = 10
CLAIM_POLL_SECONDS = 0.2  # how often an idle training thread looks for runs other processes queued
QUEUE_OWNER = "queue:shared"  # the owner of every waiting run
QUEUE_HOST = "(every process)"  # the queue's heartbeat host: no process has it, so no pid check


def keep_alive(store: Store) -> None:
    """The queue's heartbeat: written by every live process."""
    store.beat(QUEUE_OWNER, QUEUE_HOST, 0)


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
        run_seconds: float = 900.0,
        progress: ProgressBoard | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.progress = progress  # where progress within an epoch goes (None: nowhere)
        self.identity = Identity.of_this_process()
        self.workers = workers
        self.queue_size = queue_size
        self.stale_seconds = stale_seconds
        self.run_seconds = run_seconds
        self._busy = 0
        self._waiting = 0  # runs waiting in the shared queue, as last seen (for /healthz)
        self._cond = threading.Condition()
        self._stops: dict[str, threading.Event] = {}
        self._unended: set[str] = set()  # runs that failed while the store was away: still to mark failed
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._preload_mnist = preload_mnist

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Say we are alive, clean up after dead processes, then start the threads."""
        self.store.beat(self.identity.owner, self.identity.host, self.identity.pid)
        for run_id in recover(self.store, self.identity, self.stale_seconds):
            log.warning("run %s interrupted: its server process is gone", run_id)
        keep_alive(self.store)  # after recovery: runs left waiting by a dead server end
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
        """Stop training (running runs end `interrupted`) and forget this process; the last process
        to go also interrupts the runs still waiting, since nobody is left to train them."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self.store.interrupt(self.identity.owner, SHUTDOWN_REASON)
        self.store.forget_owner(self.identity.owner)
        if not self._others_alive():
            for run_id in self.store.interrupt(QUEUE_OWNER, SHUTDOWN_REASON):
                self.notifier.changed(run_id)

    def _others_alive(self) -> bool:
        now = time.time()
        return any(
            owner != QUEUE_OWNER and not is_dead(owner, row, self.identity, self.stale_seconds, now)
            for owner, row in self.store.owners().items()
        )

    # --- the API's side ------------------------------------------------------------------------

    def submit(
        self, config: dict, query: str, total_epochs: int, token_hash: str | None = None, reuse: bool = False
    ) -> tuple[str, bool]:
        """Store a new run in the shared queue (with its owner token's hash): (its id, False); with `reuse`,
        a stored run of the same query that is done, queued or running answers instead: (its id, True).
        Raises QueueFull past
        capacity."""
        with self._cond:
            idle = self.workers - self._busy  # a run given to an idle thread waits in the queue briefly
        run_id = new_run_id()
        places = self.queue_size + idle
        answer = self.store.create_run(
            run_id, config, query, QUEUE_OWNER, total_epochs, places, token_hash=token_hash, reuse=reuse
        )
        if answer is None:
            raise QueueFull(f"{self.queue_size} runs are already waiting for a training slot.")
        if answer == run_id:
            with self._cond:
                self._cond.notify()
        return answer, answer != run_id

    def stop(self, run_id: str) -> None:
        """Stop a queued or running run, whichever process owns it; a no-op for a finished run."""
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
            return {"training": self._busy, "queued": self._waiting}

    # --- the training threads ------------------------------------------------------------------

    def _work(self) -> None:
        while not self._closing.is_set():
            try:
                run_id = self._claim()
            except StoreUnavailable:  # look again later (the keeper reports the outage)
                run_id = None
            except Exception:
                log.exception("could not claim a queued run")
                run_id = None
            if run_id is None:
                with self._cond:  # woken by submit() here, or look again for other processes' runs
                    if not self._closing.is_set():
                        self._cond.wait(CLAIM_POLL_SECONDS)
                continue
            try:
                self._queued_changed()
                self._train(run_id)
            except Exception:  # the store itself failed: log it, try once more to end the run, go on
                log.exception("run %s: could not record the run", run_id)
                try:
                    self.store.finish(run_id, Status.FAILED, GENERIC_FAILURE)
                except Exception:
                    log.exception("run %s: could not mark it failed; the keeper will", run_id)
                    self._unended.add(run_id)
            finally:
                with self._cond:
                    self._busy -= 1

    def _claim(self) -> str | None:
        """The oldest waiting run, now `running` and ours (counted busy), or None."""
        run_id, self._waiting = self.store.claim(QUEUE_OWNER, self.identity.owner)
        if run_id is not None:
            with self._cond:
                self._busy += 1
        return run_id

    def _train(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run is None or run["status"] != Status.RUNNING:
            return  # ended while it waited (say, interrupted by a process that thought we were dead)
        self.notifier.changed(run_id)
        flag = self._stops[run_id] = threading.Event()
        try:
            status, reason, last = self._epochs(run_id, run["config"], flag)
            done = last is not None and status == Status.DONE
            test = (last.test_loss, last.test_acc) if done else (None, None)
            patiently(lambda: self.store.finish(run_id, status, reason, *test))
        finally:
            del self._stops[run_id]
            self.notifier.changed(run_id)

    def _epochs(self, run_id: str, config: dict, flag: threading.Event):
        """Train, recording each epoch; returns (final status, reason, last EpochResult)."""
        next_check = time.monotonic() + STOP_CHECK_SECONDS
        deadline = time.monotonic() + self.run_seconds
        timed_out = False

        recorder = Recorder(self.store, self.notifier, run_id, self.progress)
        batches = BatchProgress(recorder.progress) if self.progress is not None else None

        def should_stop() -> bool:
            nonlocal next_check, timed_out
            if batches is not None:
                batches.before_batch()
            if flag.is_set() or self._closing.is_set():
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
            on_batch = batches.after_batch if batches is not None else None
            for result in train(config_from_dict(config, self.store), should_stop, on_batch):
                recorder.add(result)
                last = result
        except Diverged as error:
            outcome = (Status.FAILED, str(error))
        except Exception:
            log.exception("run %s failed", run_id)
            outcome = (Status.FAILED, GENERIC_FAILURE)
        try:
            recorder.close()  # every epoch is stored before the run's status changes
        except Exception:
            log.exception("run %s: could not record its epochs", run_id)
            outcome = (Status.FAILED, GENERIC_FAILURE)
        if outcome is not None:
            return *outcome, last
        if last is not None and last.test_acc is not None:
            return Status.DONE, None, last
        if self._closing.is_set():
            return Status.INTERRUPTED, SHUTDOWN_REASON, last
        if timed_out:
            reason = f"Time limit of {self.run_seconds:g} s reached; the epochs recorded so far are kept."
            return Status.STOPPED, reason, last
        return Status.STOPPED, "Stopped on request.", last

    def _queued_changed(self) -> None:
        """Queue positions moved: wake this process's streams of the runs still waiting (other
        processes' streams notice through their store watcher)."""
        for run_id, status, _ in self.store.active_runs():
            if status == Status.QUEUED:
                self.notifier.changed(run_id)

    # --- the keeper thread ---------------------------------------------------------------------

    def _keep(self) -> None:
        """Heartbeat and recovery, every fifth of the staleness limit. After the store was unavailable,
        every process's heartbeat is old: recovery waits until they all had time to beat again."""
        failed_at = -float("inf")
        while not self._closing.wait(self.stale_seconds / 5):
            try:
                self.store.beat(self.identity.owner, self.identity.host, self.identity.pid)
                if time.monotonic() - failed_at > self.stale_seconds:
                    for run_id in recover(self.store, self.identity, self.stale_seconds):
                        log.warning("run %s interrupted: its server process is gone", run_id)
                        self.notifier.changed(run_id)
                keep_alive(self.store)
                for run_id in list(self._unended):
                    self.store.finish(run_id, Status.FAILED, GENERIC_FAILURE)
                    self._unended.discard(run_id)
                    self.notifier.changed(run_id)
            except StoreUnavailable as error:
                failed_at = time.monotonic()
                log.warning("heartbeat failed: %s", error)
            except Exception:
                failed_at = time.monotonic()
                log.exception("heartbeat failed")


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
