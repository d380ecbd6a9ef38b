"""The model options through the API: activation, L2 and 2D input features reach training, the stored
weights, the views and predictions; every epoch carries what each layer did; today's URLs keep their
meaning."""

from __future__ import annotations

import io

import numpy as np

from core.config import parse_query
from core.features import FEATURES, expand
from core.network import Network
from core.views import grid_arrays
from tests.server.helpers import FAST_2D, start, wait_for

OPTIONS = {**FAST_2D, "hidden": [8], "activation": "tanh", "l2": 0.01, "features": ["sin_x1", "x1^2", "x1"]}


def test_a_run_with_every_option_trains_with_them_and_reports_the_penalty_apart(client):
    created = start(client, OPTIONS)
    assert created["config"]["features"] == ["x1", "x1^2", "sin_x1"]  # the table's order
    assert created["query"].endswith(
        "&activation=tanh&l2=0.01&noise=0.1&train_ratio=0.7&points=100&classes=3&features=x1,x1^2,sin_x1"
    )
    assert parse_query(created["query"]).to_dict() == created["config"]
    run = wait_for(client, created["id"])
    assert run["status"] == "done" and run["sizes"] == [3, 8, 3]
    for epoch in run["epochs"]:
        assert epoch["l2_penalty"] > 0
        assert [set(layer) for layer in epoch["layers"]] == [
            {"weight_norm", "grad_norm", "update_ratio", "dead", "saturated"}
        ] * 2
        assert epoch["layers"][0]["dead"] is None and 0 <= epoch["layers"][0]["saturated"] <= 1

    weights = client.get(f"/api/runs/{created['id']}/weights.npz").data
    network = Network.load(io.BytesIO(weights))
    assert network.activation == "tanh" and network.sizes == [3, 8, 3]
    points = [[0.1, 0.2], [-0.7, 0.4], [0.9, -0.9]]
    answer = client.post(f"/api/runs/{created['id']}/predict", json={"points": points}).get_json()
    expected = network.predict_proba(expand(np.array(points, np.float32), ["x1", "x1^2", "sin_x1"]))
    np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-5)


def test_the_views_carry_the_test_split_and_a_grid_drawn_from_the_features(client):
    run_id = start(client, {**FAST_2D, "dataset": "circles", "features": "x1^2,x2^2", "epochs": 30})["id"]
    wait_for(client, run_id)
    views = client.get(f"/api/runs/{run_id}/views").get_json()
    assert [len(views["points"][split]) for split in ("train", "val", "test")] == [70, 30, 30]
    assert views["sizes"][0] == 2
    grid = views["grid"]
    predicted, _ = grid_arrays(grid)
    # the cell at the centre and a corner, predicted through the API: the same classes
    centre = [(grid["x_min"] + grid["x_max"]) / 2, (grid["y_min"] + grid["y_max"]) / 2]
    answer = client.post(f"/api/runs/{run_id}/predict", json={"points": [centre]}).get_json()
    assert int(np.argmax(answer["probabilities"][0])) == predicted[24:26, 24:26].max()
    assert len(np.unique(predicted)) == 2  # squared features draw a ring


def test_todays_urls_and_stored_runs_keep_their_meaning(client):
    """A config with none of the new fields gets their defaults and the canonical query it had before."""
    before = (
        "dataset=spiral&hidden=16,16&lr=0.3&batch_size=16&epochs=5&seed=42&noise=0.1&train_ratio=0.7&points=100"
        "&classes=3"
    )
    created = start(client, FAST_2D)
    assert created["query"] == before
    assert created["config"]["activation"] == "relu" and created["config"]["l2"] == 0
    assert created["config"]["features"] == ["x1", "x2"]
    run = wait_for(client, created["id"])
    assert all("l2_penalty" not in epoch for epoch in run["epochs"])
    with np.load(io.BytesIO(client.get(f"/api/runs/{created['id']}/weights.npz").data)) as arrays:
        assert sorted(arrays.files) == ["b0", "b1", "b2", "w0", "w1", "w2"]  # no activation entry for ReLU


def test_a_new_field_on_mnist_and_a_2d_field_on_mnist(client):
    created = start(
        client, {"dataset": "mnist", "hidden": [8], "epochs": 1, "activation": "sigmoid", "l2": 0.001}
    )
    assert created["query"].endswith("&activation=sigmoid&l2=0.001")
    response = client.post("/api/runs", json={"dataset": "mnist", "features": ["x1"]})
    assert response.status_code == 400 and response.get_json()["field"] == "features"
    for bad in ({"activation": "swish"}, {"l2": 1.5}, {"l2": -0.1}, {"dataset": "xor", "features": []}):
        response = client.post("/api/runs", json=bad)
        assert response.status_code == 400 and response.get_json()["field"] == next(
            iter(bad.keys() - {"dataset"})
        )
    wait_for(client, created["id"])


def test_datasets_answer_a_picture_of_each_feature(client):
    body = client.get("/api/datasets").get_json()
    features = body["features"]
    assert list(features["pictures"]) == list(FEATURES) and features["size"] == 16
    row = next(field for field in body["fields"] if field["name"] == "features")
    assert row["control"] == "toggles" and row["optional"] is True and "mnist" not in row["datasets"]
    assert [choice["value"] for choice in row["choices"]] == list(FEATURES)
