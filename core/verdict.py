"""Honest endings: judge a finished run's recorded curves, and warn when the network did not learn.

A run that ends without a nan/inf loss is `done`, but it may still have failed to learn: a learning
rate far too high kills every ReLU (the network then predicts one class: accuracy at chance) or makes
the loss climb. `judge(config, epochs)` looks at the epochs' metrics as they were recorded (the dicts
of core.training.EpochResult.metrics()) and answers None for a run that learned, or a RunWarning:

- `loss_rose`: the training loss ended above where it started (its first epoch's mean);
- `loss_exploded`: no better validation loss for many epochs while the training loss grew to several
  times its lowest, giving back at least half of what it had gained since epoch 1;
- `chance`: the validation accuracy ended at or near chance for the number of classes.

Each warning has a message (what happened, with the numbers), a hint (what to try: a lower learning
rate, the tutorial's 0.1 for MNIST, a smaller momentum; or more epochs when the rate is already small)
and, when the last epoch's per-layer diagnostics show a cause, `why` (core.diagnostics.explain: dead
ReLUs, saturated units, steps far too large or too small), else None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from core.config import FIELD_BY_NAME, Config
from core.diagnostics import explain

LOSS_ROSE_MARGIN = 1.02  # the last training loss above 102% of the first: it rose (not noise)
EXPLODED_FACTOR = 3.0  # the last training loss at 3x its lowest or more,
GIVEN_BACK = 0.5  # and at half its first epoch's or more (a loss wobbling near 0 has not exploded)
PATIENCE_SHARE, MIN_PATIENCE = 0.25, 10  # "many epochs": a quarter of the run, at least 10
NEAR_CHANCE_SHARE = 0.1  # at most a tenth of the way from chance to 100%: near chance
HIGH_MOMENTUM = 0.9  # momentum above this makes a high rate worse
CODES = ("loss_rose", "loss_exploded", "chance")  # in the order they are checked


@dataclass(frozen=True)
class RunWarning:
    code: str
    message: str
    hint: str
    why: str | None = None

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def chance_accuracy(class_count: int) -> float:
    return 1.0 / class_count


def judge(config: Config, epochs: Sequence[Mapping[str, Any]]) -> RunWarning | None:
    """The warning for a finished run's recorded epochs, or None when it learned; with the reason the
    layers' diagnostics give, when they give one."""
    warning = _curves_warning(config, epochs)
    if warning is None:
        return None
    return RunWarning(warning.code, warning.message, warning.hint, explain(epochs, config))


def _curves_warning(config: Config, epochs: Sequence[Mapping[str, Any]]) -> RunWarning | None:
    """What the loss and accuracy curves alone say."""
    if not epochs:
        return None
    first, last = epochs[0], epochs[-1]
    n = len(epochs)
    if last["train_loss"] > first["train_loss"] * LOSS_ROSE_MARGIN:
        message = (
            f"The training loss ended at {last['train_loss']:.3g}, above the {first['train_loss']:.3g} "
            f"of epoch 1: the steps overshoot instead of going downhill."
        )
        return RunWarning("loss_rose", message, _lower_the_rate(config))
    best = min(range(n), key=lambda i: epochs[i]["val_loss"])
    lowest = min(epoch["train_loss"] for epoch in epochs)
    patience = max(MIN_PATIENCE, int(PATIENCE_SHARE * n))
    grown = last["train_loss"] >= max(EXPLODED_FACTOR * lowest, GIVEN_BACK * first["train_loss"])
    if n - 1 - best >= patience and grown:
        message = (
            f"No better validation loss since epoch {best + 1}, while the training loss grew from "
            f"{lowest:.3g} to {last['train_loss']:.3g}: training blew up."
        )
        return RunWarning("loss_exploded", message, _lower_the_rate(config))
    chance = chance_accuracy(config.class_count)
    if last["val_acc"] <= chance + NEAR_CHANCE_SHARE * (1 - chance):
        message = (
            f"The validation accuracy ended at {last['val_acc']:.1%}, about chance for "
            f"{config.class_count} classes ({chance:.1%}): the network learned nothing it can use."
        )
        return RunWarning("chance", message, _chance_hint(config))
    return None


def _default_lr(config: Config) -> float:
    return FIELD_BY_NAME["lr"].default_for(config.dataset)


def _lower_the_rate(config: Config) -> str:
    """Try a lower learning rate (the dataset's default, or a tenth) and, if high, a smaller momentum."""
    default = _default_lr(config)
    if config.dataset == "mnist" and config.lr > default:
        rate = f"a lower learning rate, such as the tutorial's {default:g} for MNIST"
    elif config.lr > default:
        rate = f"a lower learning rate, such as {default:g} (this set's default)"
    else:
        rate = f"a lower learning rate, such as {config.lr / 10:.2g}"
    if config.momentum > HIGH_MOMENTUM:
        return f"Try {rate}, and a smaller momentum (0.9 or less; 0 is plain SGD)."
    return f"Try {rate}."


def _chance_hint(config: Config) -> str:
    """At chance: a rate too high (dead units), or too low / too few epochs to get anywhere."""
    default = _default_lr(config)
    if config.lr > default or config.momentum > HIGH_MOMENTUM:
        return _lower_the_rate(config)
    if config.lr < default / 10:
        return f"Try a higher learning rate, such as {default:g}, or more epochs."
    return "Try more epochs, or a wider network."
