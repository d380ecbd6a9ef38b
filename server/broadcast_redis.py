"""How a stored epoch reaches viewers, in the scaled mode: one Redis Stream per run, read by one thread
per web process (the seam: server.broadcast).

Publishing (any process: the worker's recorder and trainer, a web process stopping a run, a keeper
ending a dead worker's run) appends to the run's stream, `playground:run:<id>`, with XADD ... MAXLEN ~
STREAM_MAXLEN: old entries go, since viewers replay from the store, never from the stream. Every XADD
renews the stream's expiry, so a run's stream disappears STREAM_TTL_SECONDS after its last event, and
Redis holds the last hundred or two events of the runs training now (a 2D epoch's event is ~7 kB).
Queue moves go to one stream, `playground:queue`. If Redis is away, publishing logs it and goes on:
the epoch is in the store already, and streams find it there on their fallback timer.

Reading (web processes): ONE reader thread per process, not one Redis connection per viewer. It
XREADs (BLOCK) the streams of the runs this process's viewers watch, plus the queue stream and this
process's own wake-up stream, and hands each entry to the viewers of its run (server.broadcast.Viewers).
A viewer that starts watching a run nobody here watched yet fixes where the reader starts in that run's
stream (its last entry, read before the viewer reads the store, so the two overlap and nothing falls in
between) and wakes the reader with an entry in the wake-up stream. Once the last viewer of a run
leaves, the reader stops reading its stream. If Redis goes away, the reader tries again every second or
two; meanwhile streams keep their viewers and read the store on their fallback timer.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from server.broadcast import QUEUE, Message, Viewers, Watch
from server.redis_client import ERRORS, OutageLog

log = logging.getLogger(__name__)

RUN_STREAM = "playground:run:{}"
QUEUE_STREAM = "playground:queue"
WAKE_STREAM = "playground:wake:{}"
STREAM_MAXLEN = 100  # entries kept per stream, about (MAXLEN ~): a live viewer needs the last few
# A stream expires this long after its last entry: soon after its run ends. (Should it expire while its
# run is in a long epoch, the next entry makes a new stream, later entries still: the reader goes on.)
STREAM_TTL_SECONDS = 60
BLOCK_MS = 2000  # how long one XREAD waits; below the client's command timeout (server.redis_client)
READ_COUNT = 500  # entries one XREAD returns at most, per stream
RETRY_SECONDS = (0.25, 0.5, 1.0, 2.0)  # the reader's waits while Redis is away, then every 2 s


class RedisBroadcast:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self.viewers = Viewers()
        self._lock = threading.Lock()
        self._positions: dict[str, bytes] = {}  # run id -> the last entry read from its stream
        self._queue_position = b"0-0"
        self._wake_key = WAKE_STREAM.format(secrets.token_hex(6))
        self._wake_position = b"0-0"
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name="stream-reader", daemon=True)
        self.outage = OutageLog(log)

    # --- publishing ----------------------------------------------------------------------------

    def publish(self, run_id: str, kind: str, data: str = "", event_id: int | None = None) -> None:
        fields: dict[str, str | int] = {"kind": kind, "data": data}
        if event_id is not None:
            fields["id"] = event_id
        self._append(RUN_STREAM.format(run_id), fields)

    def queue_changed(self) -> None:
        self._append(QUEUE_STREAM, {"kind": QUEUE})

    def _append(self, key: str, fields: dict) -> None:
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(key, fields, maxlen=STREAM_MAXLEN, approximate=True)
                pipe.expire(key, STREAM_TTL_SECONDS)
                pipe.execute()
        except ERRORS as error:
            self.outage.warning("could not publish to %s (viewers will read the store): %s", key, error)

    # --- watching ------------------------------------------------------------------------------

    @contextmanager
    def watch(self, run_id: str) -> Iterator[Watch]:
        with self.viewers.watch(run_id) as watch:
            self._follow(run_id)
            yield watch

    def streams(self) -> int:
        return self.viewers.streams()

    def close_streams(self) -> None:
        self.viewers.close_all()

    def _follow(self, run_id: str) -> None:
        """Make sure the reader reads this run's stream, from an entry no later than now."""
        with self._lock:
            if run_id in self._positions:
                return
        try:
            last = self.redis.xrevrange(RUN_STREAM.format(run_id), count=1)
            start = last[0][0] if last else b"0-0"
        except ERRORS:
            start = b"0-0"  # from the stream's start once Redis is back: older entries are skipped
        with self._lock:
            self._positions.setdefault(run_id, start)
        self._wake()

    def _wake(self) -> None:
        """Get the reader out of its wait (on the event while nobody watched, or in XREAD)."""
        self._woken.set()
        try:
            self.redis.xadd(self._wake_key, {"kind": "wake"}, maxlen=10, approximate=True)
            self.redis.expire(self._wake_key, STREAM_TTL_SECONDS)
        except ERRORS:
            pass

    # --- the reader thread ---------------------------------------------------------------------

    def start(self) -> None:
        try:
            last = self.redis.xrevrange(QUEUE_STREAM, count=1)
            self._queue_position = last[0][0] if last else b"0-0"
        except ERRORS:
            pass
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._wake()
            self._thread.join(BLOCK_MS / 1000 + 5)

    def _streams(self) -> dict[str, bytes] | None:
        """What to read next: the watched runs' streams (the others are dropped), the queue's and the
        wake-up stream; None while nobody watches."""
        with self._lock:
            watched = set(self.viewers.watched())
            for run_id in list(self._positions):
                if run_id not in watched:
                    del self._positions[run_id]
            if not self._positions:
                return None
            streams = {RUN_STREAM.format(run_id): last for run_id, last in self._positions.items()}
        streams[QUEUE_STREAM] = self._queue_position
        streams[self._wake_key] = self._wake_position
        return streams

    def _read(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            streams = self._streams()
            if streams is None:
                self._woken.wait(1.0)
                self._woken.clear()
                continue
            try:
                replies = self.redis.xread(streams, count=READ_COUNT, block=BLOCK_MS)
            except ERRORS as error:
                self.outage.warning("reading the event streams failed (viewers read the store): %s", error)
                self._stopping.wait(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
                continue
            except Exception:
                log.exception("reading the event streams failed")
                self._stopping.wait(RETRY_SECONDS[-1])
                continue
            if failures:
                self.outage.back()
                failures = 0
            for key, entries in replies or ():
                self._deliver(key.decode(), entries)

    def _deliver(self, key: str, entries: list) -> None:
        last = entries[-1][0]
        if key == self._wake_key:
            self._wake_position = last
            return
        if key == QUEUE_STREAM:
            self._queue_position = last
            self.viewers.deliver_to_all(Message(QUEUE))
            return
        run_id = key.removeprefix(RUN_STREAM.format(""))
        with self._lock:
            if run_id in self._positions:
                self._positions[run_id] = last
        for _, fields in entries:
            event_id = fields.get(b"id")
            message = Message(
                fields[b"kind"].decode(),
                fields.get(b"data", b"").decode(),
                None if event_id is None else int(event_id),
            )
            self.viewers.deliver(run_id, message)
