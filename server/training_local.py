"""Where a run waits and trains, in the embedded mode: a queue in the store, training threads in every
web process.

Contract: the seam server.training.Training (what the API uses).

The queue. A new run waits in the store as `queued` with the owner QUEUE_OWNER instead of the process
that accepted it, so:
- the queue limit counts every waiting run, whichever gunicorn worker took the POST (past it: QueueFull);
- queue positions (Store.queue_position and Store.states count the queued runs of one owner) are
  positions in the one global queue;
- any process with a free training thread claims the next waiting run (Store.claim: a conditional
  UPDATE, so only one process can move a run out of `queued`), and no run waits behind a busy worker
  while another is idle. "Next" is round-robin over clients (Store.queue_places: each client's oldest
  waiting run first, then each one's second, ...), the same order as the positions viewers see.

Training. A claimed run trains on one of this process's PLAYGROUND_WORKERS OS threads (real threads under
gevent too, outside the event loop: server.green; server.trainer:
recorded epoch by epoch, ended `done`, `stopped`, `failed`, or `interrupted` when the server shuts
down). Nothing a run does can kill a training thread.

Liveness. A keeper thread (server.recovery.Keeper) writes this process's heartbeat and interrupts the
runs of dead processes. It also keeps the queue alive like a process: every process writes a heartbeat for
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
from server.broadcast import STATUS, Broadcast
from server.green import Joinable, os_thread
from server.recovery import Identity, Keeper, is_dead
from server.run_json import new_run_id
from server.store import Admission, Store, StoreUnavailable
from server.store_budget import StoreBudget
from server.trainer import Trainer
from server.training import QueueFull

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "The server shut down while this run was training; the epochs recorded so far are kept."
CLAIM_POLL_SECONDS = 0.2  # how often an idle training thread looks for runs other processes queued
QUEUE_OWNER = "queue:shared"  # the owner of every waiting run
QUEUE_HOST = "(every process)"  # the queue's heartbeat host: no process has it, so no pid check


def keep_alive(store: Store) -> None:
    """The queue's heartbeat: written by every live process."""
    store.beat(QUEUE_OWNER, QUEUE_HOST, 0)


class Runner:
    def __init__(
        self,
        store: Store,
        broadcast: Broadcast,
        workers: int,
        queue_size: int,
        stale_seconds: float,
        preload_mnist: bool = False,
        run_seconds: float = 900.0,
        store_mb: float = 0,
    ) -> None:
        self.store = store
        self.broadcast = broadcast
        self.identity = Identity.of_this_process()
        self.workers = workers
        self.queue_size = queue_size
        self.stale_seconds = stale_seconds
        budget = StoreBudget(store, store_mb)
        self.trainer = Trainer(store, broadcast, run_seconds, SHUTDOWN_REASON, after_run=budget.enforce)
        self.keeper = Keeper(
            store,
            self.identity,
            stale_seconds,
            broadcast,
            chores=[
                lambda: keep_alive(store),
                self.trainer.finish_unended,
                budget.chore,
            ],
        )
        self._busy = 0
        self._waiting = 0  # runs waiting in the shared queue, as last seen (for /healthz)
        self._cond = threading.Condition()
        self._threads: list[Joinable] = []
        self._preload_mnist = preload_mnist

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Say we are alive, clean up after dead processes (runs left waiting by a dead server end
        too), then start the threads."""
        self.keeper.round()
        targets = [self._work] * self.workers
        if self._preload_mnist:
            targets.append(_preload_mnist)
        for i, target in enumerate(targets):
            # Real OS threads, also under gevent (server.green), so training never holds the event
            # loop; daemons: the interpreter must not wait for a run to exit; shutdown() (also called at
            # exit) stops them between batches.
            self._threads.append(os_thread(target, name=f"playground-{i}"))
        self.keeper.start(os_thread_only=True)  # its chores touch the store alone
        atexit.register(_shutdown_at_exit, weakref.ref(self))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop training (running runs end `interrupted`) and forget this process; the last process
        to go also interrupts the runs still waiting, since nobody is left to train them."""
        if self.trainer.closing.is_set():
            return
        self.trainer.closing.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self.keeper.stop(timeout)
        self.store.interrupt(self.identity.owner, SHUTDOWN_REASON)
        self.store.forget_owner(self.identity.owner)
        if not self._others_alive():
            for run_id in self.store.interrupt(QUEUE_OWNER, SHUTDOWN_REASON):
                self.broadcast.publish(run_id, STATUS)

    def _others_alive(self) -> bool:
        now = time.time()
        return any(
            owner != QUEUE_OWNER and not is_dead(owner, row, self.identity, self.stale_seconds, now)
            for owner, row in self.store.owners().items()
        )

    # --- the API's side ------------------------------------------------------------------------

    def submit(
        self,
        config: dict,
        query: str,
        total_epochs: int,
        token_hash: str | None = None,
        reuse: bool = False,
        admit: Admission | None = None,
        beyond: int = 0,
    ) -> tuple[str, bool]:
        """Store a new run in the shared queue (with its owner token's hash): (its id, False); with `reuse`,
        a stored run of the same query that is done, queued or running answers instead: (its id, True).
        Raises QueueFull past capacity (plus `beyond` places: a sweep's later cells)."""
        with self._cond:
            idle = self.workers - self._busy  # a run given to an idle thread waits in the queue briefly
        run_id = new_run_id()
        places = self.queue_size + idle + beyond
        answer = self.store.create_run(
            run_id,
            config,
            query,
            QUEUE_OWNER,
            total_epochs,
            places,
            token_hash=token_hash,
            reuse=reuse,
            admit=admit,
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
            self.broadcast.publish(run_id, STATUS)
            self.broadcast.queue_changed()
            return
        if not self.trainer.stop(run_id):  # ours: the trainer sees it before its next batch
            self.store.request_stop(run_id)  # another process's: its trainer polls the store

    def counts(self) -> dict[str, int]:
        with self._cond:
            return {"training": self._busy, "queued": self._waiting}

    # --- the training threads ------------------------------------------------------------------

    def _work(self) -> None:
        while not self.trainer.closing.is_set():
            try:
                run_id = self._claim()
            except StoreUnavailable:  # look again later (the keeper reports the outage)
                run_id = None
            except Exception:
                log.exception("could not claim a queued run")
                run_id = None
            if run_id is None:
                with self._cond:  # woken by submit() here, or look again for other processes' runs
                    if not self.trainer.closing.is_set():
                        self._cond.wait(CLAIM_POLL_SECONDS)
                continue
            try:
                self.broadcast.queue_changed()
                self.trainer.train(run_id)
            finally:
                with self._cond:
                    self._busy -= 1

    def _claim(self) -> str | None:
        """The next waiting run (clients take turns), now `running` and ours (counted busy), or None."""
        run_id, self._waiting = self.store.claim(QUEUE_OWNER, self.identity.owner)
        if run_id is not None:
            with self._cond:
                self._busy += 1
        return run_id


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
