"""The layers' shapes and formulas, and the tutorial's defects, each with a test that catches it."""

import io

import numpy as np
import pytest

from core.layers import Dense, ReLU
from core.losses import log_softmax, softmax_crossentropy_with_logits
from core.network import build_network
from core.optim import SGD


def test_dense_is_x_times_w_plus_b():
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    layer.weights[:] = [[1, 2], [3, 4], [5, 6]]
    layer.biases[:] = [10, 20]
    out = layer.forward(np.array([[1, 0, 1]], dtype=np.float32))
    # X·W + b: [1+5+10, 2+6+20]; the tutorial's text wrote W·X + b, which has the wrong shape
    assert out.tolist() == [[16, 28]]


def test_dense_shapes_and_dtype_and_a_backward_that_the_tutorials_shape_assertion_failed():
    layer = Dense(784, 100, rng=np.random.default_rng(0))
    assert layer.weights.shape == (784, 100) and layer.biases.shape == (100,)
    assert layer.weights.dtype == np.float32
    x = np.ones((32, 784), dtype=np.float32)
    out = layer.forward(x)
    assert out.shape == (32, 100) and out.dtype == np.float32
    # (the tutorial's assertion compared an array with a tuple and failed on the first batch)
    grad_in = layer.backward(x, np.ones((32, 100), dtype=np.float32))
    assert grad_in.shape == (32, 784)
    assert layer.grad_weights.shape == (784, 100) and layer.grad_biases.shape == (100,)


def test_dense_backward_rejects_a_wrong_gradient_shape():
    layer = Dense(4, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        layer.backward(np.ones((2, 4), np.float32), np.ones((2, 5), np.float32))


@pytest.mark.parametrize(
    "init, expected_std", [("xavier", np.sqrt(2 / (784 + 100))), ("he", np.sqrt(2 / 784))]
)
def test_init_scales(init, expected_std):
    layer = Dense(784, 100, rng=np.random.default_rng(1), init=init)
    assert abs(layer.weights.std() / expected_std - 1) < 0.02
    assert abs(layer.weights.mean()) < 0.01 * expected_std * 10
    assert not layer.biases.any()


def test_init_uses_only_the_given_rng():
    np.random.seed(0)
    a = Dense(10, 5, rng=np.random.default_rng(7)).weights
    np.random.seed(123)  # the global state must not matter
    b = Dense(10, 5, rng=np.random.default_rng(7)).weights
    assert np.array_equal(a, b)


def test_relu_backward_runs_and_masks_where_the_tutorials_read_a_name_it_never_defined():
    x = np.array([[-1.0, 0.0, 2.0]], dtype=np.float32)
    grad = ReLU().backward(x, np.array([[5.0, 5.0, 5.0]], dtype=np.float32))
    assert grad.tolist() == [[0.0, 0.0, 5.0]]
    assert ReLU().forward(x).tolist() == [[0.0, 0.0, 2.0]]


def test_backward_does_not_change_weights_the_optimizer_does():
    layer = Dense(4, 3, rng=np.random.default_rng(0))
    before = layer.weights.copy()
    x = np.ones((2, 4), np.float32)
    layer.backward(x, np.ones((2, 3), np.float32))
    assert np.array_equal(layer.weights, before)
    SGD(0.1).step([layer])
    assert np.allclose(layer.weights, before - 0.1 * layer.grad_weights)
    assert np.allclose(layer.biases, -0.1 * layer.grad_biases)


@pytest.mark.parametrize("new_array", [False, True], ids=["same array", "new array in the same place"])
def test_momentum_accumulates_velocity_per_place_in_the_network(new_array):
    layer = Dense(2, 2, rng=np.random.default_rng(0))
    start = layer.weights.copy()
    layer.grad_weights[:] = 1.0
    layer.grad_biases[:] = 0.0
    optimizer = SGD(0.1, momentum=0.9)
    optimizer.step([ReLU(), layer])
    if new_array:  # (the fast step makes the layers' arrays views into one array)
        layer.weights = layer.weights.copy()
    optimizer.step([ReLU(), layer])
    # velocity: -0.1, then 0.9 * -0.1 - 0.1 = -0.19; total move -0.29
    assert np.allclose(layer.weights, start - 0.29)


def test_an_optimizer_refuses_the_parameters_of_another_network():
    optimizer = SGD(0.1)
    optimizer.step([Dense(2, 2, rng=np.random.default_rng(0))])
    with pytest.raises(ValueError, match=r"\(0, 'weights'\) has shape \(3, 2\).*one optimizer per network"):
        optimizer.step([Dense(3, 2, rng=np.random.default_rng(0))])


def test_log_softmax_is_stable_for_huge_logits_as_the_tutorial_promised_but_its_formula_was_not():
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]], dtype=np.float32)
    out = log_softmax(logits)
    assert np.isfinite(out).all()
    assert np.allclose(np.exp(out).sum(axis=1), 1)
    loss = softmax_crossentropy_with_logits(logits, np.array([0, 1]))
    assert np.isfinite(loss).all()
    assert np.allclose(loss, [0.0, np.log(3)], atol=1e-5)


def test_network_output_shapes_and_probabilities():
    network = build_network([784, 100, 200, 10], np.random.default_rng(0))
    assert network.sizes == [784, 100, 200, 10]
    assert network.parameter_count == 784 * 100 + 100 + 100 * 200 + 200 + 200 * 10 + 10
    x = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    assert network.forward(x).shape == (5, 10)
    proba = network.predict_proba(x)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-6)
    assert np.array_equal(network.predict(x), proba.argmax(axis=1))


def test_save_and_load_round_trip(tmp_path):
    network = build_network([2, 8, 3], np.random.default_rng(0))
    path = tmp_path / "weights.npz"
    network.save(str(path))
    with np.load(path) as data:
        assert sorted(data.files) == ["b0", "b1", "w0", "w1"]
    loaded = type(network).load(str(path))
    x = np.random.default_rng(1).random((4, 2), dtype=np.float32)
    assert np.array_equal(loaded.forward(x), network.forward(x))
    assert np.array_equal(type(network).load(network.to_bytes()).forward(x), network.forward(x))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_save_and_load_keep_the_activation(activation):
    network = build_network([2, 8, 3], np.random.default_rng(0), activation=activation)
    with np.load(io.BytesIO(network.to_bytes())) as data:
        assert sorted(data.files) == ["activation", "b0", "b1", "w0", "w1"]
        assert str(data["activation"]) == activation  # plain text: loads without pickle
    loaded = type(network).load(network.to_bytes())
    assert loaded.activation == activation
    x = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    assert np.array_equal(loaded.forward(x), network.forward(x))


def test_an_unknown_activation_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        build_network([2, 3, 2], np.random.default_rng(0), activation="swish")
