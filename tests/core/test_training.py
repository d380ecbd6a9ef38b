"""The training loop: one result per epoch, reproducible, cancellable, honest about divergence."""

import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from core.config import parse_config
from core.training import Diverged, train

QUICK = {"dataset": "spiral", "hidden": [16, 16], "epochs": 5, "seed": 3}
FIELDS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "layers"}
LAYER_KEYS = {"weight_norm", "grad_norm", "update_ratio", "dead", "saturated"}


def numbers(results):
    return [{k: v for k, v in r.metrics().items() if k != "seconds"} for r in results]


def test_one_result_per_epoch_with_test_accuracy_at_the_end():
    results = list(train(parse_config(QUICK)))
    assert [r.epoch for r in results] == [1, 2, 3, 4, 5]
    for r in results[:-1]:
        assert set(r.metrics()) == FIELDS
    assert set(results[-1].metrics()) == FIELDS | {"test_loss", "test_acc"}
    for r in results:
        metrics = r.metrics()
        assert all(math.isfinite(v) for name, v in metrics.items() if name != "layers")
        assert 0 <= r.train_acc <= 1 and 0 <= r.val_acc <= 1 and r.seconds > 0
        assert len(metrics["layers"]) == 3 and all(set(layer) == LAYER_KEYS for layer in metrics["layers"])
        assert json.loads(json.dumps(metrics, allow_nan=False)) == metrics


def test_an_l2_run_reports_the_cross_entropy_and_the_penalty_apart():
    plain = list(train(parse_config(QUICK)))
    decayed = list(train(parse_config(QUICK | {"l2": 0.01})))
    assert all("l2_penalty" not in r.metrics() for r in plain)
    assert all(r.metrics()["l2_penalty"] > 0 for r in decayed)
    last = decayed[-1]  # (every result holds the one network, as it is after the last epoch)
    weights = [d.weights.astype(np.float64) for d in last.network.dense_layers]
    assert last.metrics()["l2_penalty"] == pytest.approx(0.005 * sum((w**2).sum() for w in weights), rel=1e-5)
    # the reported losses are the cross-entropy: recomputed without the penalty they agree
    assert last.val_loss == pytest.approx(last.network.evaluate(last.dataset.x_val, last.dataset.y_val)[0])
    assert [r.train_loss for r in decayed] != [r.train_loss for r in plain]


def test_spiral_is_learned():
    last = list(train(parse_config({"dataset": "spiral"})))[-1]
    assert last.val_acc > 0.9 and last.test_acc > 0.9


def test_same_config_gives_bit_identical_numbers_and_weights():
    first, second = list(train(parse_config(QUICK))), list(train(parse_config(QUICK)))
    assert numbers(first) == numbers(second)
    for a, b in zip(first[-1].network.dense_layers, second[-1].network.dense_layers, strict=True):
        assert np.array_equal(a.weights, b.weights)
    other_seed = list(train(parse_config({**QUICK, "seed": 4})))
    assert numbers(other_seed) != numbers(first)


def test_global_numpy_random_state_is_not_used():
    np.random.seed(1)
    first = numbers(train(parse_config(QUICK)))
    np.random.seed(2)
    assert numbers(train(parse_config(QUICK))) == first


def test_last_partial_batch_is_trained():
    config = parse_config({**QUICK, "points": 100, "train_ratio": 0.5, "batch_size": 32, "epochs": 1})
    calls = []
    list(train(config, on_batch=lambda done, total: calls.append((done, total))))
    # 50 training points in batches of 32: a full batch and a partial one of 18
    assert calls == [(1, 2), (2, 2)]


def test_training_can_be_cancelled_between_batches():
    checks = []

    def should_stop():
        checks.append(1)
        return len(checks) > 60  # partway through epoch 3 (27 batches an epoch)

    results = list(train(parse_config(QUICK), should_stop=should_stop))
    assert [r.epoch for r in results] == [1, 2]


def test_divergence_ends_with_a_clear_reason():
    config = parse_config(
        {
            "dataset": "xor",
            "lr": 3,
            "hidden": [512, 512, 512, 512],
            "batch_size": 1,
            "init": "he",
            "epochs": 3,
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings would be log noise: we say why ourselves
        with pytest.raises(Diverged, match="learning rate 3 is too high"):
            list(train(config))


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "core.train", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_json_prints_one_object_per_epoch_and_nothing_else():
    done = run_cli("--dataset", "moons", "--epochs", "3", "--hidden", "8,8", "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert set(rows[0]) == FIELDS and "test_acc" in rows[-1]
    expected = numbers(train(parse_config({"dataset": "moons", "epochs": 3, "hidden": [8, 8]})))
    assert [{k: v for k, v in row.items() if k != "seconds"} for row in rows] == expected


def test_cli_plain_trains_with_the_readable_step():
    args = ("--dataset", "moons", "--epochs", "3", "--hidden", "8,8", "--json")
    done = run_cli(*args, "--plain")
    assert done.returncode == 0, done.stderr
    rows = [
        {k: v for k, v in json.loads(line).items() if k != "seconds"} for line in done.stdout.splitlines()
    ]
    config = parse_config({"dataset": "moons", "epochs": 3, "hidden": [8, 8]})
    assert rows == numbers(train(config, fast=False))
    assert rows != numbers(train(config))  # the fast step rounds differently (tests/core/test_fast_path.py)


def test_cli_table_and_progress():
    done = run_cli("--dataset", "xor", "--epochs", "2")
    assert done.returncode == 0
    assert "epoch 2/2 [" in done.stderr and "test accuracy" in done.stdout
    assert done.stdout.splitlines()[0].split() == [
        "epoch",
        "train_loss",
        "train_acc",
        "val_loss",
        "val_acc",
        "seconds",
    ]


def test_cli_bad_value_names_the_flag():
    done = run_cli("--lr", "-1")
    assert done.returncode == 2 and "--lr" in done.stderr and done.stdout == ""
