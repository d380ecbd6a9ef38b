"""The Procfile's processes started exactly as it says: gunicorn (web:) on a free loopback port with its
own database (a SQLite file, or a PostgreSQL database's URL), and the scaled mode's training workers
(worker:). Used by the tests (tests/conftest.py) and by bench/. `root` runs them from another copy of
the repository (a fresh clone: another "host")."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's master -> its workers), from /proc (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return sorted(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(kind: str = "web", root: Path = ROOT) -> str:
    """The Procfile's command of one process type (web, worker, release), as the platform runs it
    (through a shell)."""
    for line in (root / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.removeprefix(f"{kind}:").strip()
    raise AssertionError(f"the Procfile has no {kind}: line")


def database_env(db: Path | str) -> dict[str, str]:
    """The environment that points a process at a database: PLAYGROUND_DB or DATABASE_URL."""
    return {"DATABASE_URL": str(db)} if "://" in str(db) else {"PLAYGROUND_DB": str(db)}


def launch(
    kind: str, env: dict[str, str], log: Path, root: Path = ROOT, command: str | None = None
) -> subprocess.Popen:
    """Start one Procfile process type in its own process group (so a signal reaches its children),
    with the environment `env` (the test's own, without its database variables, under it); `command`
    instead of the Procfile's line compares another way to run it (bench/load.py --gthread)."""
    environ = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    environ.update(env)
    with log.open("ab") as out:
        return subprocess.Popen(
            ["/bin/sh", "-c", "exec " + (command or procfile_command(kind, root))],
            cwd=root,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Process:
    """A Procfile process (a process group), stopped or killed as a platform does."""

    process: subprocess.Popen
    log: Path
    stopped: bool = field(default=False, kw_only=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """kill -9 the whole process group at once, like a crash of the machine's app."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, as a platform stops a process (then SIGKILL after 30 s)."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.stopped:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.stopped = True

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_procfile_worker(env: dict[str, str], log: Path, root: Path = ROOT) -> Process:
    """Start the Procfile's worker command (the scaled mode: `env` has REDIS_URL and DATABASE_URL).
    It takes jobs once it has started; nothing here waits for that."""
    return Process(launch("worker", env, log, root), log)


@dataclass
class Server(Process):
    """gunicorn (its master and workers) and how to talk to it."""

    port: int
    db: Path | str  # the SQLite file, or the PostgreSQL URL

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: object = None, timeout: float = 30) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *children(self.process.pid)]


PORT_ATTEMPTS = 3  # fresh ports tried when another process takes ours between free_port() and the bind
PORT_LOST = "Connection in use"  # what gunicorn logs when its port is taken


def start_procfile_server(
    db: Path | str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    root: Path = ROOT,
    command: str | None = None,
) -> Server:
    """Start the Procfile's web command with PORT set to a free port, and wait until /healthz answers.
    `db`: a SQLite file (PLAYGROUND_DB) or a PostgreSQL URL (DATABASE_URL). A port another process took
    before gunicorn bound it (other test runs on the machine) is given up for a fresh one."""
    deadline = time.monotonic() + timeout
    for _ in range(PORT_ATTEMPTS):
        log_start = log.stat().st_size if log.exists() else 0
        port = free_port()
        process = launch("web", {"PORT": str(port), **database_env(db), **(env or {})}, log, root, command)
        server = Server(process, log, port=port, db=db)
        while time.monotonic() < deadline:
            if PORT_LOST in log.read_bytes()[log_start:].decode(errors="replace"):
                break
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return server
            except OSError:
                time.sleep(0.1)
        else:
            break
        server.kill()
        process.wait()
    server.kill()
    raise AssertionError(f"the server did not answer /healthz within {timeout} s:\n{server.log_tail()}")
