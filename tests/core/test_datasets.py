"""The shipped MNIST is the real one, split as the tutorial does; the 2D sets follow their seed."""

import numpy as np
import pytest

from core.datasets import GENERATED_SETS, MNIST_PATH, DatasetError, load_mnist, make_2d


def test_mnist_is_the_real_set_split_50k_10k_10k():
    data = load_mnist()
    assert data.x_train.shape == (50000, 784) and data.x_val.shape == (10000, 784)
    assert data.x_test.shape == (10000, 784)
    assert data.x_train.dtype == np.float32 and 0 <= data.x_train.min() and data.x_train.max() == 1
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert data.y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    all_train = np.concatenate([data.y_train, data.y_val])
    counts = np.bincount(all_train).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    pixels = np.concatenate([data.x_train, data.x_val])
    assert abs(pixels.mean() * 255 - 33.318) < 0.01
    assert data.classes == [str(d) for d in range(10)]


def test_mnist_is_loaded_once_and_read_only():
    assert load_mnist() is load_mnist()
    with pytest.raises(ValueError):
        load_mnist().x_train[0, 0] = 1


def test_missing_mnist_says_how_to_fix(tmp_path):
    with pytest.raises(DatasetError, match="missing.*git checkout"):
        load_mnist.__wrapped__(tmp_path / "mnist.npz")


def test_corrupt_mnist_is_refused(tmp_path):
    broken = tmp_path / "mnist.npz"
    raw = bytearray(MNIST_PATH.read_bytes())
    raw[1000] ^= 0xFF
    broken.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="corrupt.*sha256"):
        load_mnist.__wrapped__(broken)


@pytest.mark.parametrize("name", GENERATED_SETS)
def test_2d_sets_have_their_shape_and_follow_the_seed(name):
    data = make_2d(name, np.random.default_rng(3), n_points=500, noise=0.2, train_ratio=0.6, n_classes=4)
    assert data.x_train.shape == (300, 2) and data.x_val.shape == (200, 2) and data.x_test.shape == (200, 2)
    assert data.x_train.dtype == np.float32
    expected_classes = 4 if name in ("spiral", "blobs") else 2
    assert len(data.classes) == expected_classes
    labels = np.concatenate([data.y_train, data.y_val])
    assert set(labels.tolist()) == set(range(expected_classes))
    assert np.abs(data.x_train).max() < 3
    again = make_2d(name, np.random.default_rng(3), n_points=500, noise=0.2, train_ratio=0.6, n_classes=4)
    assert np.array_equal(again.x_train, data.x_train) and np.array_equal(again.y_val, data.y_val)
    other = make_2d(name, np.random.default_rng(4), n_points=500, noise=0.2, train_ratio=0.6, n_classes=4)
    assert not np.array_equal(other.x_train, data.x_train)


def test_noise_spreads_the_points():
    def spread(noise):
        data = make_2d("circles", np.random.default_rng(0), n_points=2000, noise=noise)
        radius = np.hypot(*data.x_train.T)
        inner = radius[data.y_train == 0]
        return inner.max()

    assert spread(0.0) <= 0.45 + 1e-6 < spread(0.5)


def test_unknown_2d_set_is_refused():
    with pytest.raises(ValueError, match="unknown 2D set"):
        make_2d("donut", np.random.default_rng(0))
