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
from core.diagnostics import LayerWatch, norm
from core.fast_step import FastTrainStep
from core.features import network_inputs
from core.network import Network, build_network
from core.optim import SGD

#: the numbers every epoch reports, in this order (EpochResult.metrics adds l2_penalty, the test figures
#: after the last epoch, and layers)
METRICS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds")


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
    dataset: Dataset = field(repr=False)  # the raw examples (2D: the points, not their features)
    config: Config = field(repr=False)
    layers: list[dict] = field(default_factory=list)  # core.diagnostics: one dict per Dense layer
    l2_penalty: float | None = None  # with an L2 rate: l2 / 2 * sum of squared weights after the epoch
    test_loss: float | None = None  # set on the last epoch of a run that finished
    test_acc: float | None = None

    def metrics(self) -> dict:
        """The numbers of this epoch, JSON-ready (what the SSE epoch event and the CLI print): the
        losses are the cross-entropy alone; l2_penalty (runs with an L2 rate) is the penalty added to it
        in training; layers are the diagnostics of core.diagnostics."""
        names = list(METRICS)
        if self.l2_penalty is not None:
            names.append("l2_penalty")
        if self.test_acc is not None:
            names += ["test_loss", "test_acc"]
        return {name: getattr(self, name) for name in names} | {"layers": self.layers}


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
    # What the network reads: the chosen features of 2D points (computed once), MNIST's pixels as they are.
    x_train, x_val, x_test = (network_inputs(config, x) for x in (data.x_train, data.x_val, data.x_test))
    network = build_network(config.layer_sizes, init_rng, init=config.init, activation=config.activation)
    optimizer = SGD(config.lr, momentum=config.momentum)
    n, batch = len(x_train), config.batch_size
    batches = math.ceil(n / batch)
    # The fast step makes the update of network.train_step (up to float32 rounding) for the networks
    # build_network makes; other layer types (none yet) would take the plain layer-by-layer step.
    if fast and FastTrainStep.supports(network):
        train_step = FastTrainStep(network, optimizer, max_batch=min(batch, n), l2=config.l2)
        gradient_norms = train_step.weight_gradient_norms
    else:
        train_step = partial(network.train_step, optimizer=optimizer, l2=config.l2)
        gradient_norms = lambda: [norm(dense.grad_weights) for dense in network.dense_layers]  # noqa: E731
    watch = LayerWatch(network, gradient_norms)  # what each layer does (core/diagnostics.py)

    with one_blas_thread():
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            order = shuffle_rng.permutation(n)
            loss_sum, correct = 0.0, 0
            watch.start_epoch()
            # A diverging run overflows before its loss turns nan; we report that ourselves (Diverged), so
            # numpy's overflow warnings would only be noise in the logs. (No yield inside: the error state
            # is this thread's, and the caller's stays as it was.)
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, n, batch):  # the last, partial batch is trained too
                    if should_stop():
                        return
                    rows = order[start : start + batch]
                    if start == 0:  # the epoch's first step is the one the diagnostics measure
                        watch.before_step()
                    # Each batch's rows gathered as it comes: cheaper than one shuffled copy of the whole
                    # set (MNIST: 157 MB written, then read again), as the rows go straight to the cache.
                    loss, right = train_step(x_train[rows], data.y_train[rows])
                    if start == 0:
                        watch.after_step()
                    if not math.isfinite(loss):
                        raise Diverged(
                            f"The loss became {loss} at epoch {epoch} (batch {start // batch + 1}): "
                            f"learning rate {config.lr:g} is too high for this network; try a lower one."
                        )
                    loss_sum += loss * min(batch, n - start)
                    correct += right
                    if on_batch:
                        on_batch(start // batch + 1, batches)
                val_loss, val_acc = network.evaluate(x_val, data.y_val, observe=watch.observe)
            result = EpochResult(
                epoch, loss_sum / n, correct / n, val_loss, val_acc, 0.0, network, data, config
            )
            result.layers = watch.layers()
            if config.l2:
                result.l2_penalty = network.l2_penalty(config.l2)
            if not math.isfinite(val_loss):
                raise Diverged(
                    f"The validation loss became {val_loss} at epoch {epoch}: "
                    f"learning rate {config.lr:g} is too high for this network; try a lower one."
                )
            if epoch == config.epochs:
                result.test_loss, result.test_acc = network.evaluate(x_test, data.y_test)
            result.seconds = time.perf_counter() - started
            yield result
