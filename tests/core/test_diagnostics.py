"""What each layer is doing: the diagnostics against values worked out by hand on tiny networks, in every
epoch of a run (fast and plain steps alike), and the sentence that explains a bad run."""

import json
import math

import numpy as np
import pytest

from core.config import parse_config
from core.diagnostics import LayerWatch, explain
from core.layers import Dense, ReLU, Sigmoid, Tanh
from core.network import Network
from core.optim import SGD
from core.training import train

LAYER_KEYS = ["weight_norm", "grad_norm", "update_ratio", "dead", "saturated"]


def dense(weights, biases=None) -> Dense:
    weights = np.array(weights, dtype=np.float64)
    layer = Dense(*weights.shape, rng=np.random.default_rng(0), dtype=np.float64)
    layer.weights[...] = weights
    layer.biases[...] = 0 if biases is None else biases
    return layer


def test_one_step_of_a_tiny_relu_network_worked_out_by_hand():
    """2-2-2, W1 = [[1, 0], [0, -1]], W2 = I, zero biases, one example x = (1, 1) of class 0, lr 0.5.

    Forward: W1 gives (1, -1), ReLU (1, 0), logits (1, 0); softmax (e, 1) / (e + 1).
    d loss / d logits = softmax - onehot = (-a, a) with a = 1 / (e + 1) = 0.2689.
    d W2 = h^T g = [[-a, a], [0, 0]]: norm a * sqrt(2). Backward through W2 and ReLU: (-a, 0), so
    d W1 = x^T (-a, 0) = [[-a, 0], [-a, 0]]: norm a * sqrt(2) too. Each update is -lr times the gradient:
    norm lr * a * sqrt(2), over the weights' norm sqrt(2): update_ratio = lr * a for both layers.
    After the step W1 = [[1 + lr a, 0], [lr a, -1]] and W2 = [[1 + lr a, -lr a], [0, 1]]: each has norm
    sqrt((1 + lr a)^2 + (lr a)^2 + 1). The second hidden unit computes -x2 + 0 (its weights and bias did
    not move: it passed no gradient), so on validation points with x2 > 0 it is never active: dead 1/2.
    """
    network = Network([dense([[1, 0], [0, -1]]), ReLU(), dense([[1, 0], [0, 1]])])
    x, y = np.array([[1.0, 1.0]]), np.array([0])
    lr = 0.5
    watch = LayerWatch(
        network, lambda: [np.linalg.norm(layer.grad_weights) for layer in network.dense_layers]
    )
    watch.before_step()
    network.train_step(x, y, SGD(lr))
    watch.after_step()
    network.evaluate(
        np.array([[1.0, 1.0], [2.0, 0.5], [-3.0, 0.1]]), np.array([0, 1, 0]), observe=watch.observe
    )

    a = 1 / (math.e + 1)
    norm_after = math.sqrt((1 + lr * a) ** 2 + (lr * a) ** 2 + 1)
    expected = [
        {"weight_norm": norm_after, "grad_norm": a * math.sqrt(2), "update_ratio": lr * a, "dead": 0.5},
        {"weight_norm": norm_after, "grad_norm": a * math.sqrt(2), "update_ratio": lr * a, "dead": None},
    ]
    layers = watch.layers()
    assert [list(layer) for layer in layers] == [LAYER_KEYS, LAYER_KEYS]
    for got, want in zip(layers, expected, strict=True):
        for key, value in want.items():
            assert got[key] == (None if value is None else pytest.approx(value, rel=5e-4)), key
        assert got["saturated"] is None  # ReLU layers and the output layer: not applicable


@pytest.mark.parametrize("activation", [Tanh, Sigmoid], ids=["tanh", "sigmoid"])
def test_saturated_units_worked_out_by_hand(activation):
    """1-3-2 with first-layer weights (10, 0.1, -10) and validation inputs 1, 2 and -0.05: the first unit's
    inputs are 10, 20 and -0.5, so it is saturated on 2 of 3 examples (tanh(10) and sigmoid(10) are within
    1e-4 of their limit; tanh(-0.5) = -0.46 and sigmoid(-0.5) = 0.38 are not): more than half. The second
    (0.1, 0.2, -0.005) never is; the third mirrors the first. Saturated: 2 units of 3."""
    network = Network([dense([[10.0, 0.1, -10.0]]), activation(), dense(np.ones((3, 2)))])
    watch = LayerWatch(network, list)
    network.evaluate(np.array([[1.0], [2.0], [-0.05]]), np.array([0, 1, 0]), observe=watch.observe)
    first, output = watch.layers()
    assert first["saturated"] == pytest.approx(2 / 3, rel=1e-3) and first["dead"] is None
    assert output["saturated"] is None and output["dead"] is None
    assert first["grad_norm"] is None and first["update_ratio"] is None  # no step measured
    assert first["weight_norm"] == pytest.approx(math.sqrt(200.01), rel=5e-4)  # 4 digits


def test_a_unit_saturated_on_exactly_half_of_the_examples_does_not_count():
    network = Network([dense([[10.0]]), Tanh(), dense([[1.0, 1.0]])])
    watch = LayerWatch(network, list)
    network.evaluate(np.array([[1.0], [0.0]]), np.array([0, 1]), observe=watch.observe)
    assert watch.layers()[0]["saturated"] == 0.0


