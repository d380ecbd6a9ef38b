"""Every backward() agrees with a numerical derivative (float64, relative error < 1e-6)."""

import numpy as np
import pytest

from core.layers import ACTIVATIONS, Dense, Identity, ReLU, Sigmoid, Tanh
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


@pytest.mark.parametrize("activation", [Tanh, Sigmoid, Identity], ids=lambda cls: cls.name)
def test_activation_gradient_matches_numerical(rng, activation):
    layer = activation()
    x = rng.standard_normal((4, 6)) * 3  # into the flat ends of tanh and sigmoid too
    upstream = rng.standard_normal((4, 6))

    def loss():
        return float((layer.forward(x) * upstream).sum())

    assert relative_error(layer.backward(x, upstream), numerical_gradient(loss, x)) < TOLERANCE


@pytest.mark.parametrize("activation", [ReLU, Tanh, Sigmoid, Identity], ids=lambda cls: cls.name)
def test_in_place_activation_equals_the_readable_one(rng, activation):
    """The fast step's forward_inplace and backward_inplace (from the output) give forward and backward."""
    layer = activation()
    x = (rng.standard_normal((5, 7)) * 3).astype(np.float32)
    upstream = rng.standard_normal((5, 7)).astype(np.float32)
    out = x.copy()
    layer.forward_inplace(out)
    np.testing.assert_allclose(out, layer.forward(x), rtol=1e-6, atol=1e-7)
    grad = upstream.copy()
    layer.backward_inplace(out, grad, np.empty_like(x, dtype=layer.scratch_dtype or x.dtype))
    np.testing.assert_allclose(grad, layer.backward(x, upstream), rtol=1e-5, atol=1e-6)


def test_sigmoid_is_the_logistic_function_and_finite_far_out():
    x = np.array([[-800.0, -3.0, 0.0, 2.0, 800.0]])
    np.testing.assert_allclose(
        Sigmoid().forward(x), [[0.0, 1 / (1 + np.exp(3)), 0.5, 1 / (1 + np.exp(-2)), 1.0]]
    )
    assert np.isfinite(Sigmoid().backward(x, np.ones_like(x))).all()


def network_and_batch(rng, sizes, activation):
    """A float64 network with nonzero biases, and a batch of 6 examples for it."""
    network = build_network(sizes, rng, dtype=np.float64, activation=activation)
    for dense in network.dense_layers:
        dense.biases[:] = rng.standard_normal(dense.biases.shape) * 0.1
    return network, rng.standard_normal((6, sizes[0])), rng.integers(0, sizes[-1], 6)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(7,), (6, 5), (4, 5, 3, 6)])
def test_whole_network_gradients_match_numerical(rng, hidden, activation):
    network, x, y = network_and_batch(rng, [8, *hidden, 3], activation)

    def loss():
        return float(softmax_crossentropy_with_logits(network.forward(x), y).mean())

    network.backward(network.forward_all(x), y)
    for dense in network.dense_layers:
        assert relative_error(dense.grad_weights, numerical_gradient(loss, dense.weights)) < TOLERANCE
        assert relative_error(dense.grad_biases, numerical_gradient(loss, dense.biases)) < TOLERANCE


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_l2_term_gradient_matches_numerical(rng, activation):
    """With an L2 rate, backward fills the gradients of the mean cross-entropy plus l2 / 2 * the sum of the
    squared weights (the biases are not penalised), and returns the cross-entropy alone."""
    l2 = 0.3
    network, x, y = network_and_batch(rng, [5, 6, 4, 3], activation)

    def data_loss():
        return float(softmax_crossentropy_with_logits(network.forward(x), y).mean())

    def loss():
        weights = sum(float((dense.weights**2).sum()) for dense in network.dense_layers)
        return data_loss() + l2 / 2 * weights

    assert network.backward(network.forward_all(x), y, l2=l2) == pytest.approx(data_loss())
    assert network.l2_penalty(l2) == pytest.approx(loss() - data_loss())
    for dense in network.dense_layers:
        assert relative_error(dense.grad_weights, numerical_gradient(loss, dense.weights)) < TOLERANCE
        assert relative_error(dense.grad_biases, numerical_gradient(loss, dense.biases)) < TOLERANCE
    # and the L2 term is really there: without it the weights' gradients differ by l2 * weights
    penalised = [dense.grad_weights.copy() for dense in network.dense_layers]
    network.backward(network.forward_all(x), y)
    for dense, grad in zip(network.dense_layers, penalised, strict=True):
        np.testing.assert_allclose(grad - dense.grad_weights, l2 * dense.weights, atol=1e-12)
