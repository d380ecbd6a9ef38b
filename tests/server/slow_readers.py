"""Slow readers: clients that ask for a long answer and never read it, each from a loopback address of its
own (127.0.0.x), against a server started from the Procfile; the memory of its workers before, during
and after them (tests/server/test_bounded_reads.py, bench/slow_readers.py)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from tests.procfile import Server
from tests.server.procs import status_field, wait_for_workers
from tests.server.sse_client import stream_until_done

LONG_2D = {"dataset": "spiral", "epochs": 1000}  # a replay of about 17 MB of events
WIDE_MNIST = {"dataset": "mnist", "hidden": [512, 512, 512, 512], "batch_size": 1024, "epochs": 1}  # 4.8 MB


def train(server: Server, config: dict) -> str:
    """A run of `config` trained to the end; its id."""
    status, created = server.request("POST", "/api/runs", config)
    assert status in (200, 201), created
    assert stream_until_done(server.url + created["events"], limit=300)[-1].json()["status"] == "done"
    return created["id"]


def slow_reader(server: Server, path: str, source: str) -> socket.socket:
    """A client at `source` that sends GET `path` and never reads the answer (a small receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    headers = "Host: 127.0.0.1\r\nAccept-Encoding: identity\r\nConnection: close"
    sock.sendall(f"GET {path} HTTP/1.1\r\n{headers}\r\n\r\n".encode())
    return sock


def resident_mb(pids: list[int]) -> float:
    """The resident memory (VmRSS) of these processes together, in MB."""
    return sum(status_field(pid, "VmRSS") for pid in pids) / 1024


@dataclass
class Figures:
    before: float
    during: float
    after: float
    readers: int

    def __str__(self) -> str:
        return (
            f"{self.readers} slow readers: workers' RSS {self.before:.0f} MB before, {self.during:.0f} MB"
            f" during, {self.after:.0f} MB after (+{self.after - self.before:.0f} MB)"
        )


def attack(
    server: Server, replay_run: str, weights_run: str, readers: int, settle: float = 5.0, workers: int = 2
) -> Figures:
    """`readers` slow readers, half on the replay of `replay_run` (GET .../events), half on the weights of
    `weights_run`, each from its own address; the workers' RSS before (after one full read of each, so
    the code paths are warm), during (after `settle` seconds) and after they leave (`settle` s later)."""
    pids = wait_for_workers(server.process.pid, workers)
    for path in (f"/api/runs/{replay_run}/events", f"/api/runs/{weights_run}/weights.npz"):
        sock = slow_reader(server, path + ("" if path.endswith("npz") else "?last_event_id=0"), "127.0.0.1")
        sock.settimeout(30)
        while sock.recv(1 << 20):  # read it all: the events stream ends after `done`
            pass
        sock.close()
    time.sleep(1)
    before = resident_mb(pids)
    sockets = []
    try:
        for i in range(readers):
            path = f"/api/runs/{replay_run}/events" if i % 2 == 0 else f"/api/runs/{weights_run}/weights.npz"
            sockets.append(slow_reader(server, path, f"127.0.0.{2 + i // 2 % 250}"))
        time.sleep(settle)
        during = resident_mb(pids)
    finally:
        for sock in sockets:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()  # a reset: the server's blocked write fails at once
    time.sleep(settle)
    after = resident_mb(pids)
    return Figures(before, during, after, readers)
