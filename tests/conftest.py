"""Shared fixtures: a Flask app on a temporary SQLite file, its test client, and real servers
(gunicorn started exactly as the Procfile says, on a free loopback port)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.procfile import Server, start_procfile_server

# Tests start many runs from one address: a generous per-client limit for every app and server they
# start (gunicorn inherits the environment). tests/server/test_limits.py checks the real default.
os.environ.setdefault("PLAYGROUND_RATELIMIT", "100000 per minute")

# Fast settings for tests: short polls, and a heartbeat short enough to see but not to flood.
TEST_SETTINGS = {"TESTING": True, "WORKERS": 2, "QUEUE_SIZE": 4, "SSE_POLL": 0.05, "SSE_HEARTBEAT": 1.0}


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable]:
    """make_app(**settings) -> a Flask app on tmp_path's SQLite file; shut down after the test."""
    from server import create_app

    apps = []

    def make(**overrides):
        config = {**TEST_SETTINGS, "DATABASE": str(tmp_path / "playground.sqlite3"), **overrides}
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["playground"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# --- real servers (tests/procfile.py) ---------------------------------------------------------


@pytest.fixture
def procfile_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """procfile_server(env=None, db=None) -> a running Server; every one is stopped after the test."""
    servers: list[Server] = []

    def start(env: dict[str, str] | None = None, db: Path | None = None) -> Server:
        n = len(servers)
        server = start_procfile_server(
            db or tmp_path / "playground.sqlite3", tmp_path / f"server-{n}.log", env
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
