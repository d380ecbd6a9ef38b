"""gunicorn started exactly as the Procfile says, on a free loopback port with its own database (a
SQLite file, or a PostgreSQL database's URL): used by the tests (tests/conftest.py) and by bench/."""

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


def procfile_command() -> str:
    """The Procfile's web: command, as the hosting platform runs it (through a shell)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: line")


@dataclass
class Server:
    """A server process (a process group: gunicorn's master and its workers) and how to talk to it."""

    process: subprocess.Popen
    port: int
    log: Path
    db: Path | str  # the SQLite file, or the PostgreSQL URL
    stopped: bool = field(default=False)

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

    def kill(self) -> None:
        """kill -9 the whole server, master and workers at once, like a crash of the machine's app."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
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

    def pids(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *children(self.process.pid)]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_procfile_server(
    db: Path | str, log: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> Server:
    """Start the Procfile's web command with PORT set to a free port, and wait until /healthz answers.
    `db`: a SQLite file (PLAYGROUND_DB) or a PostgreSQL URL (DATABASE_URL)."""
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environ.update(
        {"PORT": str(port), **({"DATABASE_URL": db} if "://" in str(db) else {"PLAYGROUND_DB": str(db)})}
    )
    environ.update(env or {})
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["/bin/sh", "-c", "exec " + procfile_command()],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches the workers too
        )
    server = Server(process, port, log, db)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"the server did not answer /healthz within {timeout} s:\n{server.log_tail()}")
