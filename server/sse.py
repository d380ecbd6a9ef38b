"""Server-sent events for one run: replays from the store, live events from the broadcast, so any
server process (on any host) can serve any run.

The stream sends `retry:` first, then the recorded epochs after the client's Last-Event-ID (all of
them for a new viewer) from the store, then each new epoch as the broadcast (server.broadcast) brings
it, `status` events when the status or the queue position changes, `progress` events (no id: never
replayed) while a long epoch trains, and `done` last (with the verdict's `warning` when the run's curves
call for one). Between events it sleeps on its broadcast watch. Every epoch it sends is in the store
already, so a resume with Last-Event-ID (on this host or another) continues exactly where it stopped.

If the store cannot answer for a while (busy, read-only, unreachable), the stream keeps its viewer and
tries again at the next message or after `fallback` seconds; the events it then sends are the same, in
order, none twice.

A stream lasts at most `lifetime` seconds (PLAYGROUND_STREAM_SECONDS): then the server ends the response,
and the browser's EventSource reconnects after `retry` with Last-Event-ID and goes on from the store,
missing nothing. At shutdown (a CLOSE message) a stream sends what the store has (a run the shutdown
ended: its status and `done`) and ends, or follows a run still going for CLOSE_WAIT_SECONDS more (the
other processes of the host end theirs too), then ends (a browser reconnects to another host).

A viewer that leaves is noticed at the next wake-up by peeking at its socket (end of file), at the
latest after `fallback` seconds, or when a write fails; the generator then returns and frees its thread.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator

from server.broadcast import CLOSE, EPOCH, QUEUE, STATUS, STORED, Broadcast, Message
from server.green import original, patched
from server.run_json import run_warning
from server.store import FINAL, Status, Store, StoreUnavailable

RETRY_MS = 2000  # how long a browser waits before reconnecting
# At shutdown, how long a stream whose run has not ended yet goes on following it: the run another
# process of this host trains ends `interrupted` within this, and its viewers get that and `done`.
CLOSE_WAIT_SECONDS = 3.0


def format_event(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.split("\n")]
    return "\n".join(lines) + "\n\n"


def parse_last_event_id(value: str | None) -> int:
    """The epoch the client last saw (0: none). Raises ValueError for anything but a small integer."""
    if value is None or value.strip() == "":
        return 0
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise ValueError(value)
    return int(value)


def disconnect_probe(environ: dict) -> Callable[[], bool]:
    """A function that tells whether the client closed its end, by peeking at the socket.

    gunicorn and werkzeug both put the client socket in the environ. Without one (or over TLS,
    where peeking is not allowed) it answers False and a failing write notices instead. Under gevent it
    polls with the standard library's poll (timeout 0: a system call that never blocks the loop).
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket):
        return lambda: False

    poll = original("select", "poll") if hasattr(select, "poll") or patched() else None

    def gone() -> bool:
        try:
            if poll is not None:
                poller = poll()
                poller.register(sock, select.POLLIN | getattr(select, "POLLRDHUP", 0))
                events = poller.poll(0)
                if not events:
                    return False
                if events[0][1] & (select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)):
                    return True
            elif not select.select([sock], [], [], 0)[0]:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    return gone


def run_events(
    store: Store,
    broadcast: Broadcast,
    run_id: str,
    after: int,
    heartbeat: float,
    client_gone: Callable[[], bool] = lambda: False,
    fallback: float = 1.0,
    lifetime: float = float("inf"),
) -> Iterator[str]:
    """The event stream of one run, starting after epoch `after`, for at most `lifetime` seconds.

    It reads the store first (the replay), then follows the broadcast's messages (server.broadcast):
    an epoch message that is the next one is sent as it is; anything else (a status change, a gap in
    the epochs, a queue move while waiting) sends it back to the store. Without any message for
    `fallback` seconds it looks at the store anyway.
    """
    ends_at = time.monotonic() + lifetime
    yield f"retry: {RETRY_MS}\n\n"
    stream = _Stream(store, run_id, after)
    with broadcast.watch(run_id) as watch:
        yield from stream.look()
        quiet_since = stream.last_write = time.monotonic()
        while not stream.ended:
            if client_gone():
                return
            now = time.monotonic()
            end = min(ends_at, stream.close_by)
            if now >= end:  # the browser reconnects with Last-Event-ID
                return
            if now - stream.last_write >= heartbeat:
                yield ": ping\n\n"
                stream.last_write = now
            timeout = min(quiet_since + fallback, stream.last_write + heartbeat, end) - now
            messages = watch.wait(max(0.0, timeout))
            if not messages:
                if time.monotonic() - quiet_since >= fallback:
                    yield from stream.look()
                    quiet_since = time.monotonic()
                continue
            quiet_since = time.monotonic()
            for message in messages:
                yield from stream.follow(message)
                if stream.ended:
                    return


