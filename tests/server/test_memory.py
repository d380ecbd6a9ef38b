"""One server process's memory does not grow with the number of MNIST runs it trains.

MNIST (about 220 MB as float32) is loaded once per process (core.datasets.load_mnist is cached and
read-only) and every run reads the same arrays; a copy per run would show here as ~150 MB more
resident memory (or a higher peak) per run.
"""

from __future__ import annotations

import pytest

from tests.server.procs import status_field, wait_for_workers
from tests.server.sse_client import stream_until_done

# MNIST's memory, not the store's: on SQLite only.
pytestmark = pytest.mark.stores("sqlite")

TINY_MNIST = {"dataset": "mnist", "hidden": [16], "batch_size": 512, "epochs": 1}


def test_memory_does_not_grow_with_mnist_runs(procfile_server):
    server = procfile_server({"WEB_CONCURRENCY": "1", "PLAYGROUND_WORKERS": "1"})
    (worker,) = wait_for_workers(server.process.pid, 1)
    resident, peaks = [], []
    for seed in range(4):
        status, created = server.request("POST", "/api/runs", {**TINY_MNIST, "seed": seed})
        assert status == 201, created
        assert stream_until_done(server.url + created["events"])[-1].json()["status"] == "done"
        resident.append(status_field(worker, "VmRSS") / 1024)
        peaks.append(status_field(worker, "VmHWM") / 1024)
    assert resident[0] > 200, resident  # the data set is in memory (else this test proves nothing)
    assert resident[-1] - resident[0] < 25, f"resident MB after each run: {resident}"
    assert peaks[-1] - peaks[0] < 25, f"peak MB after each run: {peaks}"
