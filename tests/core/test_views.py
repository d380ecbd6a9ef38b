"""The arrays the page draws: decision grid, confusion matrix, misclassified digits, weight images."""

import json

import numpy as np

from core.config import parse_config
from core.datasets import load_mnist, load_mnist_test, make_2d
from core.network import build_network
from core.training import train
from core.views import (
    confusion_matrix,
    decision_grid,
    first_layer_images,
    grid_arrays,
    grid_bounds,
    misclassified,
)


def test_decision_grid_covers_the_data_and_matches_predictions():
    last = list(train(parse_config({"dataset": "blobs", "epochs": 20})))[-1]
    grid = decision_grid(last.network, last.dataset, size=20)
    predicted, confidence = grid_arrays(grid)
    assert grid["size"] == 20 and predicted.shape == confidence.shape == (20, 20)
    assert len(grid["predicted"]) == len(grid["confidence"]) == 4 * 134  # base64: 4 characters per 3 bytes
    x_min, x_max, y_min, y_max = grid_bounds(last.dataset)
    assert (
        grid["x_min"] < last.dataset.x_train[:, 0].min() and grid["y_max"] > last.dataset.x_train[:, 1].max()
    )
    assert abs(grid["x_min"] - x_min) < 1e-4 and abs(grid["y_max"] - y_max) < 1e-4
    # row i, column j is the point (x[j], y[i]) of np.linspace over the grid's range
    xs = np.linspace(grid["x_min"], grid["x_max"], 20)
    ys = np.linspace(grid["y_min"], grid["y_max"], 20)
    gx, gy = np.meshgrid(xs, ys)
    points = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
    assert predicted.ravel().tolist() == last.network.predict(points).tolist()
    best = last.network.predict_proba(points).max(axis=1).reshape(20, 20)
    assert np.abs(confidence - best).max() <= 0.5 / 255 + 1e-9  # one byte: 1/255 steps
    assert set(np.unique(predicted).tolist()) == {0, 1, 2}  # a trained net sees every blob
    assert 0.3 <= confidence.min() and confidence.max() <= 1


def test_decision_grid_is_json_and_rows_go_up_in_y():
    network = build_network([2, 2], np.random.default_rng(0))
    network.dense_layers[0].weights[:] = [[0, 0], [-1, 1]]  # class 1 where y > 0, class 0 below
    data = make_2d("circles", np.random.default_rng(1), n_points=60, n_classes=2)  # around (0, 0)
    grid = json.loads(json.dumps(decision_grid(network, data, size=9)))
    predicted, _ = grid_arrays(grid)
    ys = np.linspace(grid["y_min"], grid["y_max"], 9)
    assert predicted[ys < 0].max() == 0 and predicted[ys > 0].min() == 1  # row 0 is the bottom


def test_confusion_matrix_counts_every_example():
    data = load_mnist()
    network = build_network([784, 10], np.random.default_rng(0))
    counts = np.array(confusion_matrix(network, data.x_val[:500], data.y_val[:500], 10))
    assert counts.shape == (10, 10) and counts.sum() == 500
    assert counts.sum(axis=1).tolist() == np.bincount(data.y_val[:500], minlength=10).tolist()
    predicted = network.predict(data.x_val[:500])
    assert np.trace(counts) == int((predicted == data.y_val[:500]).sum())


def test_misclassified_are_really_wrong():
    data = load_mnist()
    network = build_network([784, 10], np.random.default_rng(0))
    wrong = misclassified(network, data.x_test[:300], data.y_test[:300], count=5)
    assert len(wrong) == 5
    for item in wrong:
        assert item["true"] == data.y_test[item["index"]] != item["predicted"]
        assert len(item["pixels"]) == 784 and max(item["pixels"]) <= 255
        assert 0 < item["probability"] <= 1


def test_misclassified_reads_uint8_digits_as_the_same_inputs():
    data = load_mnist()
    x_test, y_test = load_mnist_test()
    network = build_network([784, 10], np.random.default_rng(0))
    from_floats = misclassified(network, data.x_test, data.y_test, count=12)
    from_bytes = misclassified(network, x_test, y_test, count=12)
    assert from_bytes == from_floats and len(from_bytes) == 12
    assert from_bytes[0]["pixels"] == x_test[from_bytes[0]["index"]].tolist()


def test_first_layer_images_are_bytes_centred_on_128():
    network = build_network([784, 30, 10], np.random.default_rng(0))
    images = np.array(first_layer_images(network, count=100))
    assert images.shape == (30, 784)
    assert images.min() >= 1 and images.max() <= 255
    assert abs(np.median(images) - 128) <= 2
