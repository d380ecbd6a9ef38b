"""Shared fixtures: a Flask app on a fresh database, its test client, real servers (gunicorn started
exactly as the Procfile says, on a free loopback port), and throwaway PostgreSQL and Redis servers.

Every test that asks for `database` (through make_app, app, client or procfile_server) runs once per
store: on a SQLite file and on a PostgreSQL database (a fresh one per test, copied from a migrated
template). `@pytest.mark.stores("sqlite")` keeps a test (or a module, via pytestmark) on the stores it
names. A third kind, "redis", is the scaled mode: PostgreSQL plus Redis (emptied for each test), and
`make_app` starts the Procfile's worker processes (WORKERS of them, 1 unless the test says) beside the
app; modules opt in with `stores("sqlite", "postgres", "redis")`. PostgreSQL and Redis start on the
first test that needs them; without their programs those tests are skipped, except in CI (CI=true),
where they fail: a green CI must mean every store and mode was tested.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.procfile import ROOT, Process, Server, start_procfile_server, start_procfile_worker
from tests.services import Postgres, Redis, ServiceMissing, start_postgres, start_redis

# Tests start many runs from one address: a generous per-client limit for every app and server they
# start (gunicorn inherits the environment). tests/server/test_limits.py checks the real default.
os.environ.setdefault("PLAYGROUND_RATELIMIT", "100000 per minute")
os.environ.setdefault("PLAYGROUND_DATA_RATELIMIT", "100000 per minute")
os.environ.pop("DATABASE_URL", None)  # each test says which database (and Redis) it uses
os.environ.pop("REDIS_URL", None)

# Fast settings for tests: short polls, and a heartbeat short enough to see but not to flood.
# One test client starts many runs: its fair share is wide unless a test narrows it (test_fair_share.py).
TEST_SETTINGS = {
    "TESTING": True,
    "WORKERS": 2,
    "QUEUE_SIZE": 4,
    "SSE_POLL": 0.05,
    "SSE_HEARTBEAT": 1.0,
    "CLIENT_RUNS": 100,
}

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
def redis_url(store_kind: str, request: pytest.FixtureRequest) -> str | None:
    """The scaled mode's Redis, emptied for this test (None on the other stores)."""
    if store_kind != "redis":
        return None
    redis: Redis = request.getfixturevalue("redis_server")
    redis.flush()
    return redis.url


@pytest.fixture
def database(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's database: a SQLite file's path, or a fresh PostgreSQL database's URL."""
    if store_kind == "sqlite":
        yield str(tmp_path / "playground.sqlite3")
        return
    # postgres, and redis (the scaled mode keeps its runs in PostgreSQL)
    postgres: Postgres = request.getfixturevalue("postgres_server")
    url = postgres.create_database(template=request.getfixturevalue("postgres_template"))
    yield url
    postgres.drop_database(url)


def database_settings(database: str) -> dict[str, str | None]:
    """The app's config keys for a database (as the environment sets them: DATABASE_URL wins)."""
    if "://" in database:
        return {"DATABASE_URL": database}
    return {"DATABASE": database, "DATABASE_URL": None}


def settings_environment(settings: dict) -> dict[str, str]:
    """The environment variables that give another process (a worker) these app settings."""
    from server.settings import SETTINGS

    return {
        variable: str(settings[key])
        for variable, key, *_ in SETTINGS
        if settings.get(key) is not None and key != "WORKERS"
    }


# --- the app in-process -----------------------------------------------------------------------


@pytest.fixture
def make_app(database: str, redis_url: str | None, tmp_path: Path) -> Iterator[Callable]:
    """make_app(**settings) -> a Flask app on this test's database; shut down after the test. In the
    scaled mode (redis) each app comes with `workers` Procfile workers (default: WORKERS, else 1),
    stopped after it."""
    from server import create_app

    apps, processes = [], []

    def make(workers: int | None = None, **overrides):
        settings = {**TEST_SETTINGS, **database_settings(database), "REDIS_URL": redis_url, **overrides}
        started = []
        if redis_url is not None:  # the workers start while the app is made
            environment = settings_environment(settings)
            for _ in range(overrides.get("WORKERS", 1) if workers is None else workers):
                log = tmp_path / f"worker-{len(processes)}.log"
                processes.append(start_procfile_worker(environment, log))
                started.append(processes[-1])
        app = create_app(settings)
        apps.append(app)
        if started:
            wait_until_listening(redis_url, started)
        return app

    make.workers = processes  # the scaled mode's worker processes, for tests that stop or kill them
    yield make
    for app in apps:
        app.extensions["playground"].close()
    for process in processes:
        process.stop()


def wait_until_listening(redis_url: str, workers: list[Process], limit: float = 30) -> None:
    """Wait until these workers take jobs from the training queue (as a server answers /healthz)."""
    import redis

    from server.training_rq import QUEUE_NAME

    pids = {str(worker.pid) for worker in workers}
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + limit
    while True:
        listening = {key.decode().split(":")[3] for key in client.smembers(f"rq:workers:{QUEUE_NAME}")}
        if pids <= listening:
            client.close()
            return
        for worker in workers:
            assert worker.process.poll() is None, f"a worker exited:\n{worker.log_tail()}"
        assert time.monotonic() < deadline, f"workers not listening after {limit} s:\n{workers[0].log_tail()}"
        time.sleep(0.05)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


# --- real servers (tests/procfile.py) ---------------------------------------------------------


@pytest.fixture
def procfile_server(tmp_path: Path, database: str) -> Iterator[Callable[..., Server]]:
    """procfile_server(env=None, db=None, root=ROOT) -> a running Server on this test's database (or
    `db`), from this repository (or the copy at `root`), its one client's share of runs going as wide
    as in-process (unless `env` sets it); every one is stopped after the test."""
    servers: list[Server] = []

    def start(env: dict[str, str] | None = None, db: str | Path | None = None, root: Path = ROOT) -> Server:
        n = len(servers)
        settings = {"PLAYGROUND_CLIENT_RUNS": str(TEST_SETTINGS["CLIENT_RUNS"]), **(env or {})}
        server = start_procfile_server(db or database, tmp_path / f"server-{n}.log", settings, root=root)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def procfile_worker(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """procfile_worker(env, root=ROOT) -> the Procfile's worker process (the scaled mode: `env` has
    REDIS_URL and DATABASE_URL), started, not waited for; every one is stopped after the test."""
    workers: list[Process] = []

    def start(env: dict[str, str], root: Path = ROOT) -> Process:
        worker = start_procfile_worker(env, tmp_path / f"worker-{len(workers)}.log", root)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


# --- services of a test's own, which it may stop or kill ---------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    yield from _serve(start_postgres)


@pytest.fixture
def own_redis() -> Iterator[Redis]:
    yield from _serve(start_redis)
