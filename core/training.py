"""The training loop: minibatch SGD, one result per epoch, cancellable between batches."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from core.blas import one_blas_thread
from core.config import Config
from core.datasets import Dataset, dataset_for, random_streams
from core.fast_step import FastTrainStep
from core.network import Network, build_network
from core.optim import SGD


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


def train(
    config: Config,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int, int], None] | None = None,
    fast: bool = True,
) -> Iterator[EpochResult]:
    """Train the network that config describes, yielding after every epoch.

    Same config (and so the same seed) gives bit-identical numbers. Training loss and accuracy are
    the means over the epoch's batches, each measured before that batch's update. Stops quietly
    when should_stop() turns true (checked between batches); raises Diverged on a nan/inf loss.
    on_batch(done, total), if given, is called after every batch (for progress bars).

    fast=True trains with core/fast_step.py; fast=False with Network.train_step, the readable
    layer-by-layer step: the same curves up to float32 rounding, slower (an MNIST epoch at batch 32: 1.7x).

    NumPy's BLAS uses one thread (core/blas.py) from the first epoch until the generator ends or is
    closed, between yields too: applying and lifting the limit around each epoch would cost about
    0.4 ms an epoch, more than half of a 2D set's epoch. A generator dropped unfinished lifts it when
    it is collected (at once in CPython); one kept but never resumed keeps it.
    """
    _, init_rng, shuffle_rng = random_streams(config.seed)
    data = dataset_for(config)
    network = build_network(config.layer_sizes, init_rng, init=config.init)
    optimizer = SGD(config.lr, momentum=config.momentum)
    n, batch = len(data.x_train), config.batch_size
    batches = math.ceil(n / batch)
    # The fast step makes the update of network.train_step (up to float32 rounding) for Dense/ReLU stacks;
    # other layer types (none yet) would take the plain layer-by-layer step.
    if fast and FastTrainStep.supports(network):
        train_step = FastTrainStep(network, optimizer, max_batch=min(batch, n))
    else:
        train_step = partial(network.train_step, optimizer=optimizer)

    with one_blas_thread():
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            order = shuffle_rng.permutation(n)
            loss_sum, correct = 0.0, 0
            # A diverging run overflows before its loss turns nan; we report that ourselves (Diverged), so
            # numpy's overflow warnings would only be noise in the logs. (No yield inside: the error state
            # is this thread's, and the caller's stays as it was.)
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
