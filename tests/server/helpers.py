"""Configs and waits shared by the server tests."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from server.store import FINAL, engine_url
from tests.procfile import Server

FAST_2D = {"dataset": "spiral", "epochs": 5, "points": 100}  # a few milliseconds
FRESH_FAST_2D = {**FAST_2D, "fresh": True}  # a new run even when a FAST_2D run is stored
# ~0.3 s an epoch, 1000 epochs: runs until stopped. A small rate: batches of 1 at 0.3 can diverge.
SLOW_2D = {"dataset": "spiral", "points": 5000, "batch_size": 1, "epochs": 1000, "lr": 0.03}
SMALL_MNIST = {"dataset": "mnist", "hidden": [32], "batch_size": 256, "epochs": 2}  # ~0.2 s an epoch
DIVERGES = {"dataset": "xor", "lr": 3.0, "hidden": [512, 512, 512], "init": "he", "momentum": 0.99}


def sql(database: str | Path, statement: str, **params: object) -> list[tuple]:
    """The rows of one SQL statement (`:name` parameters) on a test's database, a SQLite file or a
    PostgreSQL URL, through a connection of its own outside the server; committed at once."""
    engine = sa.create_engine(engine_url(database), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            result = connection.execute(sa.text(statement), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def is_sqlite(database: str | Path) -> bool:
    return "://" not in str(database)


def start(client, config: dict) -> dict:
    """A new run of `config` (`fresh`: never a stored run of the same config), through a test client."""
    response = client.post("/api/runs", json={**config, "fresh": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def owner(run: dict) -> dict[str, str]:
    """The header that proves ownership of a run started by start() (its owner token)."""
    return {"Authorization": f"Bearer {run['owner_token']}"}


def stop(client: object, run: dict) -> dict:
    """POST /api/runs/<id>/stop as the run's owner (test client or real server); returns the run."""
    path = f"/api/runs/{run['id']}/stop"
    if isinstance(client, Server):
        request = urllib.request.Request(client.url + path, data=b"", method="POST", headers=owner(run))
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    response = client.post(path, headers=owner(run))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def run_of(client: object, run_id: str) -> dict:
    """GET /api/runs/<id> through a Flask test client or a real server (tests.procfile.Server)."""
    if isinstance(client, Server):
        status, run = client.request("GET", f"/api/runs/{run_id}")
        assert status == 200, run
        return run
    return client.get(f"/api/runs/{run_id}").get_json()


def wait_for(client, run_id: str, until=lambda run: run["status"] in FINAL, limit: float = 60) -> dict:
    """Poll GET /api/runs/<id> (test client or real server) until `until(run)`; returns that run."""
    deadline = time.monotonic() + limit
    while True:
        run = run_of(client, run_id)
        if until(run):
            return run
        assert run["status"] != "failed", run["reason"]
        assert time.monotonic() < deadline, f"run {run_id} is still {run['status']} after {limit} s"
        time.sleep(0.02)
