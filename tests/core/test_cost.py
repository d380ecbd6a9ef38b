"""The cost model (core/cost.py): what it counts follows the config, and the cap arithmetic holds.
How close its figures are to real runs is measured by bench/calibrate_cost.py (bench/README.md)."""

from __future__ import annotations

import pytest

from core.config import parse_query
from core.cost import COSTS, Estimate, estimate, estimate_seconds, example_counts
from core.datasets import dataset_for, load_mnist


@pytest.mark.parametrize(
    "query",
    [
        "dataset=spiral",
        "dataset=moons&points=333&train_ratio=0.35",
        "dataset=blobs&points=50&train_ratio=0.9",
    ],
)
def test_example_counts_are_those_of_the_data_train_draws(query):
    config = parse_query(query)
    data = dataset_for(config)
    assert example_counts(config) == (len(data.x_train), len(data.x_val), len(data.x_test))


def test_mnist_example_counts_are_load_mnists():
    data = load_mnist()
    counts = (len(data.x_train), len(data.x_val), len(data.x_test))
    assert example_counts(parse_query("dataset=mnist")) == counts


@pytest.mark.parametrize(
    "cheaper, dearer",
    [
        ("dataset=mnist&epochs=5", "dataset=mnist&epochs=10"),
        ("dataset=mnist&hidden=100", "dataset=mnist&hidden=100,200"),
        ("dataset=mnist&hidden=100", "dataset=mnist&hidden=500"),
        ("dataset=mnist&batch_size=256", "dataset=mnist&batch_size=1"),
        ("dataset=spiral&points=600", "dataset=spiral&points=5000"),
        ("dataset=spiral", "dataset=mnist"),
    ],
)
def test_more_work_is_estimated_longer(cheaper, dearer):
    assert estimate_seconds(parse_query(cheaper)) < estimate_seconds(parse_query(dearer))


def test_epochs_scale_the_per_epoch_part_only():
    one, ten = (estimate(parse_query(f"dataset=mnist&epochs={n}")) for n in (1, 10))
    assert ten.seconds - one.seconds == pytest.approx(9 * one.per_epoch)
    assert one.setup == ten.setup == COSTS.setup_mnist


def test_epochs_within_a_cap():
    run = Estimate(setup=2.0, per_epoch=10.0, finish=1.0, epochs=100)
    assert run.seconds == 1003.0
    assert run.epochs_within(2000) == 100  # it fits
    assert run.epochs_within(900) == 89  # (900 - 2) // 10
    assert run.epochs_within(5) == 0
    assert Estimate(setup=0, per_epoch=1, finish=0, epochs=5).epochs_within(5) == 5


def test_the_slowest_config_the_limits_allow_goes_past_the_15_minute_cap():
    slowest = estimate(parse_query("dataset=mnist&hidden=512,512,512,512&batch_size=1&epochs=100"))
    assert slowest.seconds > 900
    assert 0 < slowest.epochs_within(900) < 100
