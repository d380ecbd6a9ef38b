"""Server-sent events for one run, served from the store so any server process can serve any run.

The stream sends `retry:` first, then the recorded epochs after the client's Last-Event-ID (all of
them for a new viewer), then each new epoch as it is stored, `status` events when the status or the
queue position changes, `progress` events (no id: never replayed) while a long epoch trains, and
`done` last. Between events it sleeps on the in-process notifier.

If the store cannot answer for a while (busy, read-only), the stream keeps its viewer and tries
again at the next wake-up; the events it then sends are the same, in order, none twice.

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

from server.broadcast_local import Notifier, ProgressBoard
from server.run_json import run_warning
from server.store import FINAL, Status, Store, StoreUnavailable

RETRY_MS = 2000  # how long a browser waits before reconnecting


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
    where peeking is not allowed) it answers False and a failing write notices instead.
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket):
        return lambda: False

    def gone() -> bool:
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
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
    notifier: Notifier,
    run_id: str,
    after: int,
    heartbeat: float,
    client_gone: Callable[[], bool] = lambda: False,
    fallback: float = 1.0,
    progress: ProgressBoard | None = None,
) -> Iterator[str]:
    """The event stream of one run, starting after epoch `after`; `progress`: where the trainer's
    progress within an epoch is read (None: no progress events).

    It sleeps until the notifier says the run changed (woken by this process's recorder, or by the
    store watcher for runs of other processes), at most `fallback` seconds, then reads the store.
    """
    yield f"retry: {RETRY_MS}\n\n"
    last_write = time.monotonic()
    last_status = None
    last_progress = None
    with notifier.watch(run_id) as watch:
        while True:
            seen = watch.version
            try:
                state = store.status(run_id)  # status and epoch count come from one row: consistent
                if state is None:
                    return
                status, epochs_done = state
                if epochs_done > after:
                    for epoch, data in store.events_after(run_id, after):
                        yield format_event("epoch", data, epoch)
                        after = epoch
                    last_write = time.monotonic()
                position = store.queue_position(run_id) if status == Status.QUEUED else None
                ended = (store.get_run(run_id) or {}) if status in FINAL else {}  # its reason, test figures
                if (status, position) != last_status:
                    last_status = (status, position)
                    yield format_event("status", json.dumps(_status_data(status, position, ended)))
                    last_write = time.monotonic()
                if status == Status.RUNNING and progress is not None:
                    latest = progress.latest(run_id)
                    # (progress of an epoch already sent is stale: its epoch event says more)
                    if latest is not None and latest["epoch"] > after and latest != last_progress:
                        last_progress = latest
                        yield format_event("progress", json.dumps(latest))
                        last_write = time.monotonic()
                if status in FINAL:
                    warning = run_warning(ended, store.metrics(run_id), store) if ended else None
                    yield format_event("done", json.dumps(_done_data(status, ended, warning)))
                    return
            except StoreUnavailable:  # busy or read-only for a while: keep the viewer, look again later
                pass
            if client_gone():
                return
            now = time.monotonic()
            if now - last_write >= heartbeat:
                yield ": ping\n\n"
                last_write = now
            watch.wait(seen, max(0.0, min(fallback, last_write + heartbeat - now)))


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
