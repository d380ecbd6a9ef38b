"""The fast training step computes what the plain layer-by-layer step does; train() stays reproducible."""

import numpy as np
import pytest

from core import training
from core.config import parse_config
from core.datasets import load_mnist
from core.fast_step import FastTrainStep
from core.layers import Dense, ReLU
from core.losses import (
    grad_softmax_crossentropy_with_logits,
    softmax_crossentropy_and_grad_inplace,
    softmax_crossentropy_with_logits,
)
from core.network import Network, build_network
from core.optim import SGD


def twin_networks(sizes, seed=0, init="xavier", activation="relu"):
    return (
        build_network(sizes, np.random.default_rng(seed), init=init, activation=activation) for _ in range(2)
    )


def assert_close(fast: np.ndarray, plain: np.ndarray, name: str) -> None:
    """Equal up to float32 rounding: the fast step multiplies by the learning rate before the sums, the
    plain one after, so they differ by about an ulp. A real difference (a missing bias step, a wrong mask,
    no momentum) is hundreds of times more."""
    assert fast.dtype == np.float32, name
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-5 * np.abs(plain).max(), err_msg=name)


def assert_same_parameters(a: Network, b: Network) -> None:
    for plain, fast in zip(a.dense_layers, b.dense_layers, strict=True):
        for name in ("weights", "biases"):
            assert_close(getattr(fast, name), getattr(plain, name), name)


def assert_fast_steps_equal_plain_steps(sizes, momentum=0.0, activation="relu", l2=0.0):
    data = load_mnist()
    plain, fast = twin_networks(sizes, activation=activation)
    plain_sgd, fast_sgd = SGD(0.1, momentum=momentum), SGD(0.1, momentum=momentum)
    step = FastTrainStep(fast, fast_sgd, max_batch=32, l2=l2)
    # 20 full batches, then a partial one of 7 (it uses the first rows of the buffers)
    for start, size in [(i * 32, 32) for i in range(20)] + [(640, 7)]:
        # Each step starts from the plain network's weights: over many steps, a rounding difference
        # can flip a ReLU whose input is within an ulp of 0 and the two runs then part ways, as any two
        # float32 trainings whose sums round differently do (train() stays deterministic either way).
        for plain_layer, fast_layer in zip(plain.dense_layers, fast.dense_layers, strict=True):
            fast_layer.weights[...], fast_layer.biases[...] = plain_layer.weights, plain_layer.biases
        x, y = data.x_train[start : start + size], data.y_train[start : start + size]
        plain_loss, plain_correct = plain.train_step(x, y, plain_sgd, l2=l2)
        fast_loss, fast_correct = step(x, y)
        assert fast_loss == pytest.approx(plain_loss, rel=1e-6)
        assert fast_correct == plain_correct
        # the steps are the learning rate times the plain step's gradients (with the L2 term)
        for layer, (weight_steps, bias_steps) in zip(plain.dense_layers, step.layer_steps, strict=True):
            assert_close(weight_steps, 0.1 * layer.grad_weights, "weight steps")
            assert_close(bias_steps, 0.1 * layer.grad_biases, "bias steps")
        for gradient_norm, layer in zip(step.weight_gradient_norms(), plain.dense_layers, strict=True):
            assert gradient_norm == pytest.approx(np.linalg.norm(layer.grad_weights), rel=1e-5)
        assert_same_parameters(plain, fast)


@pytest.mark.parametrize(
    ("sizes", "momentum"),
    [([784, 100, 200, 10], 0.0), ([784, 100, 200, 10], 0.9), ([784, 10], 0.0), ([784, 8, 8, 8, 8, 10], 0.5)],
)
def test_fast_step_gives_the_weights_of_the_plain_step(sizes, momentum):
    assert_fast_steps_equal_plain_steps(sizes, momentum)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("l2", [0.0, 0.05], ids=["no L2", "L2 0.05"])
def test_fast_step_gives_the_weights_of_the_plain_step_for_every_activation_and_l2(activation, l2):
    assert_fast_steps_equal_plain_steps([784, 32, 16, 10], momentum=0.5, activation=activation, l2=l2)


