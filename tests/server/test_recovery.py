"""Run ownership: which process is dead, what recovery interrupts (and what it must leave alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from core.config import parse_config
from core.datasets import dataset_for
from core.training import train
from server.recovery import Identity, is_dead, pid_alive
from server.store import Store
from tests.server.helpers import SLOW_2D, sql, start, stop, wait_for


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())


def test_who_is_dead():
    me = Identity("here", os.getpid(), "me")
    now = time.time()

    def row(host: str, pid: int, age: float) -> dict:
        return {"host": host, "pid": pid, "heartbeat": now - age}

    assert not is_dead(me.owner, None, me, 10, now)  # never judge yourself
    assert is_dead("here:1:gone", None, me, 10, now)  # no heartbeat row at all
    assert not is_dead("here:x:live", row("here", os.getpid(), 1), me, 10, now)  # fresh and running
    # The pid is alive but the heartbeat is stale: a crashed process whose pid was reused.
    assert is_dead("here:x:old", row("here", os.getpid(), 60), me, 10, now)
    # A fresh heartbeat but no such process on this host: crashed a moment ago, no need to wait.
    assert is_dead("here:y:new", row("here", dead_pid(), 1), me, 10, now)
    # Another host: its pids mean nothing here, only its heartbeat counts.
    assert not is_dead("there:1:z", row("there", dead_pid(), 1), me, 10, now)
    assert is_dead("there:1:z", row("there", 1, 60), me, 10, now)


def orphan(
    store: Store, owner: str, host: str, pid: int, heartbeat_age: float, status: str = "running"
) -> str:
    """A run left behind by another process (as a crash leaves it), with two recorded epochs. The
    process's heartbeat is written first: a keeper looking in between must see a live owner."""
    run_id = owner.split(":")[-1][:12].ljust(12, "x")
    config = parse_config(SLOW_2D)
    store.beat(owner, host, pid)
    sql(
        store.url,
        "UPDATE owners SET heartbeat = heartbeat - :age WHERE owner = :owner",
        age=heartbeat_age,
        owner=owner,
    )
    store.create_run(run_id, config.to_dict(), config.to_query(), owner, config.epochs)
    if status == "running":
        sql(store.url, "UPDATE runs SET status = 'running' WHERE id = :id", id=run_id)
        for epoch in (1, 2):
            metrics = {"epoch": epoch, "train_loss": 1.0}
            store.add_epoch(run_id, epoch, metrics, json.dumps(metrics), b"npz")
    return run_id


def test_start_up_interrupts_only_the_runs_of_dead_processes(database, make_app):
    store = Store(database)
    host, me = Identity.of_this_process().host, os.getpid()
    reused = orphan(store, f"{host}:{me}:reusedpid", host, me, heartbeat_age=3600)
    crashed = orphan(store, f"{host}:{dead_pid()}:crashedrun", host, dead_pid(), heartbeat_age=0)
    queued = orphan(store, f"{host}:{dead_pid()}:crashedqueu", host, dead_pid(), 0, status="queued")
    alive = orphan(store, f"{host}:{me}:otherworker", host, me, heartbeat_age=0)
    faraway = orphan(store, "elsewhere:4242:faraway1234", "elsewhere", 4242, heartbeat_age=0)

    client = make_app(OWNER_STALE=30).test_client()

    for run_id in (reused, crashed):
        run = client.get(f"/api/runs/{run_id}").get_json()
        assert run["status"] == "interrupted" and "epochs recorded so far are kept" in run["reason"]
        assert [e["epoch"] for e in run["epochs"]] == [1, 2]
        assert run["finished_at"] is not None
    assert client.get(f"/api/runs/{queued}").get_json()["status"] == "interrupted"
    # A live worker's run and another host's fresh run are not touched.
    assert client.get(f"/api/runs/{alive}").get_json()["status"] == "running"
    assert client.get(f"/api/runs/{faraway}").get_json()["status"] == "running"
    owners = store.owners()
    assert f"{host}:{me}:otherworker" in owners and f"{host}:{me}:reusedpid" not in owners
    store.close()


def test_a_stale_heartbeat_is_noticed_while_running(database, make_app):
    app = make_app(OWNER_STALE=2)  # the keeper looks every 0.4 s
    client = app.test_client()
    store = Store(database)
    host = Identity.of_this_process().host
    stale = orphan(store, f"{host}:{os.getpid()}:latecomer123", host, os.getpid(), heartbeat_age=0)
    assert client.get(f"/api/runs/{stale}").get_json()["status"] == "running"
    sql(database, "UPDATE owners SET heartbeat = heartbeat - 60 WHERE owner LIKE '%latecomer%'")
    run = wait_for(client, stale, limit=5)
    assert run["status"] == "interrupted" and len(run["epochs"]) == 2
    store.close()


def test_two_live_processes_leave_each_other_alone(make_app):
    first = make_app(OWNER_STALE=2)
    started = start(first.test_client(), SLOW_2D)
    run_id = started["id"]
    second = make_app(OWNER_STALE=2)  # same file: its start-up recovery sees the first's run
    time.sleep(1.0)  # a few keeper rounds of both
    run = second.test_client().get(f"/api/runs/{run_id}").get_json()
    assert run["status"] == "running"
    # The second process can stop the first's run through the store.
    stopped = stop(second.test_client(), started)
    assert stopped["status"] == "stopped"


def test_shutdown_interrupts_running_and_queued_runs_keeping_epochs(make_app):
    app = make_app(WORKERS=1)
    client = app.test_client()
    running = start(client, SLOW_2D)["id"]
    queued = start(client, SLOW_2D)["id"]
    wait_for(client, running, lambda run: len(run["epochs"]) >= 1)
    app.extensions["playground"].training.shutdown()
    run = client.get(f"/api/runs/{running}").get_json()
    assert run["status"] == "interrupted" and len(run["epochs"]) >= 1 and "shut down" in run["reason"]
    assert client.get(f"/api/runs/{queued}").get_json()["status"] == "interrupted"


def test_the_views_draw_the_same_data_as_training():
    for dataset in ("spiral", "blobs", "mnist"):
        config = parse_config({"dataset": dataset, "epochs": 1, "hidden": [4], "batch_size": 1024})
        trained = next(train(config)).dataset
        drawn = dataset_for(config)
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            np.testing.assert_array_equal(getattr(trained, name), getattr(drawn, name))
