"""Each experiment is computed once: POST /api/runs with the config of a stored run that is done, queued
or running answers with that run (200, "reused": true) and trains nothing; `fresh` trains anew. A config
gives the same numbers wherever it trains (two gunicorn workers, or this test's own process)."""

from __future__ import annotations

import io
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.config import parse_config
from core.training import train
from tests.server.helpers import DIVERGES, FAST_2D, SLOW_2D, SMALL_MNIST, sql, start, stop, wait_for


def post(client, body: dict) -> tuple[int, dict]:
    response = client.post("/api/runs", json=body)
    return response.status_code, response.get_json()


def runs_of(database: str, query: str) -> list[str]:
    return [row[0] for row in sql(database, "SELECT id FROM runs WHERE query = :query", query=query)]


def test_the_same_config_twice_trains_once_and_answers_the_same_run(client, database):
    config = {**FAST_2D, "seed": 7}
    status, first = post(client, config)
    assert status == 201 and first["reused"] is False
    done = wait_for(client, first["id"])
    assert done["status"] == "done"

    status, second = post(client, {**config, "hidden": "16,16"})  # spelled differently, the same config
    assert status == 200 and second["reused"] is True
    assert second["id"] == first["id"] and second["status"] == "done"
    assert {key: second[key] for key in ("url", "events", "config", "query")} == {
        key: first[key] for key in ("url", "events", "config", "query")
    }
    assert "Location" not in client.post("/api/runs", json=config).headers
    again = client.get(f"/api/runs/{second['id']}").get_json()
    assert again["epochs"] == done["epochs"]  # the recorded numbers, nothing trained anew
    assert runs_of(database, first["query"]) == [first["id"]]


def test_a_run_still_queued_or_training_is_reused_and_fresh_trains_anew(make_app, database):
    client = make_app(WORKERS=1).test_client()
    running = start(client, SLOW_2D)
    wait_for(client, running["id"], lambda run: run["status"] == "running")
    status, same = post(client, SLOW_2D)
    assert (status, same["id"], same["status"], same["reused"]) == (200, running["id"], "running", True)
    assert "owner_token" not in same  # only the client that started it can stop it
    assert client.post(f"/api/runs/{same['id']}/stop").status_code == 403

    status, queued = post(client, {**SLOW_2D, "fresh": True})  # one training thread: this one waits
    assert status == 201 and queued["id"] != running["id"] and queued["reused"] is False
    assert sorted(runs_of(database, running["query"])) == sorted([running["id"], queued["id"]])
    other = {**SLOW_2D, "seed": 5}
    waiting = start(client, other)
    status, same = post(client, other)
    assert (status, same["id"], same["status"]) == (200, waiting["id"], "queued")
    for run in (running, queued, waiting):
        stop(client, run)


def test_runs_that_ended_stopped_failed_or_interrupted_are_not_reused(make_app, database):
    client = make_app(WORKERS=1).test_client()
    stopped = start(client, SLOW_2D)
    assert stop(client, stopped)["status"] == "stopped"
    status, again = post(client, SLOW_2D)
    assert status == 201 and again["id"] != stopped["id"]
    stop(client, again)

    failed = wait_for(client, start(client, DIVERGES)["id"])
    assert failed["status"] == "failed"
    status, retried = post(client, failed["config"])
    assert status == 201 and retried["id"] != failed["id"]
    wait_for(client, retried["id"])

    interrupted = start(client, {**FAST_2D, "seed": 11})
    wait_for(client, interrupted["id"])
    sql(database, "UPDATE runs SET status = 'interrupted' WHERE id = :id", id=interrupted["id"])
    status, anew = post(client, {**FAST_2D, "seed": 11})
    assert status == 201 and anew["id"] != interrupted["id"]
    wait_for(client, anew["id"])