def test_the_l2_term_moves_the_fast_steps_weights_as_it_moves_the_plain_steps():
    """The check above could pass with L2 ignored on both sides; here the L2 run's weights differ from the
    run without it by far more than rounding, and by the penalty's gradient after one step."""
    data = load_mnist()
    x, y = data.x_train[:32], data.y_train[:32]
    with_l2, without = twin_networks([784, 16, 10])
    before = [dense.weights.copy() for dense in with_l2.dense_layers]
    FastTrainStep(with_l2, SGD(0.1), max_batch=32, l2=0.5)(x, y)
    FastTrainStep(without, SGD(0.1), max_batch=32)(x, y)
    for a, b, w in zip(with_l2.dense_layers, without.dense_layers, before, strict=True):
        assert_close(a.weights, b.weights - 0.1 * 0.5 * w, "weights")  # W - lr * (grad + l2 * W)
        assert np.abs(a.weights - b.weights).max() > 1e-3
    for a, b in zip(with_l2.dense_layers, without.dense_layers, strict=True):
        np.testing.assert_array_equal(a.biases, b.biases)  # biases are not penalised


def test_fast_step_on_a_2d_set_with_he_init():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((50, 2)).astype(np.float32)
    y = rng.integers(0, 3, 50)
    plain, fast = twin_networks([2, 16, 16, 3], init="he")
    plain_sgd, fast_sgd = SGD(0.3), SGD(0.3)
    step = FastTrainStep(fast, fast_sgd, max_batch=16)
    for _ in range(30):
        for start in range(0, 50, 16):
            plain.train_step(x[start : start + 16], y[start : start + 16], plain_sgd)
            step(x[start : start + 16], y[start : start + 16])
    assert_same_parameters(plain, fast)


def test_fused_loss_and_gradient_equal_the_separate_functions():
    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((33, 10)) * 20).astype(np.float32)
    logits[0] = 1000.0  # stable for huge logits too
    y = rng.integers(0, 10, 33)
    expected_losses = softmax_crossentropy_with_logits(logits, y)
    expected_grad = grad_softmax_crossentropy_with_logits(logits, y)
    grad = logits.copy()
    losses = softmax_crossentropy_and_grad_inplace(grad, y)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6, atol=1e-8)
    assert losses.dtype == grad.dtype == np.float32
    assert np.isfinite(losses).all()
    # the same numbers, bit for bit, when the caller passes the argmax it already has
    again = logits.copy()
    again_losses = softmax_crossentropy_and_grad_inplace(again, y, logits.argmax(axis=1))
    np.testing.assert_array_equal(again_losses, losses)
    np.testing.assert_array_equal(again, grad)
    # scale multiplies the gradient (the fast step passes the learning rate), not the losses
    scaled = logits.copy()
    scaled_losses = softmax_crossentropy_and_grad_inplace(scaled, y, scale=0.25)
    np.testing.assert_array_equal(scaled_losses, losses)
    np.testing.assert_allclose(scaled, 0.25 * expected_grad, rtol=1e-6, atol=1e-8)


def test_fused_loss_refuses_logits_it_cannot_overwrite_in_place():
    logits = np.zeros((10, 4), np.float32).T  # a transposed view: not C-contiguous
    with pytest.raises(ValueError, match="contiguous"):
        softmax_crossentropy_and_grad_inplace(logits, np.zeros(4, int))


def test_optimizer_leaves_the_gradients_alone():
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    layer.grad_weights[:] = 2.0
    layer.grad_biases[:] = 1.0
    before = layer.weights.copy()
    SGD(0.25).step([layer])
    assert (layer.grad_weights == 2.0).all() and (layer.grad_biases == 1.0).all()
    np.testing.assert_allclose(layer.weights, before - 0.5)
    assert layer.weights.dtype == np.float32


def test_optimizer_apply_takes_steps_already_scaled():
    param = np.ones(4, np.float32)
    sgd = SGD(0.5, momentum=0.9)
    step = np.full(4, 0.1, np.float32)
    sgd.apply(param, step, "p")  # velocity -0.1
    sgd.apply(param, step, "p")  # velocity 0.9 * -0.1 - 0.1 = -0.19
    np.testing.assert_allclose(param, 1 - 0.1 - 0.19, rtol=1e-6)
    plain = np.ones(4, np.float32)
    SGD(0.5).apply(plain, step, "p")
    np.testing.assert_allclose(plain, 0.9, rtol=1e-6)


