"""The JSON API through Flask's test client: every route, its statuses and its errors, in both modes
(embedded on SQLite and PostgreSQL; scaled: "redis", with Procfile workers training). Input checks
that happen before anything is stored or queued run on the embedded stores only."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from core.config import defaults_for
from core.datasets import load_mnist
from core.network import Network
from core.views import grid_arrays
from server.run_json import RUN_ID_RE
from tests.server.helpers import DIVERGES, FAST_2D, SLOW_2D, SMALL_MNIST, start, stop, wait_for

pytestmark = pytest.mark.stores("sqlite", "postgres", "redis")
EMBEDDED = pytest.mark.stores("sqlite", "postgres")  # checks that never reach the training seam

# --- POST /api/runs --------------------------------------------------------------------------------


def test_start_run_answers_201_with_links_and_the_normalised_config(client):
    response = client.post("/api/runs", json={"dataset": "spiral", "epochs": 5, "hidden": "8,8"})
    assert response.status_code == 201
    body = response.get_json()
    assert RUN_ID_RE.fullmatch(body["id"])
    assert body["url"] == f"/runs/{body['id']}"
    assert body["events"] == f"/api/runs/{body['id']}/events"
    assert response.headers["Location"] == f"/api/runs/{body['id']}"
    expected = {**defaults_for("spiral").to_dict(), "epochs": 5, "hidden": [8, 8]}
    assert body["config"] == expected
    assert body["query"].startswith("dataset=spiral&hidden=8,8&")
    wait_for(client, body["id"])


@EMBEDDED
def test_run_ids_are_random_and_url_safe(client):
    ids = {start(client, FAST_2D)["id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{12}", run_id) for run_id in ids)
    for run_id in ids:
        wait_for(client, run_id)


@EMBEDDED
@pytest.mark.parametrize(
    "body, field",
    [
        ({"dataset": "cifar"}, "dataset"),
        ({"dataset": "spiral", "lr": "fast"}, "lr"),
        ({"dataset": "spiral", "lr": 10}, "lr"),
        ({"dataset": "spiral", "hidden": [0]}, "hidden"),
        ({"dataset": "spiral", "hidden": [8, 8, 8, 8, 8]}, "hidden"),
        ({"dataset": "mnist", "epochs": 101}, "epochs"),
        ({"dataset": "mnist", "noise": 0.1}, "noise"),
        ({"dataset": "spiral", "colour": "red"}, "colour"),
        ({"dataset": "spiral", "batch_size": True}, "batch_size"),
        ({"dataset": "spiral", "epochs": 1e300}, "epochs"),
        ({"dataset": "spiral", "epochs": 10**400}, "epochs"),  # too large even to turn into a float
        ({"dataset": "spiral", "hidden": [10**400]}, "hidden"),
        ([1, 2, 3], "body"),
        ("spiral", "body"),
    ],
)
def test_bad_configs_answer_400_naming_the_field(client, body, field):
    response = client.post("/api/runs", json=body)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["error"].endswith(".")


@EMBEDDED
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"{not json",
        b'{"dataset": "spiral", "lr": NaN}',
        b'{"lr": Infinity}',
        b"\xff\xfe{}",
        b"[" * 100000,
    ],
)
def test_unreadable_bodies_answer_400_json(client, data):
    response = client.post("/api/runs", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


@EMBEDDED
def test_a_body_without_json_content_type_is_still_read(client):
    response = client.post("/api/runs", data=b'{"dataset": "spiral", "epochs": 2, "points": 60}')
    assert response.status_code == 201
    wait_for(client, response.get_json()["id"])


@EMBEDDED
def test_a_huge_body_answers_413_json(make_app):
    client = make_app(MAX_CONTENT_LENGTH=4096).test_client()
    response = client.post("/api/runs", data=b"{" + b" " * 10_000 + b"}", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {
        "error": "The request body is too large: the limit is 4096 bytes.",
        "field": "body",
    }


def test_full_queue_answers_429_with_retry_after(make_app):
    client = make_app(WORKERS=1, QUEUE_SIZE=1).test_client()
    running = start(client, SLOW_2D)
    wait_for(client, running["id"], lambda run: run["status"] == "running")
    queued = start(client, SLOW_2D)
    refused = client.post("/api/runs", json={**SLOW_2D, "fresh": True})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "busy" in refused.get_json()["error"]
    assert wait_for(client, queued["id"], lambda run: True)["position"] == 1
    stop(client, queued)
    stop(client, running)
    again = client.post("/api/runs", json=FAST_2D)  # places are free again
    assert again.status_code == 201
    wait_for(client, again.get_json()["id"])


# --- GET /api/runs/<id> ----------------------------------------------------------------------------


def test_a_finished_run_has_all_its_epochs_and_its_test_accuracy(client):
    run_id = start(client, FAST_2D)["id"]
    run = wait_for(client, run_id)
    assert run["status"] == "done"
    assert [e["epoch"] for e in run["epochs"]] == [1, 2, 3, 4, 5]
    metrics = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}
    assert set(run["epochs"][0]) == metrics | {"layers"}
    assert len(run["epochs"][0]["layers"]) == 3  # one per Dense layer (core/diagnostics.py)
    assert run["epochs"][-1]["test_acc"] == run["test_acc"]
    assert 0 <= run["test_acc"] <= 1 and run["test_loss"] > 0
    assert run["total_epochs"] == 5
    assert (
        run["sizes"] == [2, 16, 16, 3] and run["parameter_count"] == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    )
    for key in ("created_at", "started_at", "finished_at"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", run[key]), run[key]
    assert run["created_at"] <= run["started_at"] <= run["finished_at"]
    assert run["reason"] is None and "position" not in run
    assert run["url"] == f"/runs/{run_id}" and run["events"] == f"/api/runs/{run_id}/events"


def test_the_same_config_gives_the_same_numbers(client):
    first = wait_for(client, start(client, FAST_2D)["id"])
    second = wait_for(client, start(client, FAST_2D)["id"])

    def numbers(run):
        return [{k: v for k, v in e.items() if k != "seconds"} for e in run["epochs"]]

    assert numbers(first) == numbers(second)


def test_a_queued_run_reports_its_position(make_app):
    client = make_app(WORKERS=1, QUEUE_SIZE=3).test_client()
    blocker = start(client, SLOW_2D)
    wait_for(client, blocker["id"], lambda run: run["status"] == "running")
    waiting = [start(client, SLOW_2D) for _ in range(3)]
    positions = [client.get(f"/api/runs/{run['id']}").get_json()["position"] for run in waiting]
    assert positions == [1, 2, 3]
    stop(client, waiting[0])
    assert client.get(f"/api/runs/{waiting[2]['id']}").get_json()["position"] == 2
    for run in [blocker, *waiting]:
        stop(client, run)


@EMBEDDED
@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/AAAAAAAAAAAA",
        "/api/runs/short",
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/AAAAAAAAAAAA/events",
        "/api/runs/AAAAAAAAAAAA/views",
        "/api/runs/AAAAAAAAAAAA/weights.npz",
        "/api/runs/AAAAAAAAAAAA/metrics.csv",
        "/api/runs/AAAAAAAAAAAA';DROP TABLE runs;--/views",
        "/api/nothing",
    ],
)
def test_unknown_runs_and_routes_answer_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]


@EMBEDDED
def test_unknown_run_on_post_routes_is_404_json(client):
    for path in ("/api/runs/AAAAAAAAAAAA/stop", "/api/runs/AAAAAAAAAAAA/predict"):
        response = client.post(path, json={"points": [[0, 0]]})
        assert response.status_code == 404 and response.is_json


@EMBEDDED
def test_wrong_method_answers_405_json(client):
    response = client.get("/api/runs")
    assert response.status_code == 405
    assert "POST" in response.get_json()["error"] and "POST" in response.headers["Allow"]
    assert client.delete("/api/datasets").status_code == 405


# --- stop ------------------------------------------------------------------------------------------


def test_stop_a_running_run(client):
    started = start(client, SLOW_2D)
    wait_for(client, started["id"], lambda run: len(run["epochs"]) >= 1)
    run = stop(client, started)
    assert run["status"] == "stopped" and run["reason"]
    assert 1 <= len(run["epochs"]) < 1000 and run["test_acc"] is None


def test_stop_a_queued_run(make_app):
    client = make_app(WORKERS=1).test_client()
    blocker = start(client, SLOW_2D)
    queued = start(client, SLOW_2D)
    run = stop(client, queued)
    assert run["status"] == "stopped" and run["epochs"] == []
    stop(client, blocker)


def test_stop_a_finished_run_is_a_no_op(client):
    started = start(client, FAST_2D)
    wait_for(client, started["id"])
    assert stop(client, started)["status"] == "done"


# --- failures --------------------------------------------------------------------------------------


def test_a_diverging_run_fails_with_the_reason(client):
    run = wait_for(client, start(client, DIVERGES)["id"])
    assert run["status"] == "failed"
    assert "learning rate" in run["reason"] and "lower" in run["reason"]


@EMBEDDED  # the scaled mode's: tests/server/test_scaled.py (the error is logged by the worker)
def test_an_unexpected_error_fails_the_run_generically_and_the_runner_goes_on(app, client, caplog):
    # A stored config the trainer cannot handle (one data point: an empty training set), as an
    # older or hand-edited row could be; the API's validation would refuse it.
    training = app.extensions["playground"].training
    config = {**defaults_for("spiral").to_dict(), "points": 1, "epochs": 2}
    broken, _ = training.submit(config, "dataset=spiral", 2)
    run = wait_for(client, broken)
    assert run["status"] == "failed"
    assert (
        run["reason"]
        == "Training failed because of an error in the server; it has been logged for the operators."
    )
    assert any(broken in record.getMessage() for record in caplog.records)
    assert wait_for(client, start(client, FAST_2D)["id"])["status"] == "done"


# --- predict, views, downloads ---------------------------------------------------------------------


def test_predict_2d_points(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.post(f"/api/runs/{run_id}/predict", json={"points": [[0, 0], [0.5, -0.5], [1, 1]]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["classes"] == ["0", "1", "2"]
    probabilities = np.array(body["probabilities"])
    assert probabilities.shape == (3, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@EMBEDDED
@pytest.mark.parametrize(
    "body, field",
    [
        ({"pixels": [[0] * 784]}, "pixels"),
        ({"points": []}, "points"),
        ({"points": [[0, 0, 0]]}, "points"),
        ({"points": [[0, "1"]]}, "points"),
        ({"points": [[0, True]]}, "points"),
        ({"points": [[0, 1e308 * 10]]}, "body"),
        ({"points": [[0, 1e9]]}, "points"),
        ({"points": [[0, 10**400]]}, "points"),
        ({"points": [[0, 0]] * 101}, "points"),
        ({"points": "0,0"}, "points"),
        ({}, "points"),
        ([[0, 0]], "body"),
    ],
)
def test_predict_refuses_bad_inputs(client, body, field):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.post(f"/api/runs/{run_id}/predict", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field


def test_no_weights_yet_answers_409(make_app):
    client = make_app(WORKERS=1).test_client()
    blocker = start(client, SLOW_2D)
    queued = start(client, FAST_2D)
    assert client.post(f"/api/runs/{queued['id']}/predict", json={"points": [[0, 0]]}).status_code == 409
    assert client.get(f"/api/runs/{queued['id']}/weights.npz").status_code == 409
    views = client.get(f"/api/runs/{queued['id']}/views").get_json()
    assert len(views["points"]["train"]) == 70 and "grid" not in views  # points even before training
    stop(client, blocker)


def test_2d_views_points_and_grid(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    views = client.get(f"/api/runs/{run_id}/views").get_json()
    assert views["sizes"] == [2, 16, 16, 3] and views["parameter_count"] > 0
    assert len(views["points"]["train"]) == 70 and len(views["points"]["val"]) == 30
    assert all(len(p) == 3 and p[2] in (0, 1, 2) for p in views["points"]["train"])
    predicted, confidence = grid_arrays(views["grid"])
    assert predicted.shape == confidence.shape == (50, 50)
    assert predicted.max() <= 2 and 0.3 <= confidence.min() and confidence.max() <= 1


def test_mnist_views_predict_and_weights(client):
    run_id = start(client, SMALL_MNIST)["id"]
    run = wait_for(client, run_id)
    assert run["status"] == "done" and run["test_acc"] > 0.85

    views = client.get(f"/api/runs/{run_id}/views").get_json()
    assert views["sizes"] == [784, 32, 10]
    confusion = np.array(views["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 10000
    assert np.trace(confusion) / 10000 == pytest.approx(run["epochs"][-1]["val_acc"])
    assert 1 <= len(views["misclassified"]) <= 12
    wrong = views["misclassified"][0]
    assert wrong["true"] != wrong["predicted"] and len(wrong["pixels"]) == 784
    assert len(views["first_layer"]) == 32 and len(views["first_layer"][0]) == 784
    assert "points" not in views

    digit = np.array(wrong["pixels"]) / 255
    answer = client.post(f"/api/runs/{run_id}/predict", json={"pixels": [digit.tolist()]}).get_json()
    assert answer["classes"] == [str(d) for d in range(10)]
    assert sum(answer["probabilities"][0]) == pytest.approx(1, abs=1e-5)
    assert int(np.argmax(answer["probabilities"][0])) == wrong["predicted"]

    download = client.get(f"/api/runs/{run_id}/weights.npz")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == f'attachment; filename="run-{run_id}-epoch-2.npz"'
    with np.load(io.BytesIO(download.data)) as arrays:
        assert sorted(arrays.files) == ["b0", "b1", "w0", "w1"] and arrays["w0"].shape == (784, 32)
    network = Network.load(download.data)
    np.testing.assert_allclose(
        network.predict_proba(digit[None].astype(np.float32))[0], answer["probabilities"][0], atol=1e-5
    )

    bad = client.post(f"/api/runs/{run_id}/predict", json={"pixels": [[2.0] * 784]})
    assert bad.status_code == 400 and bad.get_json()["field"] == "pixels"


@EMBEDDED
def test_metrics_csv(client):
    run_id = start(client, FAST_2D)["id"]
    run = wait_for(client, run_id)
    response = client.get(f"/api/runs/{run_id}/metrics.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3, 4, 5]
    assert float(rows[2]["val_loss"]) == run["epochs"][2]["val_loss"]
    assert rows[0]["test_acc"] == "" and float(rows[-1]["test_acc"]) == run["test_acc"]
    assert rows[0]["l2_penalty"] == ""  # no L2 in this run


def test_metrics_csv_has_the_l2_penalty_of_a_run_with_l2(client):
    run_id = start(client, {**FAST_2D, "l2": 0.01})["id"]
    run = wait_for(client, run_id)
    text = client.get(f"/api/runs/{run_id}/metrics.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [float(row["l2_penalty"]) for row in rows] == [epoch["l2_penalty"] for epoch in run["epochs"]]


# --- datasets and health ---------------------------------------------------------------------------


@EMBEDDED
def test_datasets(client):
    response = client.get("/api/datasets")
    assert response.status_code == 200
    body = response.get_json()
    names = [d["name"] for d in body["datasets"]]
    assert names == ["mnist", "spiral", "circles", "moons", "xor", "blobs", "custom"]
    by_name = {d["name"]: d for d in body["datasets"]}
    mnist = by_name["mnist"]
    assert mnist["kind"] == "image" and mnist["input_shape"] == [28, 28] and len(mnist["classes"]) == 10
    assert mnist["defaults"] == defaults_for("mnist").to_dict() and mnist["max_epochs"] == 100
    assert [p["label"] for p in mnist["preview"]] == list(range(10))
    data = load_mnist()
    for preview in mnist["preview"]:
        first = int(np.flatnonzero(data.y_test == preview["label"])[0])
        np.testing.assert_array_equal(preview["pixels"], np.round(data.x_test[first] * 255))
    spiral = by_name["spiral"]
    assert spiral["kind"] == "2d" and spiral["input_shape"] == [2] and spiral["classes"] == ["0", "1", "2"]
    assert by_name["moons"]["classes"] == ["0", "1"] and spiral["max_epochs"] == 1000
    assert len(spiral["preview"]) == 150 and all(len(p) == 3 for p in spiral["preview"])
    assert body["limits"]["max_hidden_layers"] == 4
    custom = by_name["custom"]  # your own points: none to preview, the rules of an upload instead
    assert custom["kind"] == "2d" and custom["preview"] == [] and custom["defaults"]["data"] is None
    assert custom["upload"] == {
        "columns": ["x", "y", "label"],
        "min_points": 10,
        "max_points": 5000,
        "min_classes": 2,
        "max_classes": 6,
        "max_coordinate": 1000.0,
    }


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["ok"] is True
