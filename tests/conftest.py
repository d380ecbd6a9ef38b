"""Shared fixtures: a Flask app on a fresh database, its test client, real servers (gunicorn started
exactly as the Procfile says, on a free loopback port), and throwaway PostgreSQL and Redis servers.

Every test that asks for `database` (through make_app, app, client or procfile_server) runs once per
store: on a SQLite file and on a PostgreSQL database (a fresh one per test, copied from a migrated
template). `@pytest.mark.stores("sqlite")` keeps a test (or a module, via pytestmark) on the stores it
names. PostgreSQL starts on the first test that needs it; without its programs those tests are skipped,
except in CI (CI=true), where they fail: a green CI must mean both stores were tested.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.procfile import Server, start_procfile_server
from tests.services import Postgres, Redis, ServiceMissing, start_postgres, start_redis

# Tests start many runs from one address: a generous per-client limit for every app and server they
# start (gunicorn inherits the environment). tests/server/test_limits.py checks the real default.
os.environ.setdefault("PLAYGROUND_RATELIMIT", "100000 per minute")
os.environ.setdefault("PLAYGROUND_DATA_RATELIMIT", "100000 per minute")
os.environ.pop("DATABASE_URL", None)  # each test says which database it uses

# Fast settings for tests: short polls, and a heartbeat short enough to see but not to flood.
TEST_SETTINGS = {"TESTING": True, "WORKERS": 2, "QUEUE_SIZE": 4, "SSE_POLL": 0.05, "SSE_HEARTBEAT": 1.0}

STORES = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stores(*names): the stores a test runs on (default: sqlite, postgres)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("stores")
        metafunc.parametrize("store_kind", marker.args if marker else STORES)


def _serve(start: Callable[[], Postgres | Redis]) -> Iterator:
    """A throwaway server for the session, removed at its end; a skip (in CI a failure) without it."""
    try:
        server = start()
    except ServiceMissing as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    yield server
    server.remove()


# --- throwaway services (tests/services.py) ---------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    yield from _serve(start_postgres)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: Postgres) -> str:
    """The name of a database migrated once: each test's database is a copy of it."""
    import sqlalchemy as sa

    from server import migrate

    url = postgres_server.create_database()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        migrate.upgrade(connection)
    engine.dispose()
    return sa.make_url(url).database


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    yield from _serve(start_redis)


@pytest.fixture
def database(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's database: a SQLite file's path, or a fresh PostgreSQL database's URL."""
    if store_kind == "sqlite":
        yield str(tmp_path / "playground.sqlite3")
        return
    postgres: Postgres = request.getfixturevalue("postgres_server")
    url = postgres.create_database(template=request.getfixturevalue("postgres_template"))
    yield url
    postgres.drop_database(url)


def database_settings(database: str) -> dict[str, str | None]:
    """The app's config keys for a database (as the environment sets them: DATABASE_URL wins)."""
    if "://" in database:
        return {"DATABASE_URL": database}
    return {"DATABASE": database, "DATABASE_URL": None}


# --- the app in-process -----------------------------------------------------------------------


@pytest.fixture
def make_app(database: str) -> Iterator[Callable]:
    """make_app(**settings) -> a Flask app on this test's database; shut down after the test."""
    from server import create_app

    apps = []

    def make(**overrides):
        app = create_app({**TEST_SETTINGS, **database_settings(database), **overrides})
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
def procfile_server(tmp_path: Path, database: str) -> Iterator[Callable[..., Server]]:
    """procfile_server(env=None, db=None) -> a running Server on this test's database (or `db`);
    every one is stopped after the test."""
    servers: list[Server] = []

    def start(env: dict[str, str] | None = None, db: str | Path | None = None) -> Server:
        n = len(servers)
        server = start_procfile_server(db or database, tmp_path / f"server-{n}.log", env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
