"""Redis, for the scaled mode (REDIS_URL): the URL checked, one client per process with short timeouts,
and Redis being away turned into a sentence.

`connect(url)` gives a client whose connections fail fast (CONNECT_TIMEOUT_SECONDS to reach the server,
COMMAND_TIMEOUT_SECONDS for an answer), so a request never hangs on a Redis that is gone. Wrap calls
whose failure the client should hear about in `reaching_redis()`: a lost connection or a timeout
becomes RedisUnavailable, which the web server answers with a 503, its sentence and Retry-After
(server.errors). The client reconnects by itself on the next call once Redis is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import redis

CONNECT_TIMEOUT_SECONDS = 2
COMMAND_TIMEOUT_SECONDS = 5
WARN_EVERY_SECONDS = 30.0  # while Redis is away, a process says so this often, not at every call
UNREACHABLE_MESSAGE = "The training queue cannot be reached at the moment; try again later."

# What "Redis is away" looks like (BusyLoadingError, Redis reading its data after a restart, is a
# ConnectionError); any other Redis error is a bug and must surface as one.
ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(Exception):
    """Redis cannot answer for now; `message` says so in a sentence (a 503, see server.errors)."""

    def __init__(self, message: str = UNREACHABLE_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def redis_url(value: str) -> str:
    """A Redis URL as platforms hand them out (redis://, rediss:// for TLS); ValueError otherwise."""
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"{parts.scheme or '(no scheme)'}:// is not a Redis URL")
    return url


def connect(url: str) -> redis.Redis:
    """A client for REDIS_URL (a pool of connections, made as they are needed)."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        health_check_interval=30,  # platforms' proxies drop idle connections: check one before use
    )


@contextmanager
def reaching_redis() -> Iterator[None]:
    """Turn Redis being away into RedisUnavailable (a 503 for whoever asked)."""
    try:
        yield
    except ERRORS as error:
        raise RedisUnavailable() from error


class OutageLog:
    """Logs that Redis is away once every WARN_EVERY_SECONDS (not at every call), and when it is back."""

    def __init__(self, log: logging.Logger) -> None:
        self.log = log
        self._warned_at: float | None = None

    def warning(self, text: str, *args: object) -> None:
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            self.log.warning(text, *args)

    def back(self) -> None:
        """Redis answered: say so once after an outage."""
        if self._warned_at is not None:
            self._warned_at = None
            self.log.info("Redis answers again")
