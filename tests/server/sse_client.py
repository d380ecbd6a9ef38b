"""A small server-sent-events reader for tests, over the Flask test client or a real socket."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Event:
    """One block of the stream: an event (with id and data), a `retry:` or a comment such as ping."""

    event: str | None = None
    id: str | None = None
    data: str | None = None
    retry: int | None = None
    comment: str | None = None

    def json(self) -> dict:
        return json.loads(self.data)


def parse_blocks(lines: Iterable[str]) -> Iterator[Event]:
    """Events from the stream's lines (as the browser's EventSource reads them)."""
    current = Event()
    seen = False
    for line in lines:
        line = line.rstrip("\r\n")
        if line == "":
            if seen:
                yield current
            current, seen = Event(), False
            continue
        seen = True
        if line.startswith(":"):
            current.comment = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            current.data = value if current.data is None else current.data + "\n" + value
        elif name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "retry":
            current.retry = int(value)


def _lines_of_chunks(chunks: Iterable[bytes]) -> Iterator[str]:
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            yield line + "\n"
    if buffer:
        yield buffer


def client_events(response) -> Iterator[Event]:
    """Events of a Flask test-client response opened with buffered=False, as they are produced."""
    return parse_blocks(_lines_of_chunks(response.response))


def read_until_done(events: Iterator[Event], limit: float = 60) -> list[Event]:
    """Every block up to and including `done` (fails if it takes longer than limit seconds)."""
    started = time.monotonic()
    seen = []
    for event in events:
        seen.append(event)
        if event.event == "done":
            return seen
        assert time.monotonic() - started < limit, f"no done event within {limit} s"
    raise AssertionError(f"the stream ended without a done event: {[e.event for e in seen]}")


class SocketStream:
    """A real HTTP connection to a server's event stream (http.client, so it can be cut mid-way)."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
        )
        self.client_port = self.connection.sock.getsockname()[1]  # the response may take the socket
        self.response = self.connection.getresponse()

    def events(self) -> Iterator[Event]:
        def lines() -> Iterator[str]:
            while True:
                line = self.response.readline()
                if not line:
                    return
                yield line.decode()

        return parse_blocks(lines())

    def close(self) -> None:
        """Close for real: the response's file keeps the socket open until it is closed too."""
        self.response.close()
        self.connection.close()


def stream_until_done(url: str, headers: dict[str, str] | None = None, limit: float = 60) -> list[Event]:
    stream = SocketStream(url, headers, timeout=limit)
    try:
        assert stream.response.status == 200, stream.response.status
        return read_until_done(stream.events(), limit)
    finally:
        stream.close()


class Viewer:
    """An event stream read by a thread of its own, so a test can watch several at once."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.stream = SocketStream(url, headers, timeout=60)
        self.client_port = self.stream.client_port
        self.events: list[Event] = []
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for event in self.stream.events():
                self.events.append(event)
                if event.event == "done":
                    break
        except (OSError, AttributeError, ValueError):
            pass  # the worker died under us, or the test closed the stream
        finally:
            self.ended.set()

    def epochs(self) -> list[int]:
        return [int(event.id) for event in self.events if event.event == "epoch"]

    def ending(self) -> list[tuple[str, dict]]:
        """The last two `status` and `done` events, (name, data): what a viewer hears at the end."""
        return [(e.event, e.json()) for e in self.events if e.event in ("status", "done")][-2:]

    def close(self) -> None:
        self.stream.close()
