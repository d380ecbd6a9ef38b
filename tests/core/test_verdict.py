"""The ending rule (core/verdict.py) on curves recorded from real runs (tests/core/record_curves.py
wrote tests/core/data/*.json): broken runs that still end without a nan get a warning saying what
happened and what to try; healthy runs get none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import parse_query
from core.verdict import CODES, judge

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> tuple:
    data = json.loads((DATA / f"{name}.json").read_text())
    assert data["failed"] is None  # every one of them ended without a nan: the status alone says "done"
    return parse_query(data["query"]), data["epochs"]


@pytest.mark.parametrize("name", ["spiral_healthy", "mnist_healthy"])
def test_a_healthy_run_gets_no_warning(name):
    assert judge(*recorded(name)) is None


def test_a_healthy_run_cut_short_is_not_called_broken():
    config, epochs = recorded("spiral_healthy")
    for n in (1, 3, 10, 50):
        assert judge(config, epochs[:n]) is None, n


def test_spiral_at_lr_3_ends_at_chance_and_is_told_to_lower_the_rate():
    warning = judge(*recorded("spiral_lr3"))
    assert warning.code == "chance"
    assert warning.message.startswith("The validation accuracy ended at 32.2%, about chance for 3 classes")
    assert warning.hint == "Try a lower learning rate, such as 0.3 (this set's default)."


def test_mnist_at_lr_3_ends_at_ten_percent_and_is_pointed_to_the_tutorials_rate():
    warning = judge(*recorded("mnist_lr3"))
    assert warning.code == "chance"
    assert "ended at 9.6%, about chance for 10 classes (10.0%)" in warning.message
    assert warning.hint == "Try a lower learning rate, such as the tutorial's 0.1 for MNIST."


def test_spiral_at_lr_3_with_momentum_099_ends_with_a_risen_loss_and_is_told_to_lower_both():
    config, epochs = recorded("spiral_lr3_momentum")
    assert epochs[-1]["train_loss"] > 10 > 2.1 > epochs[0]["train_loss"]
    warning = judge(config, epochs)
    assert warning.code == "loss_rose"
    assert warning.message.startswith("The training loss ended at 11.9, above the 2.01 of epoch 1")
    assert "lower learning rate" in warning.hint and "smaller momentum" in warning.hint


def test_a_run_that_learned_then_blew_up_is_caught():
    config, epochs = recorded("spiral_lr1_blows_up")
    assert epochs[-1]["val_acc"] > 0.5  # well above chance at the end, so only the curve's shape tells
    warning = judge(config, epochs)
    assert warning.code == "loss_exploded"
    assert warning.message.startswith("No better validation loss since epoch 30")
    assert warning.hint == "Try a lower learning rate, such as 0.3 (this set's default)."


def test_at_chance_with_a_tiny_rate_the_hint_is_a_higher_rate_or_more_epochs():
    config, epochs = recorded("spiral_lr3")
    slow = parse_query(config.to_query().replace("lr=3", "lr=0.001"))
    assert judge(slow, epochs).hint == "Try a higher learning rate, such as 0.3, or more epochs."


def test_no_epochs_no_verdict():
    config, _ = recorded("spiral_healthy")
    assert judge(config, []) is None


def test_the_warning_is_json_ready():
    warning = judge(*recorded("spiral_lr3"))
    assert json.loads(json.dumps(warning.to_dict())) == {
        "code": "chance",
        "message": warning.message,
        "hint": warning.hint,
        "why": warning.why,
    }


@pytest.mark.parametrize("name", ["spiral_lr3", "mnist_lr3"])
def test_a_run_at_chance_is_told_why_its_dead_relus_are_the_cause(name):
    warning = judge(*recorded(name))
    assert (
        warning.why
        == "100% of the second layer's ReLUs are dead: lower the learning rate or use He initialisation."
    )


def test_a_run_that_blew_up_names_the_layer_whose_relus_died():
    assert judge(*recorded("spiral_lr1_blows_up")).why.startswith("81% of the first layer's ReLUs are dead")


def test_without_diagnostics_a_warning_has_no_why():
    config, epochs = recorded("spiral_lr3")
    bare = [{key: value for key, value in epoch.items() if key != "layers"} for epoch in epochs]
    warning = judge(config, bare)
    assert warning.code == "chance" and warning.why is None


def test_every_code_judge_answers_is_listed_for_the_api_description():
    broken = ("spiral_lr3", "spiral_lr3_momentum", "spiral_lr1_blows_up")
    codes = {judge(*recorded(name)).code for name in broken}
    assert codes == set(CODES)
