"""How many event streams one client may hold open at once (PLAYGROUND_CLIENT_STREAMS), counted in this
server process: with N gunicorn workers a client holds at most N times the cap on one host.

`open(client, stream)` takes one of the client's places and returns the stream wrapped so that the
place is given back when the response is closed (the viewer left, the stream ended, or the server never
started it); None when the client holds its cap already (the API answers 429).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

STREAM_RETRY_AFTER_SECONDS = 10  # the 429's Retry-After: a stream ends with its run or its lifetime


class StreamCap:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}

    def open(self, client: str, stream: Iterable[str]) -> _Held | None:
        with self._lock:
            if self._open.get(client, 0) >= self.limit:
                return None
            self._open[client] = self._open.get(client, 0) + 1
        return _Held(self, client, stream)

    def held(self, client: str) -> int:
        with self._lock:
            return self._open.get(client, 0)

    def _give_back(self, client: str) -> None:
        with self._lock:
            left = self._open[client] - 1
            if left:
                self._open[client] = left
            else:
                del self._open[client]


class _Held:
    """A response body that holds one of its client's places until it is closed (once)."""

    def __init__(self, cap: StreamCap, client: str, stream: Iterable[str]) -> None:
        self._cap = cap
        self._client = client
        self._stream = stream
        self._closed = False

    def __iter__(self) -> Iterator[str]:
        return iter(self._stream)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._cap._give_back(self._client)
