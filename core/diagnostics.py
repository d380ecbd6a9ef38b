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
from collections.abc import Mapping, Sequence
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


def _norm(array: np.ndarray) -> float:
    flat = array.ravel()
    return math.sqrt(float(np.dot(flat, flat)))


def _rounded(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.4g}")


class LayerWatch:
    """One epoch's diagnostics of a network. train() calls before_step() and after_step() around the
    epoch's first step, passes observe to the validation set's Network.evaluate, then reads layers()."""

    def __init__(self, network: Network) -> None:
        self.dense = network.dense_layers
        # (index in network.layers, activation name) of every hidden layer's activation, in order
        self.hidden = [
            (i, layer.name) for i, layer in enumerate(network.layers) if isinstance(layer, Activation)
        ]
        self.before: list[np.ndarray] = []
        self.grad_norms: list[float | None] = [None] * len(self.dense)
        self.update_ratios: list[float | None] = [None] * len(self.dense)
        self.examples = 0
        self.peak: list[np.ndarray | None] = [None] * len(self.hidden)  # ReLU: the largest output per unit
        self.saturated_counts: list[np.ndarray | None] = [None] * len(self.hidden)

    def before_step(self) -> None:
        self.before = [dense.weights.copy() for dense in self.dense]

    def after_step(self, weight_gradients: Sequence[np.ndarray]) -> None:
        """weight_gradients: the step's gradient of each layer's weights."""
        for i, (dense, before, gradient) in enumerate(
            zip(self.dense, self.before, weight_gradients, strict=True)
        ):
            self.grad_norms[i] = _norm(gradient)
            before_norm = _norm(before)
            np.subtract(dense.weights, before, out=before)  # before now holds the update
            self.update_ratios[i] = _norm(before) / before_norm if before_norm else None
        self.before = []

    def observe(self, activations: list[np.ndarray]) -> None:
        """Network.evaluate's observe: one batch of the validation set's activations."""
        self.examples += len(activations[0])
        for k, (index, name) in enumerate(self.hidden):
            output = activations[index + 1]
            if name == "relu":
                peak = output.max(axis=0)
                self.peak[k] = peak if self.peak[k] is None else np.maximum(self.peak[k], peak)
            elif name in SATURATION:
                centre, half_width = SATURATION[name]
                counts = np.count_nonzero(np.abs(output - centre) > half_width, axis=0)
                previous = self.saturated_counts[k]
                self.saturated_counts[k] = counts if previous is None else previous + counts

    def layers(self) -> list[dict[str, float | None]]:
        """The epoch's figures, one dict per Dense layer (see the module's docstring)."""
        dead: list[float | None] = [None] * len(self.dense)
        saturated: list[float | None] = [None] * len(self.dense)
        for k in range(len(self.hidden)):  # hidden activation k follows Dense layer k
            if self.peak[k] is not None:
                dead[k] = float(np.mean(self.peak[k] <= 0))
            if self.saturated_counts[k] is not None:
                share = self.saturated_counts[k] / self.examples
                saturated[k] = float(np.mean(share > SATURATED_SHARE_OF_EXAMPLES))
        return [
            {
                "weight_norm": _rounded(_norm(dense.weights)),
                "grad_norm": _rounded(self.grad_norms[i]),
                "update_ratio": _rounded(self.update_ratios[i]),
                "dead": _rounded(dead[i]),
                "saturated": _rounded(saturated[i]),
            }
            for i, dense in enumerate(self.dense)
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
