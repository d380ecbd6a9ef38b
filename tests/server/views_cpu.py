"""What cycling through many runs' views costs the server (issue 12, attack 6): CPU seconds of a
Procfile server's workers for GET .../views of N ended MNIST runs, round after round, more runs than
a process's cache holds (tests/server/test_stored_views.py, bench/views_cpu.py)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.procfile import Server
from tests.server.procs import cpu_seconds, wait_for_workers
from tests.server.sse_client import stream_until_done

MNIST_VIEWS = {"dataset": "mnist", "batch_size": 1024, "epochs": 1}  # views: 10,000 test digits through it


def train_many(server: Server, hidden: list[int], count: int) -> list[str]:
    """`count` MNIST runs (seeds 1..count), trained two at a time to the end; their ids."""

    def one(seed: int) -> str:
        body = {**MNIST_VIEWS, "hidden": hidden, "seed": seed, "fresh": True}
        status, created = server.request("POST", "/api/runs", body)
        assert status == 201, created
        assert stream_until_done(server.url + created["events"], limit=300)[-1].json()["status"] == "done"
        return created["id"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, range(1, count + 1)))


def views_cpu(server: Server, run_ids: list[str], rounds: int, workers: int = 2) -> tuple[float, int]:
    """(CPU seconds the workers used, requests made) for `rounds` rounds of GET .../views of every run."""
    pids = wait_for_workers(server.process.pid, workers)
    time.sleep(1)  # the last runs' ends settle
    used = cpu_seconds(pids)
    requests = 0
    for _ in range(rounds):
        for run_id in run_ids:
            status, views = server.request("GET", f"/api/runs/{run_id}/views")
            assert status == 200 and len(views["misclassified"]) == 12, views
            requests += 1
    return cpu_seconds(pids) - used, requests
