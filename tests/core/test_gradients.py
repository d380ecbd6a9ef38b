"""Every backward() agrees with a numerical derivative (float64, relative error < 1e-6)."""

import numpy as np
import pytest

from core.layers import Dense, ReLU
from core.losses import grad_softmax_crossentropy_with_logits, softmax_crossentropy_with_logits
from core.network import build_network
from tests.core.gradcheck import numerical_gradient, relative_error

TOLERANCE = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_dense_gradients_match_numerical(rng):
    layer = Dense(5, 4, rng=rng, dtype=np.float64)
    layer.biases[:] = rng.standard_normal(4)
    x = rng.standard_normal((3, 5))
    upstream = rng.standard_normal((3, 4))  # loss = sum(output * upstream)

    def loss():
        return float((layer.forward(x) * upstream).sum())

    grad_x = layer.backward(x, upstream)
    assert relative_error(grad_x, numerical_gradient(loss, x)) < TOLERANCE
    assert relative_error(layer.grad_weights, numerical_gradient(loss, layer.weights)) < TOLERANCE
    assert relative_error(layer.grad_biases, numerical_gradient(loss, layer.biases)) < TOLERANCE


def test_relu_gradient_matches_numerical(rng):
    relu = ReLU()
    x = rng.standard_normal((4, 6))
    x[np.abs(x) < 0.01] = 0.5  # keep away from the kink at 0, where no derivative exists
    upstream = rng.standard_normal((4, 6))

    def loss():
        return float((relu.forward(x) * upstream).sum())

    assert relative_error(relu.backward(x, upstream), numerical_gradient(loss, x)) < TOLERANCE


def test_loss_gradient_matches_numerical(rng):
    logits = rng.standard_normal((5, 10)) * 3
    y = rng.integers(0, 10, 5)

    def loss():
        return float(softmax_crossentropy_with_logits(logits, y).mean())

    analytic = grad_softmax_crossentropy_with_logits(logits, y)
    assert relative_error(analytic, numerical_gradient(loss, logits)) < TOLERANCE


@pytest.mark.parametrize("hidden", [(7,), (6, 5), (4, 5, 3, 6)])
def test_whole_network_gradients_match_numerical(rng, hidden):
    network = build_network([8, *hidden, 3], rng, dtype=np.float64)
    for dense in network.dense_layers:
        dense.biases[:] = rng.standard_normal(dense.biases.shape) * 0.1
    x = rng.standard_normal((6, 8))
    y = rng.integers(0, 3, 6)

    def loss():
        return float(softmax_crossentropy_with_logits(network.forward(x), y).mean())

    network.backward(network.forward_all(x), y)
    for dense in network.dense_layers:
        assert relative_error(dense.grad_weights, numerical_gradient(loss, dense.weights)) < TOLERANCE
        assert relative_error(dense.grad_biases, numerical_gradient(loss, dense.biases)) < TOLERANCE