def test_observing_the_validation_set_in_batches_gives_the_same_shares():
    network = Network([dense([[1.0, -1.0, 0.5, 3.0]]), ReLU(), dense(np.ones((4, 2)))])
    x = np.linspace(-1, 1, 9)[:, None]
    y = np.zeros(9, dtype=int)
    whole, batched = LayerWatch(network, list), LayerWatch(network, list)
    network.evaluate(x, y, observe=whole.observe)
    network.evaluate(x, y, batch_size=2, observe=batched.observe)
    assert whole.layers() == batched.layers()


QUICK = {"dataset": "spiral", "epochs": 4, "seed": 5}


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_every_epoch_has_a_layers_entry_per_dense_layer_fast_or_plain(activation):
    config = parse_config(QUICK | {"activation": activation, "hidden": [8, 6, 4], "l2": 0.001})
    fast = [r.metrics()["layers"] for r in train(config)]
    plain = [r.metrics()["layers"] for r in train(config, fast=False)]
    for epoch_fast, epoch_plain in zip(fast, plain, strict=True):
        assert len(epoch_fast) == 4
        json.dumps(epoch_fast, allow_nan=False)
        for layer_fast, layer_plain in zip(epoch_fast, epoch_plain, strict=True):
            assert list(layer_fast) == LAYER_KEYS
            for key in ("weight_norm", "grad_norm", "update_ratio"):
                assert layer_fast[key] == pytest.approx(layer_plain[key], rel=2e-3), key
            assert layer_fast["weight_norm"] > 0 and layer_fast["grad_norm"] > 0
            assert 1e-5 < layer_fast["update_ratio"] < 1
        hidden = epoch_fast[:-1]
        assert all((layer["dead"] is not None) == (activation == "relu") for layer in hidden)
        assert all(
            (layer["saturated"] is not None) == (activation in ("tanh", "sigmoid")) for layer in hidden
        )
        assert epoch_fast[-1]["dead"] is None and epoch_fast[-1]["saturated"] is None


def test_the_update_ratio_follows_the_learning_rate():
    """Ten times the learning rate, about ten times the first step's update ratio (the first epoch's first
    step starts from the same weights and batch)."""
    slow = next(iter(train(parse_config(QUICK | {"lr": 0.01}))))
    fast = next(iter(train(parse_config(QUICK | {"lr": 0.1}))))
    for a, b in zip(slow.layers, fast.layers, strict=True):
        assert b["update_ratio"] == pytest.approx(10 * a["update_ratio"], rel=0.01)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-3)


def layers(*entries):
    return [{"epoch": 1, "layers": [dict(zip(LAYER_KEYS, entry, strict=True)) for entry in entries]}]


OK = (1.0, 0.1, 1e-3, 0.0, None)
OUTPUT = (1.0, 0.1, 1e-3, None, None)


@pytest.mark.parametrize(
    "epochs, sentence",
    [
        ([], None),
        ([{"epoch": 1}], None),
        (layers(OK, OK, OUTPUT), None),
        (
            layers((1.0, 0.1, 1e-3, 0.78, None), OK, OUTPUT),
            "78% of the first layer's ReLUs are dead: lower the learning rate or use He initialisation.",
        ),
        (
            layers(OK, (1.0, 0.1, 1e-3, 0.5, None), OUTPUT),
            "50% of the second layer's ReLUs are dead: lower the learning rate or use He initialisation.",
        ),
        (layers(OK, (1.0, 0.1, 1e-3, 0.49, None), OUTPUT), None),
        (
            layers((1.0, 0.1, 1e-3, None, 0.9), OUTPUT),
            "90% of the first layer's units are saturated (their outputs stuck at the ends of their range, "
            "where they barely learn): lower the learning rate or use ReLU.",
        ),
        (
            layers(OK, (1.0, 0.1, 0.25, 0.0, None), OUTPUT),
            "Each step changes the second layer's weights by 25% of their size (about 0.1% is usual): lower "
            "the learning rate.",
        ),
        (
            layers(OK, OK, (1.0, 0.1, 3e-6, None, None)),
            "The output layer's weights barely move (3e-6 of their size a step, about 1e-3 is usual): raise "
            "the learning rate.",
        ),
    ],
)
def test_explain_says_what_went_wrong_in_a_sentence(epochs, sentence):
    assert explain(epochs) == sentence


def test_explain_reads_the_last_epoch_and_tailors_the_advice_to_the_config():
    dead = layers((1.0, 0.1, 1e-3, 0.9, None), OUTPUT)[0]
    healthy = layers(OK, OUTPUT)[0]
    assert explain([dead, healthy]) is None
    he = parse_config({"init": "he"})
    assert explain([healthy, dead], he) == "90% of the first layer's ReLUs are dead: lower the learning rate."


def test_explain_finds_the_dead_relus_of_a_real_run_with_a_learning_rate_far_too_high():
    epochs = [r.metrics() for r in train(parse_config({"dataset": "spiral", "lr": 3, "epochs": 30}))]
    assert epochs[-1]["val_acc"] < 0.4
    assert explain(epochs) == (
        "100% of the second layer's ReLUs are dead: lower the learning rate or use He initialisation."
    )
    good = [r.metrics() for r in train(parse_config({"dataset": "spiral", "epochs": 30}))]
    assert explain(good) is None
