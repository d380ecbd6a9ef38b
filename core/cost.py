"""How long a run will take, known before it starts: `estimate(config)` and `estimate_seconds(config)`.

The model follows what training does. Each batch costs a fixed overhead per layer (Python and NumPy
calls), a share per parameter (the weights are read and updated once a batch, whatever its size) and
a share per multiply-add of every example in it (forward and backward). Each epoch adds the
validation set's forward pass; inside the server all of it takes longer by a factor (`in_server`: the
process's other threads, recording above all, share the cores and the GIL), and the server adds its
own work per epoch (a 2D set's decision grid, MNIST's confusion matrix, storing the epoch and its
event); a run adds its data's set-up once and the test set's forward pass at the end.

The constants (`COSTS`) were measured on this project's 2-core machine by bench/calibrate_cost.py,
which also compares estimates with real runs through the server (bench/README.md, "Cost estimate":
median estimate / measured 1.0, half of the runs within 0.75 to 1.4). Other busy processes make runs
slower (here, by up to three times), which no estimate made beforehand can know: during a run the
page's time left comes from measured time instead. The server answers the estimate at GET
/api/estimate, and the page shows it next to Train, with the epoch a run would reach within the
wall-clock cap (`Estimate.epochs_within`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.config import Config
from core.datasets import CUSTOM, MNIST_SIZES, two_d_split


@dataclass(frozen=True)
class Costs:
    """Seconds per unit of work (bench/calibrate_cost.py measures them)."""

    per_layer: float  # per Dense layer per batch: call overhead
    per_parameter: float  # per parameter per batch: reading the weights, the update
    per_mac: float  # per multiply-add of one training example: forward and backward
    per_eval_mac: float  # per multiply-add of one evaluated example: forward only, in one big batch
    in_server: float  # an epoch trains this many times as long in the server as alone (its other threads)
    per_epoch_2d: float  # the server's work per epoch of a 2D run: decision grid, storing, the event
    per_epoch_mnist: float  # ... of an MNIST run: confusion matrix (beside training), storing
    setup_2d: float  # before the first epoch: claiming the run, drawing the data
    setup_mnist: float


# Measured by `python3 bench/calibrate_cost.py --fit` on 2026-11-30, load average 4 to 13 (bench/README.md).
COSTS = Costs(
    per_layer=8.02e-06,
    per_parameter=2.33e-10,
    per_mac=5.23e-11,
    per_eval_mac=3.19e-11,
    in_server=1.44,
    per_epoch_2d=0.00239,
    per_epoch_mnist=0.0791,
    setup_2d=0.0254,
    setup_mnist=0.00491,
)


@dataclass(frozen=True)
class Estimate:
    """A run's expected time: `setup` once, `per_epoch` for each of `epochs`, then `finish`."""

    setup: float
    per_epoch: float
    finish: float
    epochs: int

    @property
    def seconds(self) -> float:
        return self.setup + self.epochs * self.per_epoch + self.finish

    def epochs_within(self, cap_seconds: float) -> int:
        """How many epochs end within a wall-clock cap (all of them if the run fits)."""
        if self.seconds <= cap_seconds:
            return self.epochs
        return max(0, min(self.epochs, math.floor((cap_seconds - self.setup) / self.per_epoch)))


def multiply_adds(sizes: list[int]) -> int:
    """Multiply-adds of one example's forward pass through a Dense stack."""
    return sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


def example_counts(config: Config) -> tuple[int, int, int]:
    """(training, validation, test) examples of the config's data, known before it is drawn."""
    if config.dataset == "mnist":
        return MNIST_SIZES
    points = config.data.points if config.dataset == CUSTOM else config.points
    n_train, n_val = two_d_split(points, config.train_ratio)
    return n_train, n_val, n_val


def estimate(config: Config, costs: Costs = COSTS) -> Estimate:
    sizes = config.layer_sizes
    layers, macs = len(sizes) - 1, multiply_adds(sizes)
    parameters = macs + sum(sizes[1:])
    n_train, n_val, n_test = example_counts(config)
    batches = math.ceil(n_train / config.batch_size)
    per_batch = costs.per_layer * layers + costs.per_parameter * parameters
    training = batches * per_batch + n_train * macs * costs.per_mac
    server = costs.per_epoch_mnist if config.dataset == "mnist" else costs.per_epoch_2d
    per_epoch = (training + n_val * macs * costs.per_eval_mac) * costs.in_server + server
    setup = costs.setup_mnist if config.dataset == "mnist" else costs.setup_2d
    return Estimate(setup, per_epoch, n_test * macs * costs.per_eval_mac, config.epochs)


def estimate_seconds(config: Config) -> float:
    """The expected wall-clock seconds of a run from its start to its end, on this project's machine."""
    return estimate(config).seconds
