"""Settings: every knob of the server, read from environment variables with documented defaults.

`from_env()` turns the environment into the Flask config keys the app reads; `create_app(config)`
lays an explicit dict (tests) over them. A bad value stops the start-up with a message naming the
variable, rather than a server that half works.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from limits import parse_many

from core.config import Limits
from server.redis_client import redis_url
from server.store import database_url


class SettingsError(ValueError):
    """A setting has a value the server cannot work with; the message names it."""


# (environment variable, Flask config key, parser, default, what it is): the README table mirrors this.
SETTINGS: list[tuple[str, str, Callable[[str], Any], Any, str]] = [
    ("PORT", "PORT", int, 5000, "port of `python -m server` (127.0.0.1) and of the Procfile (0.0.0.0)"),
    ("DATABASE_URL", "DATABASE_URL", database_url, None, "PostgreSQL URL; unset: SQLite at PLAYGROUND_DB"),
    ("PLAYGROUND_DB", "DATABASE", str, None, "SQLite file (default: instance/playground.sqlite3)"),
    ("REDIS_URL", "REDIS_URL", redis_url, None, "Redis: the scaled mode (RQ workers); needs DATABASE_URL"),
    ("PLAYGROUND_WORKERS", "WORKERS", int, os.cpu_count() or 1, "training threads per server process"),
    ("PLAYGROUND_QUEUE", "QUEUE_SIZE", int, 16, "runs that may wait, all processes together (429)"),
    ("PLAYGROUND_MAX_BODY", "MAX_CONTENT_LENGTH", int, 1_000_000, "largest request body in bytes (413)"),
    ("PLAYGROUND_HEARTBEAT", "SSE_HEARTBEAT", float, 15.0, "seconds between `: ping` comments on a stream"),
    ("PLAYGROUND_POLL", "SSE_POLL", float, 0.05, "seconds between looks at the store for others' runs"),
    ("PLAYGROUND_FALLBACK", "SSE_FALLBACK", float, 1.0, "seconds a stream waits at most to read the store"),
    ("PLAYGROUND_STALE", "OWNER_STALE", float, 10.0, "seconds without heartbeat before a process is dead"),
    ("PLAYGROUND_PRELOAD_MNIST", "PRELOAD_MNIST", lambda v: v.strip() == "1", False, "1: load MNIST at boot"),
    # Limits and abuse (README "Limits and security").
    ("PLAYGROUND_RATELIMIT", "RATE_LIMIT", str, "10 per minute; 100 per day", "runs one client may start"),
    ("PLAYGROUND_DATA_RATELIMIT", "DATA_RATE_LIMIT", str, "20 per minute; 200 per day", "new point sets"),
    (
        "PLAYGROUND_RATELIMIT_STORAGE",
        "RATE_LIMIT_STORAGE",
        str,
        None,
        "counts' store: REDIS_URL or memory://",
    ),
    ("PLAYGROUND_PROXY_HOPS", "PROXY_HOPS", int, 0, "trusted proxies in front (X-Forwarded-For)"),
    ("PLAYGROUND_RUN_SECONDS", "RUN_SECONDS", float, 900.0, "wall-clock cap of one run"),
    # A fair share per client (server/fair_share.py).
    ("PLAYGROUND_CLIENT_RUNS", "CLIENT_RUNS", int, 2, "runs one client may have queued or training at once"),
    ("PLAYGROUND_CLIENT_BUDGET", "CLIENT_BUDGET", float, 1800.0, "estimated training s per client-hour"),
    ("PLAYGROUND_RUN_COST", "RUN_COST", float, 300.0, "largest estimated training seconds of one run (400)"),
    ("PLAYGROUND_READ_RATELIMIT", "READ_RATE_LIMIT", str, "120 per minute", "predict and views per client"),
    # Bounded disk (server/store_budget.py).
    ("PLAYGROUND_STORE_MB", "STORE_MB", float, 1024.0, "store budget; past it old runs' heavy parts expire"),
    # Streams and slow clients (README "Streams and slow clients").
    ("PLAYGROUND_CLIENT_STREAMS", "CLIENT_STREAMS", int, 20, "event streams one client holds, per process"),
    ("PLAYGROUND_STREAM_SECONDS", "STREAM_SECONDS", float, 300.0, "longest life of one event stream"),
    ("PLAYGROUND_BODY_SECONDS", "BODY_SECONDS", float, 10.0, "seconds a request body may take to arrive"),
    # Sweeps (README "Sweeps").
    (
        "PLAYGROUND_SWEEP_SECONDS",
        "SWEEP_SECONDS",
        float,
        600.0,
        "estimated seconds of a sweep's runs, at most",
    ),
]

SECRET = {"DATABASE_URL", "REDIS_URL"}  # never echoed in an error message

# PLAYGROUND_MAX_UNITS and friends: one per core.config.Limits field, defaults from Limits().
LIMIT_VARIABLES = {f"PLAYGROUND_{name.upper()}": name for name in Limits.__dataclass_fields__}


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The Flask config keys for the settings above, from environ (default: os.environ)."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    for variable, key, parse, default, _ in SETTINGS:
        raw = environ.get(variable, "").strip()
        if not raw:
            config[key] = default
            continue
        try:
            config[key] = parse(raw)
        except ValueError:
            kind = {
                "int": "a whole number",
                "float": "a number",
                "database_url": "a PostgreSQL URL such as postgresql://user:password@host:5432/name",
                "redis_url": "a Redis URL such as redis://host:6379/0 (rediss:// for TLS)",
            }.get(parse.__name__, "a value")
            shown = "(its value, hidden: it may hold a password)" if variable in SECRET else repr(raw)
            raise SettingsError(f"{variable}={shown} is not valid: expected {kind}.") from None
    config["LIMITS"] = limits_from_env(environ)
    return config


def limits_from_env(environ: Mapping[str, str]) -> Limits:
    """The config bounds (core.config.Limits), each field settable as PLAYGROUND_<FIELD>."""
    values: dict[str, int] = {}
    for variable, name in LIMIT_VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            raise SettingsError(f"{variable}={raw!r} is not valid: expected a whole number.") from None
        if values[name] < 1:
            raise SettingsError(f"{variable} must be at least 1, got {values[name]}.")
    return Limits(**values)


def check(config: Mapping[str, Any]) -> None:
    """Refuse settings that cannot work, naming the setting."""
    rules = [
        ("WORKERS", config["WORKERS"] >= 1, "at least 1"),
        ("QUEUE_SIZE", config["QUEUE_SIZE"] >= 0, "0 or more"),
        ("MAX_CONTENT_LENGTH", config["MAX_CONTENT_LENGTH"] >= 1024, "at least 1024"),
        ("SSE_HEARTBEAT", config["SSE_HEARTBEAT"] > 0, "above 0"),
        ("SSE_POLL", 0 < config["SSE_POLL"] <= 5, "between 0 and 5"),
        ("SSE_FALLBACK", config["SSE_FALLBACK"] > 0, "above 0"),
        ("OWNER_STALE", config["OWNER_STALE"] >= 2, "at least 2 (seconds)"),
        ("PROXY_HOPS", 0 <= config["PROXY_HOPS"] <= 5, "between 0 and 5"),
        ("RUN_SECONDS", config["RUN_SECONDS"] > 0, "above 0 (seconds)"),
        ("STORE_MB", config["STORE_MB"] >= 0, "0 (no budget) or more (megabytes)"),
        ("CLIENT_STREAMS", config["CLIENT_STREAMS"] >= 1, "at least 1"),
        ("STREAM_SECONDS", config["STREAM_SECONDS"] >= 1, "at least 1 (seconds)"),
        ("BODY_SECONDS", config["BODY_SECONDS"] > 0, "above 0 (seconds)"),
        ("SWEEP_SECONDS", config["SWEEP_SECONDS"] > 0, "above 0 (seconds)"),
        ("RATE_LIMIT", _rate_ok(config["RATE_LIMIT"]), 'a rate such as "10 per minute; 100 per day"'),
        ("DATA_RATE_LIMIT", _rate_ok(config["DATA_RATE_LIMIT"]), 'a rate such as "20 per minute"'),
        ("CLIENT_RUNS", config["CLIENT_RUNS"] >= 1, "at least 1"),
        ("CLIENT_BUDGET", config["CLIENT_BUDGET"] > 0, "above 0 (seconds)"),
        ("RUN_COST", 0 < config["RUN_COST"] <= config["CLIENT_BUDGET"], "above 0 and at most CLIENT_BUDGET"),
        ("READ_RATE_LIMIT", _rate_ok(config["READ_RATE_LIMIT"]), 'a rate such as "120 per minute"'),
    ]
    for key, ok, expected in rules:
        if not ok:
            variable = next(v for v, k, *_ in SETTINGS if k == key)
            raise SettingsError(f"{variable} (config {key}) must be {expected}, got {config[key]!r}.")
    if config["REDIS_URL"] and not config["DATABASE_URL"]:
        raise SettingsError(
            "REDIS_URL is set but DATABASE_URL is not: with Redis, runs are trained by worker processes on"
            " any host, which cannot reach a SQLite file. Set DATABASE_URL to a PostgreSQL database too"
            " (or unset REDIS_URL to train in the web processes)."
        )


def _rate_ok(text: str) -> bool:
    try:
        return bool(parse_many(text))
    except ValueError:
        return False
