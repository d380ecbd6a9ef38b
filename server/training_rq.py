"""Where a run waits and trains, in the scaled mode (REDIS_URL): an RQ job per run, trained by the
Procfile's worker processes (server.worker) on any host. Web processes never train.

Contract: the seam server.training.Training (what the API uses), implemented by RqTraining; the
worker side is JobWorker, which `python3 -m server.worker` runs.

The queue. POST /api/runs stores the run `queued` (owner QUEUE_OWNER) and enqueues its job on the RQ
queue `playground` (job id = run id, JSON serializer, no pickle), then answers at once. The queue's
length is checked and the job pushed in one Redis transaction (WATCH/MULTI), so PLAYGROUND_QUEUE bounds
the jobs waiting in Redis across every web process and host (past it: QueueFull, a 429); a job that
cannot be queued takes its run back out of the store. Queue positions are counted in the store, as in
the embedded mode.

Round-robin. A job says "a run waits", not which one: the worker that takes a job trains the store's
next waiting run (Store.claim, clients taking turns: Store.queue_places), which may be another run
than the job's. So the RQ queue holds as many jobs as runs wait, each job standing in for any of them,
and one client's many jobs never push another client's first run back more than one place; the order
runs start in is the order of the positions their viewers see. Stopping a waiting run removes its
job if it is still queued (else a job of a run that started stands in for nothing: a worker taking it
finds no run, or the next one, and nothing is lost either way). RQ's job timeout follows the wall-clock
cap: PLAYGROUND_RUN_SECONDS plus TIMEOUT_MARGIN_SECONDS, a backstop behind the trainer's own cap. A
request that may reuse a stored run of the same config (Store.create_run's `reuse`) and finds one is
answered with it, and nothing is queued.

Training. A worker takes one job at a time: it moves the next waiting run from `queued` to `running`
under its own name (a conditional UPDATE: of two workers claiming at once, one wins) and trains it
in the worker process itself (server.trainer; RQ's SimpleWorker, no fork per job, so MNIST stays
loaded between runs). Epochs go to the store, then to the run's Redis Stream (server.broadcast_redis);
progress within a long epoch goes to the stream alone.

Stopping. POST .../stop on any host: a waiting run is stopped in the store and its job taken off the
queue; a running one gets the store's stop flag, which its trainer reads every 0.25 s, so it ends
`stopped` within a second with its epochs kept. (RQ's own stop command kills a work horse; a
SimpleWorker has none, and a killed trainer would lose the epochs it had not stored yet.)

Shutdown and death. SIGTERM (or SIGINT) to a worker ends its run `interrupted` before the next batch,
epochs kept, then the worker exits (RQ's warm shutdown would wait for the whole run, and platforms
send SIGKILL ~30 s after SIGTERM). A worker that dies (kill -9, OOM, a lost host) stops writing its
heartbeat to the store; every process's keeper (server.recovery.Keeper: web processes and workers)
then ends its run `interrupted`, keeping its epochs, and tells its viewers: at once from the same
host (its pid is gone), within PLAYGROUND_STALE seconds plus a keeper round from another one. RQ would
notice only once the job's timeout had passed, at a maintenance round (every ten minutes). Waiting
runs belong to the queue, not to a process: if Redis loses their jobs (restarted without
persistence), the keepers queue them again.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time

import redis
import rq
from rq.job import Job
from rq.serializers import JSONSerializer

from core.datasets import load_mnist
from server.broadcast import STATUS, Broadcast
from server.recovery import Identity, Keeper
from server.redis_client import ERRORS, OutageLog, RedisUnavailable, reaching_redis
from server.run_json import new_run_id
from server.store import Admission, Store, StoreUnavailable, patiently
from server.store_budget import StoreBudget
from server.trainer import Trainer
from server.training import QueueFull

log = logging.getLogger(__name__)

QUEUE_NAME = "playground"
QUEUE_OWNER = "queue:rq"  # the owner of every waiting run: the RQ queue, not a process
TIMEOUT_MARGIN_SECONDS = 120  # RQ's job timeout beyond PLAYGROUND_RUN_SECONDS: a backstop
RESULT_TTL_SECONDS = 60  # a finished job's hash is kept this long (the run's result is in the store)
FAILURE_TTL_SECONDS = 24 * 3600  # a failed job is kept a day in RQ's FailedJobRegistry, for operators
LOST_AFTER_SECONDS = 5.0  # a waiting run whose job is not in the queue this long (twice) is queued again
ENQUEUE_TRIES = 50  # WATCH/MULTI attempts when other processes keep changing the queue meanwhile
REDIS_RETRY_SECONDS = 1.0  # a worker whose Redis went away starts RQ's loop again after this pause
SHUTDOWN_REASON = (
    "The worker training this run shut down (a restart or a deploy); the epochs recorded so far are kept."
)


class JobQueue:
    """The RQ queue of training jobs: one job per run, its id the run's, its argument the run id."""

    def __init__(self, client: redis.Redis, run_seconds: float) -> None:
        self.redis = client
        self.queue = rq.Queue(QUEUE_NAME, connection=client, serializer=JSONSerializer)
        self.timeout = math.ceil(run_seconds) + TIMEOUT_MARGIN_SECONDS
        self._suspects: set[str] = set()

    def enqueue(self, run_id: str, pipeline: redis.client.Pipeline | None = None) -> None:
        self.queue.enqueue_call(
            train_job,
            args=(run_id,),
            job_id=run_id,
            timeout=self.timeout,
            result_ttl=RESULT_TTL_SECONDS,
            failure_ttl=FAILURE_TTL_SECONDS,
            description=f"train run {run_id}",
            pipeline=pipeline,
        )

    def enqueue_within(self, run_id: str, places: int) -> bool:
        """Enqueue unless `places` jobs already wait; False if they do. The length check and the push
        are one transaction: another process changing the queue in between makes it try again."""
        with self.redis.pipeline() as pipe:
            for _ in range(ENQUEUE_TRIES):
                try:
                    pipe.watch(self.queue.key)
                    if pipe.llen(self.queue.key) >= places:
                        return False
                    pipe.multi()
                    self.enqueue(run_id, pipeline=pipe)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue
        raise RedisUnavailable("The training queue is too busy at the moment; try again in a moment.")

    def waiting(self) -> int:
        return self.queue.count

    def remove(self, run_id: str) -> None:
        self.queue.remove(run_id)
        self.redis.delete(Job.key_for(run_id))

    def requeue_lost(self, store: Store) -> None:
        """Queue again the waiting runs that no job stands for (Redis lost their jobs, or a worker took
        one and died before starting a run), once seen so at two rounds in a row: a job a worker has
        just taken is started within milliseconds. Jobs stand in for any waiting run, so a queued job
        whose own run is no longer waiting counts for one that has none. A job too many is harmless
        (the worker taking it finds no run waiting)."""
        queued = set(self.queue.get_job_ids())
        waiting = store.waiting(QUEUE_OWNER)  # oldest first: they keep their order
        now = time.time()
        spare = len(queued - {run_id for run_id, _ in waiting})
        lost = [
            run_id
            for run_id, created_at in waiting
            if run_id not in queued and now - created_at > LOST_AFTER_SECONDS
        ][spare:]
        for run_id in lost:
            if run_id in self._suspects:
                log.warning("run %s: its job was no longer queued in Redis; queued again", run_id)
                self.enqueue(run_id)
        self._suspects = set(lost)


