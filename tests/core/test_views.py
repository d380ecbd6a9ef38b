"""The arrays the page draws: decision grid, confusion matrix, misclassified digits, weight images."""

import numpy as np

from core.config import parse_config
from core.datasets import load_mnist
from core.network import build_network
from core.training import train
from core.views import confusion_matrix, decision_grid, first_layer_images, grid_bounds, misclassified


def test_decision_grid_covers_the_data_and_matches_predictions():
    last = list(train(parse_config({"dataset": "blobs", "epochs": 20})))[-1]
    grid = decision_grid(last.network, last.dataset, size=20)
    assert len(grid["x"]) == len(grid["y"]) == 20
    assert np.array(grid["predicted"]).shape == (20, 20) and np.array(grid["confidence"]).shape == (20, 20)
    x_min, x_max, y_min, y_max = grid_bounds(last.dataset)
    assert x_min < last.dataset.x_train[:, 0].min() and y_max > last.dataset.x_train[:, 1].max()
    # row i, column j is the point (x[j], y[i])
    i, j = 3, 17
    point = np.array([[grid["x"][j], grid["y"][i]]], dtype=np.float32)
    assert grid["predicted"][i][j] == int(last.network.predict(point)[0])
    assert set(np.unique(grid["predicted"]).tolist()) == {0, 1, 2}  # a trained net sees every blob
    assert 0.3 <= np.min(grid["confidence"]) and np.max(grid["confidence"]) <= 1


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


def test_first_layer_images_are_bytes_centred_on_128():
    network = build_network([784, 30, 10], np.random.default_rng(0))
    images = np.array(first_layer_images(network, count=100))
    assert images.shape == (30, 784)
    assert images.min() >= 1 and images.max() <= 255
    assert abs(np.median(images) - 128) <= 2
