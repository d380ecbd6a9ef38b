"""Slow clients: a request body must finish arriving within PLAYGROUND_BODY_SECONDS of the request's start,
or the answer is 408 with a sentence and the connection closes.

WSGI middleware: `wsgi.input` is wrapped so that each read waits on the socket at most until the
request's deadline (the socket's timeout set to the time left, and put back after). The headers' limit
is the server's: gunicorn's gevent worker reads a request's headers (the first request's too) within its
`--keep-alive` seconds and closes a connection that takes longer (the Procfile sets it). A request
without a body never reads, so it costs nothing.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from server.errors import ApiError


class BodyDeadline:
    def __init__(self, app: Callable, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket) and environ.get("wsgi.input") is not None:
            environ["wsgi.input"] = _DeadlineInput(
                environ["wsgi.input"], sock, time.monotonic() + self.seconds, self.seconds
            )
        return self.app(environ, start_response)


class _DeadlineInput:
    def __init__(self, stream: Any, sock: socket.socket, deadline: float, seconds: float) -> None:
        self._stream = stream
        self._sock = sock
        self._deadline = deadline
        self._seconds = seconds

    def _bounded(self, read: Callable[[], Any]) -> Any:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        before = self._sock.gettimeout()
        self._sock.settimeout(left)
        try:
            return read()
        except TimeoutError:
            raise self._late() from None
        finally:
            try:
                self._sock.settimeout(before)
            except OSError:
                pass

    def _late(self) -> ApiError:
        return ApiError(
            408,
            f"The request body did not arrive within {self._seconds:g} s; send it at once.",
            "body",
            headers={"Connection": "close"},
        )

    def read(self, size: int = -1) -> bytes:
        return self._bounded(lambda: self._stream.read(size))

    def readinto(self, buffer: bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        return self._bounded(lambda: self._stream.readline(size))

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def __getattr__(self, name: str) -> Any:  # anything else the server's stream has
        return getattr(self._stream, name)