def test_fresh_must_be_true_or_false_and_is_not_a_config_field(client):
    for bad in ("yes", 1, None, [True]):
        status, error = post(client, {**FAST_2D, "fresh": bad})
        assert status == 400 and error["field"] == "fresh", error
        assert error["error"].startswith("fresh must be true")
    status, created = post(client, {**FAST_2D, "fresh": False})
    assert status == 201 and "fresh" not in created["config"] and "fresh" not in created["query"]
    wait_for(client, created["id"])
    assert post(client, {**FAST_2D, "fresh": False})[0] == 200


def test_reused_answers_do_not_count_against_the_rate_limit(make_app):
    client = make_app(RATE_LIMIT="2 per minute").test_client()
    first = start(client, FAST_2D)
    for _ in range(5):
        status, again = post(client, FAST_2D)
        assert status == 200 and again["id"] == first["id"]
    second = post(client, {**FAST_2D, "seed": 3})
    assert second[0] == 201
    assert post(client, {**FAST_2D, "seed": 4})[0] == 429  # two runs started: the limit is reached
    for run_id in (first["id"], second[1]["id"]):
        wait_for(client, run_id)


# --- across processes (gunicorn as the Procfile starts it) ---------------------------------------------


def test_identical_posts_at_once_make_one_run(procfile_server):
    """The look-up and the insert happen under the queue lock, so concurrent identical requests on two
    workers cannot both create a run."""
    server = procfile_server({"WEB_CONCURRENCY": "2"})
    config = {**FAST_2D, "seed": 21}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: server.request("POST", "/api/runs", config), range(8)))
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({created["id"] for _, created in answers}) == 1
    assert runs_of(server.db, answers[0][1]["query"]) == [answers[0][1]["id"]]
    wait_for(server, answers[0][1]["id"])


def recorded(server, run_id: str) -> tuple[list[dict], list[np.ndarray]]:
    """A run's stored epochs (without `seconds`, the only number that depends on the machine's load)
    and its final weights."""
    run = wait_for(server, run_id)
    assert run["status"] == "done"
    epochs = [{key: value for key, value in epoch.items() if key != "seconds"} for epoch in run["epochs"]]
    with urllib.request.urlopen(server.url + run["weights_url"]) as response:
        with np.load(io.BytesIO(response.read())) as npz:
            weights = [npz[name] for name in sorted(npz.files)]
    return epochs, weights


@pytest.mark.stores("sqlite")  # the numbers come from the core, whatever stores them
def test_the_same_config_trains_to_bit_identical_epochs_in_two_workers_and_in_this_process(procfile_server):
    server = procfile_server({"WEB_CONCURRENCY": "2", "PLAYGROUND_WORKERS": "1"})
    config = {**SMALL_MNIST, "epochs": 3, "seed": 5}
    with ThreadPoolExecutor(2) as pool:  # one training thread a worker: the second run goes to the other
        answers = list(
            pool.map(lambda _: server.request("POST", "/api/runs", {**config, "fresh": True}), "ab")
        )
    ids = [created["id"] for status, created in answers if status == 201]
    assert len(ids) == 2
    (first_epochs, first_weights), (second_epochs, second_weights) = (recorded(server, i) for i in ids)
    owners = sql(server.db, "SELECT DISTINCT owner FROM runs WHERE id IN (:a, :b)", a=ids[0], b=ids[1])
    assert len(owners) == 2  # trained by two processes
    assert first_epochs == second_epochs and len(first_epochs) == 3
    assert all(np.array_equal(a, b) for a, b in zip(first_weights, second_weights, strict=True))

    here = list(train(parse_config(config)))  # a third process: this one
    metrics = [json.loads(json.dumps(result.metrics())) for result in here]
    assert [{key: value for key, value in m.items() if key != "seconds"} for m in metrics] == first_epochs
    network = here[-1].network
    local = [array for _, array in sorted(np.load(io.BytesIO(network.to_bytes())).items())]
    assert all(np.array_equal(a, b) for a, b in zip(local, first_weights, strict=True))