def test_only_dense_activation_stacks_take_the_fast_path():
    rng = np.random.default_rng(0)
    for activation in ("relu", "tanh", "sigmoid", "linear"):
        assert FastTrainStep.supports(build_network([2, 4, 4, 3], rng, activation=activation))
    odd = Network([Dense(2, 4, rng=rng), ReLU(), ReLU(), Dense(4, 3, rng=rng)])
    assert not FastTrainStep.supports(odd)
    with pytest.raises(ValueError, match="Dense, activation"):
        FastTrainStep(odd, SGD(0.1), max_batch=8)


QUICK = {"dataset": "spiral", "hidden": [16, 16], "epochs": 4, "seed": 7, "batch_size": 16}


def run(config):
    results = list(training.train(parse_config(config)))
    metrics = [{k: v for k, v in r.metrics().items() if k != "seconds"} for r in results]
    return metrics, results[-1].network


CURVES = ("train_loss", "val_loss", "train_acc", "val_acc")
SHORT_RUNS = [
    {"dataset": "spiral", "epochs": 10},  # 27 batches of 16 an epoch, two hidden layers
    {"dataset": "mnist", "hidden": [32], "batch_size": 128, "lr": 0.05, "momentum": 0.9, "epochs": 3},
    {"dataset": "spiral", "epochs": 10, "activation": "tanh", "l2": 0.01},
    {"dataset": "circles", "epochs": 10, "activation": "sigmoid", "features": "x1,x2,x1^2,x2^2", "lr": 1},
    {"dataset": "xor", "epochs": 10, "activation": "linear", "features": "x1x2,sin_x1"},
    {"dataset": "mnist", "hidden": [32], "batch_size": 128, "epochs": 2, "activation": "tanh", "l2": 0.001},
]


def run_name(config: dict) -> str:
    return "-".join(str(config.get(key, "")) for key in ("dataset", "activation", "l2") if key in config)


@pytest.mark.parametrize("config", SHORT_RUNS, ids=run_name)
def test_train_with_the_plain_step_draws_the_fast_steps_curves_to_float32_rounding(config):
    """Every epoch's losses within 1e-5 (relative), its accuracies within one example, the final weights
    within 1e-5 of the largest.

    The fast step multiplies by the learning rate before the sums, the plain step after, so each step's
    weights differ by about a float32 ulp (1.2e-7 relative); over these few hundred steps the curves
    differ by 1e-8 to 2e-6 (measured), and 1e-5 leaves room for other BLAS kernels. A real difference
    is thousands of times more: no bias steps, no ReLU mask or no momentum on one side moved these curves
    by 3% to 130%. An accuracy changes only where a prediction's two best logits are within rounding of
    each other: one example at most. The runs are short on purpose: over thousands of steps, a ReLU input
    within an ulp of 0 flips sooner or later and the two runs part ways, as any two float32 trainings
    whose sums round differently do (the step-by-step test above starts each step from the same weights).
    """
    fast_results = list(training.train(parse_config(config)))
    plain_results = list(training.train(parse_config(config), fast=False))
    assert len(fast_results) == len(plain_results) == config["epochs"]
    sizes = {"train_acc": len(fast_results[0].dataset.x_train), "val_acc": len(fast_results[0].dataset.x_val)}
    for fast, plain in zip(fast_results, plain_results, strict=True):
        for name in CURVES:
            expected = getattr(plain, name)
            if name in sizes:
                assert getattr(fast, name) == pytest.approx(expected, rel=0, abs=1.01 / sizes[name]), name
            else:
                assert getattr(fast, name) == pytest.approx(expected, rel=1e-5), name
    assert_same_parameters(plain_results[-1].network, fast_results[-1].network)
    # and the plain run did train with the plain step: its rounding is its own
    assert [r.train_loss for r in fast_results] != [r.train_loss for r in plain_results]


def test_train_is_bit_identical_for_the_same_seed():
    first_metrics, first_network = run(QUICK)
    second_metrics, second_network = run(QUICK)
    assert first_metrics == second_metrics
    for a, b in zip(first_network.dense_layers, second_network.dense_layers, strict=True):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.biases, b.biases)


def test_mnist_epoch_is_bit_identical_for_the_same_seed():
    config = {"dataset": "mnist", "epochs": 1, "batch_size": 256, "seed": 11}
    first_metrics, first_network = run(config)
    second_metrics, second_network = run(config)
    assert first_metrics == second_metrics
    assert first_metrics[0]["val_acc"] > 0.85  # one epoch at batch 256 already learns most digits
    for a, b in zip(first_network.dense_layers, second_network.dense_layers, strict=True):
        assert np.array_equal(a.weights, b.weights)
