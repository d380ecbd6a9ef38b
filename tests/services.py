"""Throwaway PostgreSQL and Redis servers for the tests: real servers from Debian's packages
(tests/setup.sh installs `postgresql` and `redis-server`), each in a temporary folder, listening on a
free loopback port, stopped and removed by the caller (tests/conftest.py's session fixtures).

PostgreSQL refuses to run as root, and the tests do run as root in CI: the cluster then belongs to the
`postgres` system user (the temporary folder is chown'ed to it, the server started as it). Its unix
socket lives in the temporary folder too, so it never meets a system cluster's. The cluster trusts
local connections (no password) and skips fsync: the data is thrown away anyway.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg

from tests.procfile import free_port

START_SECONDS = 30


class ServiceMissing(RuntimeError):
    """A server's program is not installed; the message says which package brings it."""


def _postgres_bin(program: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    if not found:
        raise ServiceMissing(
            f"PostgreSQL's {program} is not installed (no /usr/lib/postgresql/*/bin/{program}): "
            "bash tests/setup.sh installs Debian's postgresql."
        )
    return found[-1]  # the newest major version


def _as_postgres_user() -> dict:
    """Popen arguments to run a PostgreSQL program as the `postgres` user when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceMissing(
            "There is no `postgres` system user: Debian's postgresql package creates it."
        ) from None
    return {"user": "postgres", "group": "postgres"}


def _memory_folder() -> str | None:
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _wait(process: subprocess.Popen, ready, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                f"{what} did not answer within {START_SECONDS} s:\n{log.read_text(errors='replace')}"
            )
        time.sleep(0.05)


@dataclass
class Postgres:
    """A PostgreSQL cluster in `folder`, served on 127.0.0.1:`port` while started."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None
    _names: count = field(default_factory=lambda: count(1))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of one database (the superuser `postgres`, trusted, no password)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`): its URL."""
        name = f"test_{next(self._names)}"
        with self.connect() as connection:
            copy = f" TEMPLATE {template}" if template else ""
            connection.execute(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database(), cutting whoever is still connected to it."""
        name = url.rsplit("/", 1)[1]
        with self.connect() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def start(self) -> None:
        """Start the server (again, after stop(): same data, same port)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    _postgres_bin("postgres"),
                    *("-D", str(self.data), "-p", str(self.port), "-k", str(self.folder)),
                    *("-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"),
                    *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_postgres_user(),
            )
        _wait(self.process, self._answers, "PostgreSQL", self.log)

    def _answers(self) -> bool:
        try:
            with self.connect() as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open sessions are cut, as when the database server goes down."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb a new cluster in a temporary folder and start it on a free loopback port."""
    initdb = _postgres_bin("initdb")
    user = _as_postgres_user()
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as `postgres`.
    # In memory where there is /dev/shm: each test's database is a copy of a few megabytes.
    folder = Path(tempfile.mkdtemp(prefix="playground-postgres-", dir=_memory_folder()))
    if user:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(folder, free_port())
    try:
        subprocess.run(
            [initdb, "-D", str(server.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
            **user,
        )
        server.start()
    except BaseException:
        server.remove()
        raise
    return server


@dataclass
class Redis:
    """A Redis server without persistence in `folder`, on 127.0.0.1:`port`."""

    folder: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64) == b"+PONG\r\n"
        except OSError:
            return False

    def remove(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_redis() -> Redis:
    program = shutil.which("redis-server")
    if program is None:
        raise ServiceMissing(
            "redis-server is not installed: bash tests/setup.sh installs Debian's redis-server."
        )
    folder = Path(tempfile.mkdtemp(prefix="playground-redis-"))
    port = free_port()
    log = folder / "redis.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Redis(folder, port, process)
    try:
        _wait(process, server.ping, "redis-server", log)
    except BaseException:
        server.remove()
        raise
    return server
