"""The network diagram's data (core.views.neuron_view): decoded, every unit's picture is the unit's output
computed directly, layer by layer, on the plane; the edges' weights and the biases are the network's."""

import json

import numpy as np
import pytest

from core.config import parse_config
from core.datasets import make_2d
from core.features import expand
from core.network import build_network
from core.views import NEURON_PICTURE, decision_grid, grid_arrays, neuron_view, pack_signed, unpack_signed


def circles():
    return make_2d("circles", np.random.default_rng(1), n_points=80, n_classes=2)


def pictures(entry: dict, size: int) -> np.ndarray:
    """A layer's decoded pictures: (units, size, size), row 0 at the lowest y."""
    units = len(entry["scales"])
    text = entry["pictures"]
    assert len(text) == units * size * size
    step = size * size
    return np.array(
        [unpack_signed(text[u * step : (u + 1) * step], s) for u, s in enumerate(entry["scales"])]
    ).reshape(units, size, size)


def plane(grid: dict, size: int) -> np.ndarray:
    """The points of a size x size grid over a decision grid's range, row after row, row 0 lowest y."""
    gx, gy = np.meshgrid(
        np.linspace(grid["x_min"], grid["x_max"], size), np.linspace(grid["y_min"], grid["y_max"], size)
    )
    return np.c_[gx.ravel(), gy.ravel()]


def test_packed_values_come_back_within_half_a_step_and_zero_is_exact():
    values = np.array([-2.0, -1.0, 0.0, 0.01, 0.5, 2.0])
    text = pack_signed(values, 2.0)
    assert len(text) == 6 and text[2] == "f"  # digit 31 is zero
    back = unpack_signed(text, 2.0)
    assert np.abs(back - values).max() <= 2.0 / 62 + 1e-12
    assert back[2] == 0 and back[0] == -2 and back[-1] == 2


@pytest.mark.parametrize(
    ("activation", "features", "function"),
    [
        ("relu", ["x1", "x2"], lambda z: np.maximum(z, 0)),
        ("tanh", ["x1", "x2", "x1^2", "sin_x2"], np.tanh),
        ("sigmoid", ["x1x2", "x2^2"], lambda z: 1 / (1 + np.exp(-z))),
    ],
)
def test_each_units_picture_is_its_output_on_the_plane_by_a_direct_forward_pass(
    activation, features, function
):
    config = parse_config(
        {"dataset": "circles", "hidden": [3, 2], "activation": activation, "features": features}
    )
    data = circles()
    rng = np.random.default_rng(5)
    network = build_network(config.layer_sizes, rng, activation=activation, dtype=np.float64)
    for dense in network.dense_layers:
        dense.biases[:] = rng.normal(size=dense.biases.shape)
    view = json.loads(json.dumps(neuron_view(network, config, data)))  # as a page receives it
    assert view["size"] == NEURON_PICTURE and len(view["layers"]) == 3

    # The direct forward pass: the run's features of each point, then Dense and activation by hand.
    points = plane(decision_grid(network, data, features=features), NEURON_PICTURE)
    (w0, b0), (w1, b1), (w2, b2) = [(d.weights, d.biases) for d in network.dense_layers]
    hidden1 = function(expand(points, config.features).astype(np.float64) @ w0 + b0)
    hidden2 = function(hidden1 @ w1 + b1)
    logits = hidden2 @ w2 + b2
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    for entry, expected in zip(view["layers"], (hidden1, hidden2, probabilities), strict=True):
        shown = pictures(entry, NEURON_PICTURE)
        expected = expected.T.reshape(-1, NEURON_PICTURE, NEURON_PICTURE)
        scales = np.array(entry["scales"])
        assert shown.shape == expected.shape
        tolerance = scales[:, None, None] / 62 + 1e-3 * scales[:, None, None]  # half a step (+ rounding)
        assert (np.abs(shown - expected) <= tolerance).all()
    # Hidden units are scaled by their largest magnitude on the plane (1 for a unit that is 0 all
    # over); output units show probabilities.
    largest = np.abs(hidden1).max(axis=0)
    assert np.allclose(view["layers"][0]["scales"], np.where(largest > 0, largest, 1), rtol=1e-3)
    assert view["layers"][-1]["scales"] == [1.0, 1.0]
    # The pictures are the right way up: the output picture of class 1 agrees with the decision grid.
    predicted, _ = grid_arrays(decision_grid(network, data, size=NEURON_PICTURE, features=features))
    class1 = pictures(view["layers"][-1], NEURON_PICTURE)[1]
    sure = np.abs(class1 - 0.5) > 0.05
    assert ((class1 > 0.5) == (predicted == 1))[sure].all()


def test_the_edges_weights_and_the_biases_are_the_networks():
    config = parse_config({"dataset": "circles", "hidden": [4]})
    network = build_network(config.layer_sizes, np.random.default_rng(2))
    view = neuron_view(network, config, circles())
    for entry, dense in zip(view["layers"], network.dense_layers, strict=True):
        weights = unpack_signed(entry["weights"], entry["weight_scale"]).reshape(len(entry["biases"]), -1)
        weights = weights.reshape(dense.weights.shape)  # rows: input units, columns: units
        assert np.abs(weights - dense.weights).max() <= entry["weight_scale"] / 62 + 1e-6
        assert entry["weight_scale"] == pytest.approx(np.abs(dense.weights).max(), rel=1e-3)
        assert entry["biases"] == pytest.approx(dense.biases.tolist(), rel=1e-2, abs=1e-6)


def test_wide_layers_record_their_first_16_units_and_mnist_gets_edges_without_pictures():
    config = parse_config({"dataset": "spiral", "hidden": [40, 5], "classes": 3})
    network = build_network(config.layer_sizes, np.random.default_rng(0))
    view = neuron_view(network, config, make_2d("spiral", np.random.default_rng(0), 90, 3))
    first, second, last = view["layers"]
    assert (len(first["biases"]), len(first["weights"]), len(first["pictures"])) == (16, 2 * 16, 16 * 256)
    assert (len(second["biases"]), len(second["weights"])) == (5, 16 * 5)
    assert len(last["biases"]) == 3 and len(last["pictures"]) == 3 * 256
    weights = unpack_signed(second["weights"], second["weight_scale"]).reshape(16, 5)
    assert np.abs(weights - network.dense_layers[1].weights[:16]).max() <= second["weight_scale"] / 62 + 1e-6

    mnist = parse_config({"dataset": "mnist", "hidden": [32]})
    view = neuron_view(build_network(mnist.layer_sizes, np.random.default_rng(0)), mnist, None)
    assert "size" not in view and all("pictures" not in entry for entry in view["layers"])
    assert [len(entry["weights"]) for entry in view["layers"]] == [16 * 16, 16 * 10]


def test_a_blown_up_network_still_gives_valid_json():
    config = parse_config({"dataset": "circles", "hidden": [3]})
    network = build_network(config.layer_sizes, np.random.default_rng(0))
    network.dense_layers[0].weights[0, 0] = np.inf
    network.dense_layers[1].biases[0] = np.nan
    text = json.dumps(neuron_view(network, config, circles()), allow_nan=False)  # raises on nan/inf
    assert "Infinity" not in text and "NaN" not in text
