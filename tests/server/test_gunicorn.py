"""gunicorn started exactly as the Procfile says: streams across workers, load, crash and restart."""

from __future__ import annotations

import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.procfile import procfile_command
from tests.server.helpers import FAST_2D, SLOW_2D, sql, wait_for
from tests.server.sse_client import stream_until_done


def train_and_watch(server, config: dict) -> tuple[dict, list]:
    """POST a run and follow its stream to done (each on a new connection, so any worker may answer)."""
    status, created = server.request("POST", "/api/runs", config)
    assert status == 201, created
    return created, stream_until_done(server.url + created["events"])


def test_the_procfile_runs_gunicorn_on_the_gevent_worker_on_port():
    command = procfile_command()
    assert command.startswith("gunicorn ") and "'server:create_app()'" in command
    assert "--bind 0.0.0.0:${PORT:-5000}" in command and "--worker-class gevent" in command


def test_post_stream_done(procfile_server):
    server = procfile_server()
    created, events = train_and_watch(server, {**FAST_2D, "epochs": 20})
    assert events[0].retry == 2000
    assert [int(e.id) for e in events if e.event == "epoch"] == list(range(1, 21))
    assert events[-1].event == "done" and events[-1].json()["status"] == "done"
    status, run = server.request("GET", f"/api/runs/{created['id']}")
    assert status == 200 and run["status"] == "done" and len(run["epochs"]) == 20


def test_two_workers_forty_runs_all_complete(procfile_server):
    server = procfile_server({"WEB_CONCURRENCY": "2"})
    configs = [{**FAST_2D, "seed": seed} for seed in range(40)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda config: train_and_watch(server, config), configs))
    for created, events in results:
        assert [int(e.id) for e in events if e.event == "epoch"] == [1, 2, 3, 4, 5], created["id"]
        assert events[-1].json()["status"] == "done"
    statuses = dict(sql(server.db, "SELECT status, COUNT(*) FROM runs GROUP BY status"))
    trainers = sql(server.db, "SELECT COUNT(DISTINCT owner) FROM runs")[0][0]
    assert statuses == {"done": 40}
    assert trainers == 2  # both workers trained runs, so streams were served across processes


@pytest.mark.stores("sqlite")  # /healthz never touches the store
def test_healthz_answers_quickly_while_training(procfile_server):
    server = procfile_server()
    for seed in (1, 2):
        status, _ = server.request("POST", "/api/runs", {"dataset": "mnist", "epochs": 2, "seed": seed})
        assert status == 201
    time.sleep(1.0)  # both are training now
    delays = []
    for _ in range(40):
        started = time.perf_counter()
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert response.status == 200
        delays.append(time.perf_counter() - started)
        time.sleep(0.02)
    delays.sort()
    assert statistics.median(delays) < 0.1 and delays[int(0.95 * len(delays))] < 0.25, delays


def test_kill_9_then_restart_marks_the_run_interrupted_keeping_its_epochs(procfile_server, tmp_path):
    first = procfile_server()
    status, created = first.request("POST", "/api/runs", SLOW_2D)
    assert status == 201
    wait_for(first, created["id"], lambda run: len(run["epochs"]) >= 2)
    first.kill()  # the whole server, master and workers, at once
    recorded = sql(first.db, "SELECT COUNT(*) FROM epochs WHERE run_id = :id", id=created["id"])[0][0]
    assert sql(first.db, "SELECT status FROM runs WHERE id = :id", id=created["id"]) == [("running",)]
    assert recorded >= 2

    second = procfile_server(db=first.db)
    status, run = second.request("GET", f"/api/runs/{created['id']}")
    assert run["status"] == "interrupted" and "kept" in run["reason"]
    assert [e["epoch"] for e in run["epochs"]] == list(range(1, recorded + 1))
    events = stream_until_done(second.url + created["events"])
    assert len([e for e in events if e.event == "epoch"]) == recorded
    assert events[-1].json()["status"] == "interrupted"
    _, again = train_and_watch(second, FAST_2D)  # and the restarted server trains as usual
    assert again[-1].json()["status"] == "done"


def test_a_graceful_stop_interrupts_running_runs(procfile_server):
    server = procfile_server()
    status, created = server.request("POST", "/api/runs", SLOW_2D)
    wait_for(server, created["id"], lambda run: len(run["epochs"]) >= 1)
    server.stop()  # SIGTERM: gunicorn's workers exit, and at exit the runner ends its runs
    [(status, reason)] = sql(server.db, "SELECT status, reason FROM runs WHERE id = :id", id=created["id"])
    assert status == "interrupted" and "shut down" in reason
