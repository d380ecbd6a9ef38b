"""Progress within an epoch: a long epoch reports {epoch, batch, batches, seconds} about once a second
as `event: progress` (no id, never stored with the epochs); short epochs report nothing. In both modes:
embedded (SQLite, PostgreSQL; across gunicorn workers through the store) and scaled ("redis": from the
Procfile's worker through the run's Redis Stream)."""

from __future__ import annotations

import itertools
import time

import pytest

from server.progress import BatchProgress
from tests.server.helpers import FAST_2D, start, stop, wait_for
from tests.server.sse_client import client_events, read_until_done

LONG_EPOCH = {
    "dataset": "mnist",
    "hidden": [512],
    "batch_size": 1,
    "epochs": 3,
}  # 50,000 batches: ~10 s an epoch
BOTH_MODES = pytest.mark.stores("sqlite", "postgres", "redis")


def test_batch_progress_reports_at_most_once_per_interval_and_never_an_epochs_last_batch():
    reports, now = [], [100.0]
    progress = BatchProgress(reports.append, interval=1.0, clock=lambda: now[0])
    for _ in range(2):  # two epochs of 8 batches, 0.4 s each, then 0.5 s of evaluation
        for batch in range(1, 9):
            progress.before_batch()
            now[0] += 0.4
            progress.after_batch(batch, 8)
        now[0] += 0.5
    assert reports == [
        {"epoch": 1, "batch": 3, "batches": 8, "seconds": 1.2},
        {"epoch": 1, "batch": 6, "batches": 8, "seconds": 2.4},
        {"epoch": 2, "batch": 3, "batches": 8, "seconds": 1.2},
        {"epoch": 2, "batch": 6, "batches": 8, "seconds": 2.4},
    ]


@BOTH_MODES
def test_a_long_epoch_streams_progress_events_that_are_never_stored(client):
    run = start(client, LONG_EPOCH)
    response = client.get(f"/api/runs/{run['id']}/events", buffered=False)
    seen = []
    began = time.monotonic()
    try:
        for event in client_events(response):
            if event.event == "progress":
                seen.append((time.monotonic(), event))
            if len(seen) == 3:
                break
            assert time.monotonic() - began < 60, "no progress within a minute"
    finally:
        response.close()
    data = [event.json() for _, event in seen]
    assert all(event.id is None for _, event in seen)  # Last-Event-ID stays an epoch number
    assert [d["epoch"] for d in data] == [1, 1, 1]
    assert all(d["batches"] == 50_000 and 0 < d["batch"] < 50_000 for d in data)
    assert data[0]["batch"] < data[1]["batch"] < data[2]["batch"]
    assert data[0]["seconds"] >= 1.0 and data[2]["seconds"] > data[0]["seconds"]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(seen)]
    assert all(gap > 0.5 for gap in gaps), gaps  # about once a second, not per batch
    stopped = stop(client, run)
    assert all(
        set(epoch) <= {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}
        for epoch in stopped["epochs"]
    )


@BOTH_MODES
def test_short_epochs_send_no_progress(client):
    run = start(client, FAST_2D)
    wait_for(client, run["id"])
    response = client.get(f"/api/runs/{run['id']}/events", buffered=False)
    try:
        events = read_until_done(client_events(response))
    finally:
        response.close()
    assert "progress" not in {event.event for event in events}


def test_progress_reaches_viewers_of_another_process_through_the_store(make_app):
    viewer = make_app(WORKERS=1)
    viewer.extensions["playground"].training.shutdown()  # this process only serves streams
    trainer = make_app(WORKERS=1)
    run = start(viewer.test_client(), LONG_EPOCH)
    response = viewer.test_client().get(f"/api/runs/{run['id']}/events", buffered=False)
    began = time.monotonic()
    try:
        for event in client_events(response):
            if event.event == "progress":
                assert event.json()["epoch"] == 1
                break
            assert time.monotonic() - began < 60, "no progress within a minute"
    finally:
        response.close()
    assert stop(trainer.test_client(), run)["status"] == "stopped"