class RqTraining:
    """The web process's side: submit, stop, and a keeper (no heartbeat: a web process owns no run)."""

    def __init__(
        self,
        store: Store,
        broadcast: Broadcast,
        client: redis.Redis,
        queue_size: int,
        run_seconds: float,
        stale_seconds: float,
        store_mb: float = 0,
    ) -> None:
        self.store = store
        self.broadcast = broadcast
        self.queue = JobQueue(client, run_seconds)
        self.queue_size = queue_size
        self._waiting = 0  # jobs waiting in Redis, as the keeper last saw (for /healthz)
        self.outage = OutageLog(log)
        self.keeper = Keeper(
            store,
            Identity.of_this_process(),
            stale_seconds,
            broadcast,
            chores=[self._look_at_the_queue, StoreBudget(store, store_mb).chore],
            beats=False,
            spare=(QUEUE_OWNER,),
        )

    def start(self) -> None:
        self.keeper.round()
        self.keeper.start()

    def shutdown(self) -> None:
        self.keeper.stop()

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
        """Store a new queued run and enqueue its job: (its id, False). With `reuse`, a stored run of the
        same query that is done, queued or running answers instead and nothing is queued: (its id, True).
        QueueFull past PLAYGROUND_QUEUE waiting jobs (plus `beyond`: a sweep's later cells),
        RedisUnavailable (a 503) when Redis cannot be reached: then the new run is taken back out."""
        run_id = new_run_id()
        answer = self.store.create_run(
            run_id,
            config,
            query,
            QUEUE_OWNER,
            total_epochs,
            token_hash=token_hash,
            reuse=reuse,
            admit=admit,
        )
        if answer != run_id:
            return answer, True
        try:
            with reaching_redis():
                queued = self.queue.enqueue_within(run_id, self.queue_size + beyond)
        except BaseException:
            self._take_back(run_id)
            raise
        if not queued:
            self._take_back(run_id)
            raise QueueFull(f"{self.queue_size} runs are already waiting for a training slot.")
        return run_id, False

    def _take_back(self, run_id: str) -> None:
        """Remove a run whose job could not be queued (the client is told to try again)."""
        try:
            self.store.delete_waiting(run_id)
        except StoreUnavailable:  # left waiting: the keepers queue its job once Redis answers
            log.warning("run %s: could not be queued, nor removed; it will be queued later", run_id)

    def stop(self, run_id: str) -> None:
        if self.store.stop_queued(run_id, "Stopped before it started."):
            try:
                self.queue.remove(run_id)
            except ERRORS as error:  # a worker that takes the job finds the run stopped and skips it
                log.warning("run %s: stopped; its job stays queued for now: %s", run_id, error)
            self.broadcast.publish(run_id, STATUS)
            self.broadcast.queue_changed()
            return
        self.store.request_stop(run_id)  # its worker reads the flag every 0.25 s

    def counts(self) -> dict[str, int]:
        return {"training": 0, "queued": self._waiting}

    def _look_at_the_queue(self) -> None:
        try:
            self._waiting = self.queue.waiting()
            self.queue.requeue_lost(self.store)
            self.outage.back()
        except ERRORS as error:
            self.outage.warning("the training queue cannot be reached: %s", error)


