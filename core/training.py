"""The training loop: minibatch SGD, one result per epoch, cancellable between batches."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import numpy as np
from threadpoolctl import threadpool_limits

from core.config import Config
from core.datasets import Dataset, load_mnist, make_2d
from core.fast_step import FastTrainStep
from core.network import Network, build_network
from core.optim import SGD

# One BLAS thread for the whole process. The tutorial's matrices are small: a second thread costs more to
# wake than it saves, and on a busy 2-core machine it can stall an epoch for seconds (README, "Speed").
# One thread per run also lets the server train several runs side by side, one per core, and makes the
# numbers the same in every process (the sums' order depends on the thread count).
threadpool_limits(limits=1, user_api="blas")


class Diverged(RuntimeError):
    """The loss became nan or inf; the message says where and what to try."""


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float
    network: Network = field(repr=False)
    dataset: Dataset = field(repr=False)
    test_loss: float | None = None  # set on the last epoch of a run that finished
    test_acc: float | None = None

    def metrics(self) -> dict[str, float | int]:
        """The numbers of this epoch, JSON-ready (what the SSE epoch event and the CLI print)."""
        names = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
        if self.test_acc is not None:
            names += ["test_loss", "test_acc"]
        return {name: getattr(self, name) for name in names}


def random_streams(seed: int) -> list[np.random.Generator]:
    """Three independent streams from one seed: the data, the initial weights, the shuffling."""
    return np.random.default_rng(seed).spawn(3)


def dataset_for(config: Config) -> Dataset:
    """The run's data, exactly as train() draws it (MNIST is shared; 2D sets come from the seed)."""
    if config.dataset == "mnist":
        return load_mnist()
    rng = random_streams(config.seed)[0]
    return make_2d(config.dataset, rng, config.points, config.noise, config.train_ratio, config.classes)


def train(
    config: Config,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int, int], None] | None = None,
) -> Iterator[EpochResult]:
    """Train the network that config describes, yielding after every epoch.

    Same config (and so the same seed) gives bit-identical numbers. Training loss and accuracy are
    the means over the epoch's batches, each measured before that batch's update. Stops quietly
    when should_stop() turns true (checked between batches); raises Diverged on a nan/inf loss.
    on_batch(done, total), if given, is called after every batch (for progress bars).
    """
    _, init_rng, shuffle_rng = random_streams(config.seed)
    data = dataset_for(config)
    network = build_network(config.layer_sizes, init_rng, init=config.init)
    optimizer = SGD(config.lr, momentum=config.momentum)
    n, batch = len(data.x_train), config.batch_size
    batches = math.ceil(n / batch)
    # The update of network.train_step (up to float32 rounding), faster: see core/fast_step.py. Other
    # layer types (none yet) would take the plain layer-by-layer step.
    if FastTrainStep.supports(network):
        train_step = FastTrainStep(network, optimizer, max_batch=min(batch, n))
    else:
        train_step = partial(network.train_step, optimizer=optimizer)

    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        order = shuffle_rng.permutation(n)
        loss_sum, correct = 0.0, 0
        # A diverging run overflows before its loss turns nan; we report that ourselves (Diverged), so
        # numpy's overflow warnings would only be noise in the logs. (No yield inside: the state stays ours.)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n, batch):  # the last, partial batch is trained too
                if should_stop():
                    return
                loss, right = train_step(*batch_rows(data, order[start : start + batch]))
                if not math.isfinite(loss):
                    raise Diverged(
                        f"The loss became {loss} at epoch {epoch} (batch {start // batch + 1}): "
                        f"learning rate {config.lr:g} is too high for this network; try a lower one."
                    )
                loss_sum += loss * min(batch, n - start)
                correct += right
                if on_batch:
                    on_batch(start // batch + 1, batches)
            val_loss, val_acc = network.evaluate(data.x_val, data.y_val)
        result = EpochResult(epoch, loss_sum / n, correct / n, val_loss, val_acc, 0.0, network, data)
        if not math.isfinite(val_loss):
            raise Diverged(
                f"The validation loss became {val_loss} at epoch {epoch}: "
                f"learning rate {config.lr:g} is too high for this network; try a lower one."
            )
        if epoch == config.epochs:
            result.test_loss, result.test_acc = network.evaluate(data.x_test, data.y_test)
        result.seconds = time.perf_counter() - started
        yield result


def batch_rows(data: Dataset, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The batch's examples. Gathering each batch's rows as it comes is cheaper than one shuffled copy
    of the whole set (MNIST: 157 MB written, then read again): the rows go straight to the cache."""
    return data.x_train[rows], data.y_train[rows]
