"""Memory, measured from outside through /proc: the hosted demo fits a 512 MB dyno.

MNIST's pixels (about 220 MB as float32) are memory-mapped from one cache file (core.data_cache), so
every process on the machine shares them; a web process that only shows MNIST runs (views, predictions,
the datasets' previews) reads the 8 MB of test digits, never the training set. Figures are PSS (a page
shared by n processes counts 1/n in each: the sum over a server's processes is what they use together,
as a platform's memory limit counts it) and RSS (shared pages counted in every process that maps them).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.server.helpers import sql, wait_for
from tests.server.procs import mapped_files, memory, status_field, total_memory, wait_for_workers
from tests.server.sse_client import stream_until_done

# MNIST's memory, not the store's: on SQLite only.
pytestmark = pytest.mark.stores("sqlite")

TINY_MNIST = {"dataset": "mnist", "hidden": [16], "batch_size": 512, "epochs": 1}
TUTORIAL_MNIST = {"dataset": "mnist", "hidden": [100, 200], "batch_size": 32, "epochs": 1}  # ~1 s each
DYNO_MB = 512  # the smallest hosting plans' memory
WEB_PROCESS_MB = 150  # a web process that trains nothing (the scaled mode's web: line)
TRAINING_SET = "x_train.npy"  # core.data_cache's file of MNIST's training (and validation) pixels


def mnist_runs(server, seeds: range) -> list[str]:
    """Train an MNIST run per seed, all at once, watch each to the end and load its views, as the page
    does; their ids."""

    def one(seed: int) -> str:
        status, created = server.request("POST", "/api/runs", {**TUTORIAL_MNIST, "seed": seed, "fresh": True})
        assert status == 201, created
        assert stream_until_done(server.url + created["events"], limit=120)[-1].json()["status"] == "done"
        status, views = server.request("GET", f"/api/runs/{created['id']}/views")
        assert status == 200 and len(views["misclassified"]) == 12
        return created["id"]

    with ThreadPoolExecutor(len(seeds)) as pool:
        return list(pool.map(one, seeds))


def test_the_procfile_server_stays_under_512_mb_after_mnist_runs_in_both_workers(procfile_server):
    server = procfile_server()  # as the Procfile starts it: a master and WEB_CONCURRENCY=2 workers
    workers = wait_for_workers(server.process.pid, 2)
    pss = []
    for seeds in (range(0, 4), range(4, 8)):
        mnist_runs(server, seeds)
        used = total_memory(server.pids())
        pss.append(round(used["pss"]))
        each = {pid: round(memory(pid)["pss"]) for pid in server.pids()}
        print(f"after {seeds.stop} MNIST runs: PSS {used['pss']:.0f} MB {each}, RSS {used['rss']:.0f} MB")
        assert used["pss"] < DYNO_MB, used
    trainers = sql(server.db, "SELECT COUNT(DISTINCT owner) FROM runs WHERE status = 'done'")[0][0]
    assert trainers == 2  # both workers trained MNIST runs
    for pid in workers:
        assert any(path.endswith(TRAINING_SET) for path in mapped_files(pid))  # mapped, not copied
        assert memory(pid)["anon"] < 150  # each worker's own memory: no copy of MNIST
    assert pss[1] - pss[0] < 25, pss  # flat (server/malloc.py): without it, +40 MB every four runs


def test_a_web_process_showing_mnist_runs_never_maps_the_training_set(procfile_server):
    trainer = procfile_server({"WEB_CONCURRENCY": "1"})
    (run_id,) = mnist_runs(trainer, range(1))
    trainer.stop()

    viewer = procfile_server({"WEB_CONCURRENCY": "1"}, db=trainer.db)  # another process, same runs
    (web,) = wait_for_workers(viewer.process.pid, 1)
    assert viewer.request("GET", f"/api/runs/{run_id}/views")[0] == 200
    pixels = {"pixels": [[0.0] * 784, [1.0] * 784]}
    status, prediction = viewer.request("POST", f"/api/runs/{run_id}/predict", pixels)
    assert status == 200 and len(prediction["probabilities"]) == 2
    assert viewer.request("GET", "/api/datasets")[0] == 200
    assert wait_for(viewer, run_id)["status"] == "done"
    assert stream_until_done(viewer.url + f"/api/runs/{run_id}/events")[-1].json()["status"] == "done"

    assert not [path for path in mapped_files(web) if path.endswith(TRAINING_SET)]
    used = memory(web)
    print(
        f"a web process after MNIST views and predictions: RSS {used['rss']:.0f} MB, PSS {used['pss']:.0f} MB"
    )
    assert used["rss"] < WEB_PROCESS_MB, used


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
