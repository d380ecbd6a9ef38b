"""What each layer is doing, per epoch, and a sentence that explains a bad run from it.

For every Dense layer (input side first, the output layer last), `LayerWatch.layers()` gives:

- weight_norm: the Frobenius norm of its weights at the end of the epoch (biases excluded).
- grad_norm: the norm of the gradient of the training loss (the cross-entropy plus the L2 term) with
  respect to its weights, on the epoch's first batch.
- update_ratio: the norm of the change that the epoch's first step made to its weights, divided by the
  norm of the weights before that step: the classic per-step rule of thumb says about 1e-3 (much more:
  the step is too large; much less: the layer hardly learns). One step is measured, not all of them: a
  copy of the weights and a few norms once an epoch, whatever the number of batches.
- dead (hidden ReLU layers; None otherwise): the share of its units whose output is 0 on every example
  of the validation set: they pass no gradient and no longer learn.
- saturated (hidden tanh and sigmoid layers; None otherwise): the share of its units that are saturated
  on more than half of the validation examples, saturated meaning |tanh| > 0.99, or a sigmoid output
  below 0.01 or above 0.99: there the derivative is under 0.02 (tanh) or 0.01 (sigmoid) and the unit
  barely learns.

The validation figures come from the forward pass that measures the validation loss (LayerWatch.observe
is Network.evaluate's `observe`), so they add a few reductions per layer, not a second pass. Numbers are
rounded to 4 significant digits; a value that is not finite (a run blowing up) is None.
bench/diagnostics_cost.py measures the cost: under 5% of an epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from core.layers import Activation
from core.network import Network

if TYPE_CHECKING:
    from core.config import Config

# A tanh or sigmoid output is saturated when it is further than `half_width` from `centre`.
SATURATION = {"tanh": (0.0, 0.99), "sigmoid": (0.5, 0.49)}
SATURATED_SHARE_OF_EXAMPLES = 0.5  # a unit counts as saturated when it is on more than this share
RULE_OF_THUMB = 1e-3  # the usual update / weight ratio of one step

# explain(): what counts as a bad sign
DEAD_LIMIT = 0.5  # half of a layer's ReLUs dead
SATURATED_LIMIT = 0.5
RATIO_HIGH = 1e-1  # 100 times the rule of thumb
RATIO_LOW = 1e-5  # a hundredth of it


def norm(array: np.ndarray) -> float:
    """The Frobenius norm (np.vdot: one call, no copy; float64 so that huge weights do not overflow)."""
    return math.sqrt(float(np.vdot(array, array))) if array.dtype == np.float64 else _norm32(array)


def _norm32(array: np.ndarray) -> float:
    squares = float(np.vdot(array, array))  # float32 sums, exact enough for 4 digits; inf past 1.8e19
    return math.sqrt(squares) if math.isfinite(squares) else float(np.linalg.norm(array.astype(np.float64)))


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


def _plus(total: np.ndarray | None, value: np.ndarray) -> np.ndarray:
    return value if total is None else total + value


class LayerWatch:
    """A run's diagnostics, epoch by epoch. Each epoch train() calls start_epoch(), before_step() and
    after_step() around the epoch's first step, passes observe to the validation set's Network.evaluate,
    then reads layers(). gradient_norms() gives the norm of the last step's gradient of each layer's
    weights (asked once an epoch, after that step)."""

    def __init__(self, network: Network, gradient_norms: Callable[[], Sequence[float]]) -> None:
        self.dense = network.dense_layers
        self.gradient_norms = gradient_norms
        # (index in network.layers, activation name) of every hidden layer's activation, in order
        self.hidden = [
            (i, layer.name) for i, layer in enumerate(network.layers) if isinstance(layer, Activation)
        ]
        self.before = [np.empty_like(dense.weights) for dense in self.dense]  # the weights before the step
        self.weight_norms: list[float] | None = None  # after the last epoch = before this epoch's first step
        self.start_epoch()

    def start_epoch(self) -> None:
        count = len(self.dense)
        self.grad_norms: list[float | None] = [None] * count
        self.update_ratios: list[float | None] = [None] * count
        self.examples = 0
        self.activity: list[np.ndarray | None] = [None] * len(self.hidden)  # ReLU: each unit's output sum
        self.saturated_counts: list[np.ndarray | None] = [None] * len(self.hidden)

    def before_step(self) -> None:
        for dense, before in zip(self.dense, self.before, strict=True):
            np.copyto(before, dense.weights)

    def after_step(self) -> None:
        before_norms = self.weight_norms or [norm(before) for before in self.before]
        self.grad_norms = list(self.gradient_norms())
        for i, (dense, before) in enumerate(zip(self.dense, self.before, strict=True)):
            np.subtract(dense.weights, before, out=before)  # before now holds the update
            self.update_ratios[i] = norm(before) / before_norms[i] if before_norms[i] else None

    def observe(self, activations: list[np.ndarray]) -> None:
        """Network.evaluate's observe: one batch of the validation set's activations."""
        rows = len(activations[0])
        self.examples += rows
        # Sums over the examples as products with a vector of ones: on these small arrays a BLAS call
        # costs a fifth of a reduction along the first axis (2 µs against 10 for 180 x 16).
        ones = np.ones(rows, activations[-1].dtype)
        for k, (index, name) in enumerate(self.hidden):
            output = activations[index + 1]
            if name == "relu":  # outputs are >= 0: a unit's sum is 0 only if it was never active
                self.activity[k] = _plus(self.activity[k], np.dot(ones, output))
            elif name in SATURATION:
                centre, half_width = SATURATION[name]
                saturated = (np.abs(output - centre) > half_width).astype(output.dtype)
                self.saturated_counts[k] = _plus(self.saturated_counts[k], np.dot(ones, saturated))

    def layers(self) -> list[dict[str, float | None]]:
        """The epoch's figures, one dict per Dense layer (see the module's docstring)."""
        dead: list[float | None] = [None] * len(self.dense)
        saturated: list[float | None] = [None] * len(self.dense)
        for k in range(len(self.hidden)):  # hidden activation k follows Dense layer k
            if self.activity[k] is not None:
                dead[k] = np.count_nonzero(self.activity[k] <= 0) / len(self.activity[k])
            if self.saturated_counts[k] is not None:
                many = self.saturated_counts[k] > SATURATED_SHARE_OF_EXAMPLES * self.examples
                saturated[k] = np.count_nonzero(many) / len(many)
        self.weight_norms = [norm(dense.weights) for dense in self.dense]
        return [
            {
                "weight_norm": _rounded(self.weight_norms[i]),
                "grad_norm": _rounded(self.grad_norms[i]),
                "update_ratio": _rounded(self.update_ratios[i]),
                "dead": _rounded(dead[i]),
                "saturated": _rounded(saturated[i]),
            }
            for i in range(len(self.dense))
        ]


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")


def _layer_name(index: int, count: int) -> str:
    return "output layer" if index == count - 1 else f"{ORDINALS[index]} layer"


def _power(value: float) -> str:
    """3e-6 rather than Python's 3e-06."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def explain(epochs: Sequence[Mapping[str, Any]], config: Config | None = None) -> str | None:
    """One sentence on what went wrong in a run, from its last epoch's `layers`, or None when nothing
    stands out. epochs: the run's epochs as recorded (the run JSON's, or EpochResult.metrics()); config,
    if given, tailors the advice (no "use He initialisation" to a run that did). In order of precedence:
    dead ReLUs, saturated units (half of a layer or more), then steps far too large or too small (100
    times the 1e-3 rule of thumb, either way)."""
    layers = next((epoch["layers"] for epoch in reversed(epochs) if epoch.get("layers")), None)
    if not layers:
        return None
    count = len(layers)

    def worst(key: str) -> tuple[float, int] | None:
        values = [(layer[key], i) for i, layer in enumerate(layers) if layer.get(key) is not None]
        return max(values, key=lambda value: (value[0], -value[1])) if values else None  # ties: the first

    dead = worst("dead")
    if dead and dead[0] >= DEAD_LIMIT:
        advice = "lower the learning rate" + (
            "" if config and config.init == "he" else " or use He initialisation"
        )
        return f"{dead[0]:.0%} of the {_layer_name(dead[1], count)}'s ReLUs are dead: {advice}."
    saturated = worst("saturated")
    if saturated and saturated[0] >= SATURATED_LIMIT:
        return (
            f"{saturated[0]:.0%} of the {_layer_name(saturated[1], count)}'s units are saturated (their "
            "outputs stuck at the ends of their range, where they barely learn): lower the learning rate "
            "or use ReLU."
        )
    ratios = [(layer["update_ratio"], i) for i, layer in enumerate(layers) if layer.get("update_ratio")]
    if ratios:  # (a ratio of 0: no step at all, which dead units above explain)
        high, low = max(ratios), min(ratios)
        if high[0] >= RATIO_HIGH:
            return (
                f"Each step changes the {_layer_name(high[1], count)}'s weights by {high[0]:.0%} of their "
                f"size (about {RULE_OF_THUMB:.1%} is usual): lower the learning rate."
            )
        if low[0] <= RATIO_LOW:
            return (
                f"The {_layer_name(low[1], count)}'s weights barely move ({_power(low[0])} of their size a "
                f"step, about {_power(RULE_OF_THUMB)} is usual): raise the learning rate."
            )
    return None
