"""The store budget (issue 12, attack 7): while 32 runs train into a store of a few MB, the oldest runs
lose their heavy parts (weights, views, each epoch's grid and neurons) and the store stays within the
budget; their curves, configs and pages stay, and what needed the weights answers 410 with a sentence."""

from __future__ import annotations

import os
import threading
import time

import pytest

from server.store_budget import EXPIRED_MESSAGE, EXPIRED_PARTS, MB
from tests.server.helpers import is_sqlite, sql, start, wait_for
from tests.server.test_sse import events_of

pytestmark = pytest.mark.stores("sqlite", "postgres")

BUDGET_MB = 8  # its last 15% is room for what two runs write between two checks (a fraction of a second)
RUNS = 32
RUN = {"dataset": "spiral", "epochs": 60, "points": 300}  # ~0.45 MB stored; ~50 kB once expired


def test_the_store_stays_within_its_budget_while_32_runs_train_and_expired_runs_keep_their_curves(
    make_app, database
):
    app = make_app(STORE_MB=BUDGET_MB, QUEUE_SIZE=RUNS, OWNER_STALE=2)
    store = app.extensions["playground"].store
    client = app.test_client()
    sizes: list[int] = []
    training = threading.Event()

    def measure() -> None:
        while not training.wait(0.05):
            sizes.append(store.size_bytes())

    measurer = threading.Thread(target=measure)
    measurer.start()
    try:
        runs = [start(client, {**RUN, "seed": seed}) for seed in range(RUNS)]
        for run in runs:
            wait_for(client, run["id"])
    finally:
        training.set()
        measurer.join()
    time.sleep(0.5)  # the last run's check
    final = store.size_bytes()
    print(f"\nstore size while {RUNS} runs trained: max {max(sizes) / MB:.2f} MB, now {final / MB:.2f} MB")
    assert final <= BUDGET_MB * MB
    assert max(sizes) <= BUDGET_MB * MB  # checked after each run: room for what trains meanwhile
    if is_sqlite(database):  # the file itself shrinks as parts expire (auto_vacuum = INCREMENTAL)
        assert os.path.getsize(database) <= 1.1 * BUDGET_MB * MB

    expired = [run["id"] for run in runs if client.get(f"/api/runs/{run['id']}").get_json()["expired"]]
    assert len(expired) >= RUNS // 2
    finished = [row[0] for row in sql(database, "SELECT id FROM runs ORDER BY finished_at, id")]
    assert expired and set(expired) == set(finished[: len(expired)]), "the oldest runs expire first"

    oldest = client.get(f"/api/runs/{expired[0]}").get_json()
    assert oldest["status"] == "done" and oldest["expired"] == list(EXPIRED_PARTS)
    assert oldest["expired_message"] == EXPIRED_MESSAGE
    assert [epoch["epoch"] for epoch in oldest["epochs"]] == list(range(1, RUN["epochs"] + 1))
    assert all(epoch["val_acc"] >= 0 and epoch["layers"] for epoch in oldest["epochs"])  # the curves
    replay = [event for event in events_of(client, expired[0]) if event.event == "epoch"]
    assert [event.json()["train_loss"] for event in replay] == [e["train_loss"] for e in oldest["epochs"]]
    assert not any("grid" in event.json() or "neurons" in event.json() for event in replay)
    timeline = client.get(f"/api/runs/{expired[0]}/timeline").get_json()["epochs"]
    assert len(timeline) == RUN["epochs"] and "grid" not in timeline[0]
    assert client.get(f"/api/runs/{expired[0]}/metrics.csv").get_data(as_text=True).count("\n") == 61

    for answer in (
        client.get(f"/api/runs/{expired[0]}/weights.npz"),
        client.get(f"/api/runs/{expired[0]}/views"),
        client.post(f"/api/runs/{expired[0]}/predict", json={"points": [[0.1, 0.2]]}),
    ):
        assert answer.status_code == 410 and answer.get_json()["error"] == EXPIRED_MESSAGE
    again = client.post("/api/runs", json={**RUN, "seed": 0})  # an expired run is not reused
    assert again.status_code == 201 and again.get_json()["id"] != expired[0]

    newest = client.get(f"/api/runs/{runs[-1]['id']}").get_json()
    assert newest["expired"] == [] and newest["expired_message"] is None
    assert client.get(f"/api/runs/{runs[-1]['id']}/weights.npz").status_code == 200