class _Stream:
    """Where one stream is: the last epoch sent, the last status sent, whether `done` went out."""

    def __init__(self, store: Store, run_id: str, after: int) -> None:
        self.store = store
        self.run_id = run_id
        self.after = after
        self.last_status: tuple | None = None
        self.last_write = time.monotonic()
        self.ended = False
        self.close_by = float("inf")  # at shutdown: when the stream ends even if its run has not

    def follow(self, message: Message) -> Iterator[str]:
        """The events a broadcast message means for this stream."""
        if message.kind == EPOCH and message.id == self.after + 1:
            yield self._sent(format_event("epoch", message.data, message.id))
            self.after = message.id
        elif message.kind in (EPOCH, STORED):
            if message.id > self.after:  # epochs this stream has not seen: they are in the store
                yield from self.look()
        elif message.kind == QUEUE:
            if self.last_status is not None and self.last_status[0] == Status.QUEUED:
                yield from self.look()
        elif message.kind == STATUS:
            yield from self.look()
        elif message.kind == CLOSE:  # shutting down: a run ending now has its end in the store soon
            yield from self.look()
            self.close_by = min(self.close_by, time.monotonic() + CLOSE_WAIT_SECONDS)
        elif message.id is None or message.id > self.after:
            # live-only (never stored): passed on as it comes, unless it is about an epoch sent already
            yield self._sent(format_event(message.kind, message.data))

    def look(self) -> Iterator[str]:
        """Everything the store has that this stream has not sent: epochs, a new status, `done`. If the
        store cannot answer (busy, read-only, unreachable), the viewer is kept and it looks later."""
        try:
            state = self.store.status(self.run_id)  # status and epoch count come from one row: consistent
            if state is None:
                self.ended = True
                return
            status, epochs_done = state
            if epochs_done > self.after:  # a page of epochs at a time: a long replay never sits in memory
                for page in self.store.event_pages(self.run_id, self.after):
                    for epoch, data in page:
                        yield self._sent(format_event("epoch", data, epoch))
                        self.after = epoch
            position = self.store.queue_position(self.run_id) if status == Status.QUEUED else None
            ended = (self.store.get_run(self.run_id) or {}) if status in FINAL else {}  # reason, test figures
            if (status, position) != self.last_status:
                self.last_status = (status, position)
                yield self._sent(format_event("status", json.dumps(_status_data(status, position, ended))))
            if status in FINAL:
                warning = run_warning(ended, self.store.metrics(self.run_id), self.store) if ended else None
                yield self._sent(format_event("done", json.dumps(_done_data(status, ended, warning))))
                self.ended = True
        except StoreUnavailable:
            pass

    def _sent(self, block: str) -> str:
        self.last_write = time.monotonic()
        return block


def _status_data(status: str, position: int | None, ended: dict) -> dict:
    data: dict = {"status": status}
    if position is not None:
        data["position"] = position
    if ended.get("reason"):
        data["reason"] = ended["reason"]
    return data


def _done_data(status: str, run: dict, warning: dict | None) -> dict:
    data: dict = {"status": status}
    if run.get("test_acc") is not None:
        data["test_acc"] = run["test_acc"]
        data["test_loss"] = run["test_loss"]
    if run.get("reason"):
        data["reason"] = run["reason"]
    if warning is not None:
        data["warning"] = warning
    return data
