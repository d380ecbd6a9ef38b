"""Input features of the 2D sets: their formulas, one function from points to the network's input, used by
training, the decision grid and predictions alike; and the pictures the page shows beside the toggles."""

import base64

import numpy as np
import pytest

from core.config import FieldError, parse_config
from core.features import DEFAULT_FEATURES, FEATURES, PICTURE_SIZE, expand, feature_pictures, network_inputs
from core.training import train
from core.views import decision_grid, grid_arrays

POINTS = np.array([[0.5, -0.25], [-1.0, 2.0], [0.0, 0.0]], dtype=np.float32)


def test_each_feature_is_its_formula():
    expected = {
        "x1": [0.5, -1.0, 0.0],
        "x2": [-0.25, 2.0, 0.0],
        "x1^2": [0.25, 1.0, 0.0],
        "x2^2": [0.0625, 4.0, 0.0],
        "x1x2": [-0.125, -2.0, 0.0],
        "sin_x1": [1.0, 0.0, 0.0],  # sin(pi * x1)
        "sin_x2": [-np.sqrt(0.5), 0.0, 0.0],
    }
    assert list(expected) == list(FEATURES)
    for name, values in expected.items():
        np.testing.assert_allclose(expand(POINTS, [name])[:, 0], values, atol=1e-6, err_msg=name)


def test_expand_keeps_the_given_order_and_gives_float32():
    inputs = expand(POINTS, ["x2^2", "x1"])
    assert inputs.shape == (3, 2) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs[:, 1], POINTS[:, 0])
    assert expand(POINTS, DEFAULT_FEATURES) is POINTS  # the default: the points as they are


def test_network_inputs_follow_the_runs_config():
    config = parse_config({"dataset": "moons", "features": "x1x2,sin_x2,x1"})
    assert config.features == ("x1", "x1x2", "sin_x2")  # canonical: the table's order
    assert config.layer_sizes[0] == 3
    np.testing.assert_array_equal(network_inputs(config, POINTS), expand(POINTS, config.features))
    pixels = np.zeros((2, 784), np.float32)
    assert network_inputs(parse_config({}), pixels) is pixels  # MNIST: the pixels as they are


def test_squared_features_let_a_linear_network_learn_the_circles():
    """Circles are not linearly separable in (x1, x2) but are in (x1^2, x2^2): the features reach training."""
    base = {"dataset": "circles", "activation": "linear", "hidden": [4], "epochs": 30}
    without = list(train(parse_config(base)))[-1]
    squared = list(train(parse_config(base | {"features": "x1^2,x2^2"})))[-1]
    assert squared.network.sizes == [2, 4, 2]
    assert without.val_acc < 0.75 < 0.95 < squared.val_acc


def test_the_decision_grid_reads_the_runs_features():
    config = parse_config({"dataset": "circles", "features": "x1,x2,x1^2,x2^2", "epochs": 20})
    last = list(train(config))[-1]
    grid = decision_grid(last.network, last.dataset, size=12, features=config.features)
    predicted, _ = grid_arrays(grid)
    xs = np.linspace(grid["x_min"], grid["x_max"], 12)
    ys = np.linspace(grid["y_min"], grid["y_max"], 12)
    points = np.array([[x, y] for y in ys for x in xs], dtype=np.float32)
    expected = last.network.predict(expand(points, config.features)).reshape(12, 12)
    np.testing.assert_array_equal(predicted, expected)
    assert len(np.unique(predicted)) == 2


def test_feature_pictures_show_each_feature_over_the_plane():
    pictures = feature_pictures()
    assert list(pictures) == list(FEATURES)
    grids = {
        name: np.frombuffer(base64.b64decode(text), np.uint8).reshape(PICTURE_SIZE, PICTURE_SIZE)
        for name, text in pictures.items()
    }
    assert (np.diff(grids["x1"].astype(int), axis=1) > 0).all()  # grows to the right, along columns
    assert (np.diff(grids["x2"].astype(int), axis=0) > 0).all()  # grows upwards, along rows
    assert grids["x1^2"].min() >= 128 and grids["x1^2"].max() == 255  # never negative
    assert grids["x1x2"][0, 0] == grids["x1x2"][-1, -1] == 255 and grids["x1x2"][0, -1] == 1


@pytest.mark.parametrize("bad", [[], "", "x1,x1", "x3", ["x1", 2], 5])
def test_bad_feature_lists_are_refused_naming_the_field(bad):
    with pytest.raises(FieldError) as caught:
        parse_config({"dataset": "spiral", "features": bad})
    assert caught.value.field == "features" and caught.value.message[0].isalpha()