# --- the worker process's side ---------------------------------------------------------------------

_worker: JobWorker | None = None  # set by JobWorker.run() in a worker process: what train_job uses


def train_job(run_id: str) -> None:
    """The RQ job: train one run (in a worker started by `python3 -m server.worker`)."""
    if _worker is None:
        raise RuntimeError("Training jobs run in the playground's worker: python3 -m server.worker")
    _worker.train(run_id)


class RqWorker(rq.SimpleWorker):
    """RQ's SimpleWorker (jobs run in this process), whose SIGTERM/SIGINT also ends the run it is
    training `interrupted` before the next batch, instead of waiting for the whole run to finish."""

    closing: threading.Event  # the trainer's: set by the shutdown request
    max_connection_wait_time = 4.0  # Redis away: try again at least this often (RQ's default: 60 s)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        self.closing.set()

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None):
        """No new job once shutting down (a signal may come before RQ's handlers are in place)."""
        if self.closing.is_set():
            return None
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)


class JobWorker:
    """One worker process: RQ's loop taking one job at a time, the trainer, and a keeper that writes
    this process's heartbeat to the store (so others can tell when it dies) and does recovery."""

    def __init__(
        self,
        store: Store,
        broadcast: Broadcast,
        client: redis.Redis,
        run_seconds: float,
        stale_seconds: float,
        preload_mnist: bool = False,
        store_mb: float = 0,
    ) -> None:
        self.store = store
        self.broadcast = broadcast
        self.redis = client
        self.queue = JobQueue(client, run_seconds)
        self.identity = Identity.of_this_process()
        budget = StoreBudget(store, store_mb)
        self.trainer = Trainer(store, broadcast, run_seconds, SHUTDOWN_REASON, after_run=budget.enforce)
        self.keeper = Keeper(
            store,
            self.identity,
            stale_seconds,
            broadcast,
            chores=[self.trainer.finish_unended, self._requeue_lost, budget.chore],
            spare=(QUEUE_OWNER,),
        )
        self.preload_mnist = preload_mnist
        self.outage = OutageLog(log)

    def train(self, job_id: str) -> None:
        """Take the next waiting run (clients taking turns; not necessarily the job's own) and train it."""
        run_id, _ = patiently(lambda: self.store.claim(QUEUE_OWNER, self.identity.owner))
        if run_id is None:
            log.info("job %s: no run is waiting (stopped, or taken already): skipped", job_id)
            return
        self.broadcast.queue_changed()
        self.trainer.train(run_id)

    def run(self) -> int:
        """Take jobs until SIGTERM or SIGINT; RQ's loop starts again after Redis went away. Returns the
        process's exit status."""
        global _worker
        _worker = self
        self._on_signal_close()  # until RQ's loop puts its own handlers in place
        self.keeper.round()
        self.keeper.start()
        if self.preload_mnist:
            load_mnist()
        turn = 0
        try:
            while not self.trainer.closing.is_set():
                turn += 1
                try:
                    worker = RqWorker(
                        [self.queue.queue],
                        name=f"{self.identity.owner}.{turn}",
                        connection=self.redis,
                        serializer=JSONSerializer,
                    )
                    worker.closing = self.trainer.closing
                    worker.work(logging_level="INFO")
                except ERRORS as error:
                    self.outage.warning("Redis cannot be reached (%s); trying again", error)
                self._on_signal_close()  # between two RQ loops, a signal only has to say "stop"
                self.trainer.closing.wait(REDIS_RETRY_SECONDS)
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.trainer.closing.set()
        self.keeper.stop()
        try:
            for run_id in self.store.interrupt(self.identity.owner, SHUTDOWN_REASON):
                self.broadcast.publish(run_id, STATUS)
            self.store.forget_owner(self.identity.owner)
        except StoreUnavailable as error:  # others' keepers will interrupt what is left
            log.warning("could not say goodbye to the store: %s", error)

    def _on_signal_close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.trainer.closing.set())

    def _requeue_lost(self) -> None:
        try:
            self.queue.requeue_lost(self.store)
            self.outage.back()
        except ERRORS as error:
            self.outage.warning("the training queue cannot be reached: %s", error)
