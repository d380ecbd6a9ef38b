"""The seam "how a stored epoch reaches viewers": what the rest of the server uses, in either mode.

Two implementations, chosen by create_app from the settings:
- server.broadcast_local (embedded mode): this process's viewers hear of its own runs at once, and a
  store watcher looks in the store for the runs other processes train;
- server.broadcast_redis (scaled mode, REDIS_URL): one Redis Stream per run; one reader thread per web
  process reads the streams its viewers watch and fans the messages out to them.

Contract. Whoever changes a run calls `publish(run_id, kind, data, event_id)` AFTER the change is in
the store (so nothing a viewer is sent can be missing from the store): the recorder publishes each
stored epoch (EPOCH, its SSE data, its number); training publishes STATUS when a run starts or ends,
and `queue_changed()` when queue positions move. Other kinds are live-only: never stored with the
epochs, passed to viewers as they come; the recorder publishes PROGRESS (the trainer's progress within
a long epoch; id: the epoch it is within, so a stream drops one about an epoch it has sent already).
Publishing never raises.

At shutdown, `close_streams()` tells every stream of the process CLOSE, after the runs it trained have
ended `interrupted`: each stream sends what the store has (a run that ended: its status and `done`) and
ends; a viewer of a run still going elsewhere reconnects with Last-Event-ID to another process.

Streams live on the event loop's thread under gevent: `Viewers` hands a message from any other OS
thread (a training thread) over through the loop (server.green.to_loop).

A stream (server.sse) opens `watch(run_id)`, THEN reads the store, then takes the messages that came
since (`Watch.wait`): nothing published after the store read is missed. Messages only ever save a
stream a trip to the store or tell it when to look; the store stays the truth (replays, resumes).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from server.green import to_loop

EPOCH = "epoch"  # an epoch just stored: data is its SSE event's data, id its epoch number
STORED = "stored"  # epochs up to id are in the store (the store watcher's news of other processes' runs)
STATUS = "status"  # the run's status changed: look at the store
QUEUE = "queue"  # queue positions moved: viewers of waiting runs look at the store
PROGRESS = "progress"  # live-only: {epoch, batch, batches, seconds} (server.progress), id its epoch
CLOSE = "close"  # the process shuts down: a stream sends what the store has (status, `done`), then ends

INBOX_SIZE = 256  # messages a slow stream may have waiting before it falls back to the store


@dataclass(frozen=True)
class Message:
    kind: str
    data: str = ""
    id: int | None = None


LOOK = Message(STATUS)  # what a stream that lost messages is told: look at the store


class Watch:
    """One stream's inbox for one run, filled by the broadcast, emptied by the stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._news = threading.Event()  # under gevent, gevent's: the stream's greenlet sleeps on it
        self._messages: deque[Message] = deque()
        self._overflowed = False

    def put(self, message: Message) -> None:
        with self._lock:
            if len(self._messages) >= INBOX_SIZE:  # the stream cannot keep up: it reads the store instead
                self._messages.clear()
                self._overflowed = True
            self._messages.append(message)
        self._news.set()

    def wait(self, timeout: float) -> list[Message]:
        """The messages since the last call, waiting up to `timeout` seconds for one (an empty list
        after the timeout, or now and then at once)."""
        if not self._messages:
            self._news.wait(timeout)
        self._news.clear()  # before taking: a message put after this sets it again
        with self._lock:
            messages = list(self._messages)
            if self._overflowed:
                messages.insert(0, LOOK)
                self._overflowed = False
            self._messages.clear()
        return messages


class Viewers:
    """This process's open streams, by run: where both broadcasts deliver messages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, set[Watch]] = {}
        self._closing = False

    @contextmanager
    def watch(self, run_id: str) -> Iterator[Watch]:
        watch = Watch()
        with self._lock:
            self._runs.setdefault(run_id, set()).add(watch)
            if self._closing:
                watch.put(Message(CLOSE))
        try:
            yield watch
        finally:
            with self._lock:
                watches = self._runs[run_id]
                watches.discard(watch)
                if not watches:
                    del self._runs[run_id]

    def deliver(self, run_id: str, message: Message) -> None:
        """Hand a message to the run's streams (on the event loop's thread, whichever thread calls)."""
        to_loop(self._deliver, run_id, message)

    def deliver_to_all(self, message: Message) -> None:
        to_loop(self._deliver_to_all, message)

    def _deliver(self, run_id: str, message: Message) -> None:
        with self._lock:
            watches = list(self._runs.get(run_id, ()))
        for watch in watches:
            watch.put(message)

    def _deliver_to_all(self, message: Message) -> None:
        with self._lock:
            watches = [watch for run in self._runs.values() for watch in run]
        for watch in watches:
            watch.put(message)

    def close_all(self) -> None:
        """Shutting down: every open stream (and any opened from now on) is told CLOSE."""
        with self._lock:
            self._closing = True
        self.deliver_to_all(Message(CLOSE))

    def watched(self) -> list[str]:
        """The runs that have a viewer in this process."""
        with self._lock:
            return list(self._runs)

    def streams(self) -> int:
        """How many streams of this process are open (for tests and /healthz)."""
        with self._lock:
            return sum(len(watches) for watches in self._runs.values())


class Broadcast(Protocol):
    """How a stored epoch reaches viewers (see the module docstring)."""

    def publish(self, run_id: str, kind: str, data: str = "", event_id: int | None = None) -> None: ...

    def queue_changed(self) -> None: ...

    def watch(self, run_id: str) -> AbstractContextManager[Watch]: ...

    def streams(self) -> int: ...

    def close_streams(self) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...
