"""Bounded memory per response (issue 12, attack 5): replays, timelines, CSVs and weights are streamed from
the store a page or a chunk at a time, and 200 slow readers leave the workers' memory where it was."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from core.network import Network, build_network
from server.store import PAGE_EPOCHS
from tests.server.helpers import FAST_2D, start, wait_for
from tests.server.slow_readers import LONG_2D, WIDE_MNIST, attack, train

pytestmark = pytest.mark.stores("sqlite", "postgres")


def test_200_slow_readers_of_replays_and_weights_leave_the_workers_memory_within_50_mb(procfile_server):
    server = procfile_server()
    replay_run, weights_run = train(server, LONG_2D), train(server, WIDE_MNIST)
    figures = attack(server, replay_run, weights_run, readers=200)
    print(f"\n{figures}")  # bench/slow_readers.py --rounds 2: a second attack adds 2-3 MB
    assert figures.during - figures.before < 250, figures  # a page or a chunk each, not whole answers
    assert figures.after - figures.before < 50, figures  # the thread pool's growth, once, included


def test_a_long_timeline_is_streamed_in_pages_and_equals_the_stream(client):
    epochs = 2 * PAGE_EPOCHS + 3
    run = start(client, {**FAST_2D, "epochs": epochs})
    assert wait_for(client, run["id"])["status"] == "done"
    plain = client.get(f"/api/runs/{run['id']}/timeline")
    zipped = client.get(f"/api/runs/{run['id']}/timeline", headers={"Accept-Encoding": "gzip"})
    assert plain.is_streamed and zipped.headers["Content-Encoding"] == "gzip"
    timeline = json.loads(plain.get_data())["epochs"]
    assert timeline == json.loads(gzip.decompress(zipped.get_data()))["epochs"]
    assert [epoch["epoch"] for epoch in timeline] == list(range(1, epochs + 1))
    assert all("grid" in epoch and "neurons" in epoch for epoch in timeline)
    rows = client.get(f"/api/runs/{run['id']}/metrics.csv").get_data(as_text=True).splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == epochs + 1
    assert [int(row.split(",")[0]) for row in rows[1:]] == list(range(1, epochs + 1))


def test_weights_are_downloaded_in_chunks_byte_for_byte(app, client):
    store = app.extensions["playground"].store
    run = start(client, FAST_2D)
    assert wait_for(client, run["id"])["status"] == "done"
    wide = build_network([784, 512, 512, 10], np.random.default_rng(0)).to_bytes()  # ~2.7 MB: many chunks
    store.add_epoch(run["id"], 99, {"epoch": 99}, "{}", wide)
    response = client.get(f"/api/runs/{run['id']}/weights.npz")
    assert response.status_code == 200 and response.is_streamed
    assert int(response.headers["Content-Length"]) == len(wide)
    assert response.get_data() == wide
    assert store.weights_chunk(run["id"], 99, len(wide) - 10, 100) == wide[-10:]
    assert store.weights_chunk(run["id"], 98, 0, 100) is None  # not that epoch's: replaced
    assert Network.load(response.get_data()).predict_proba(np.zeros((1, 784), np.float32)).shape == (1, 10)
