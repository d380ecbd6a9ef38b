"""How close the core's batch-32 epoch is to what NumPy allows, timed beside the real thing.

    python bench/step_floor.py [repetitions]      # 7 by default; PyTorch's eager epoch as the yardstick

Per repetition, in the same process and one after the other:
- core:     one epoch of core.training.train (784-100-200-10, batch 32, validation included);
- arrays:   only the work on the big arrays (per batch: gather the rows, the 3 forward, 3 weight-step and
            2 input-gradient products with the same shapes, the update of every weight; then the
            validation forward): what BLAS and memory must do whatever the Python around it;
- calls:    the rest of the core's step, on arrays so small that only the cost of making each NumPy call
            is left: the step on a 4-2-2-10 network minus the "arrays" work on that same tiny network;
- torch:    PyTorch's eager epoch from bench/core_vs_torch.py (1 thread, as the core).
It prints medians, each as a fraction of PyTorch's epoch (each repetition's sides ran back to back).
arrays + calls is the floor of a step made of NumPy calls: the core cannot go much below it without
fewer calls or faster BLAS products.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import core_vs_torch  # noqa: E402 (it exits with a hint if PyTorch is missing)
from core.blas import one_blas_thread  # noqa: E402
from core.datasets import load_mnist  # noqa: E402
from core.fast_step import FastTrainStep  # noqa: E402
from core.network import build_network  # noqa: E402
from core.optim import SGD  # noqa: E402

BATCH = 32
MNIST_SIZES = [784, 100, 200, 10]
TINY_SIZES = [4, 2, 2, 10]


def tiny_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """50,000 examples of 4 values: as many batches as MNIST, next to nothing to compute."""
    rng = np.random.default_rng(seed)
    return rng.random((50_000, 4), dtype=np.float32), rng.integers(0, 10, 50_000)


def arrays_epoch(sizes: list[int], x: np.ndarray, y: np.ndarray, seed: int) -> None:
    """The products, gathers and updates of an epoch, with nothing else around them."""
    rng = np.random.default_rng(seed)
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    # the weights and their steps as views into one array each, as in FastTrainStep (biases left out)
    parameters = rng.standard_normal(sum(a * b for a, b in shapes), dtype=np.float32) * 0.05
    all_steps = np.zeros_like(parameters)
    ends = np.cumsum([a * b for a, b in shapes])[:-1]
    weights = [w.reshape(shape) for w, shape in zip(np.split(parameters, ends), shapes, strict=True)]
    steps = [s.reshape(shape) for s, shape in zip(np.split(all_steps, ends), shapes, strict=True)]
    outs = [np.empty((BATCH, width), np.float32) for width in sizes[1:]]
    grads = [np.empty((BATCH, width), np.float32) for width in sizes[1:-1]]
    order = rng.permutation(len(x))
    for start in range(0, len(order) - BATCH + 1, BATCH):
        rows = order[start : start + BATCH]
        xb, _ = x[rows], y[rows]  # the labels too, as train() gathers them
        inputs = [xb, *outs[:-1]]
        for i, w in enumerate(weights):
            np.dot(inputs[i], w, outs[i])
        grad = outs[-1]
        grad *= 1e-6  # (keeps the weights sane over the epoch; the loss gradient's place in the step)
        for i in range(len(weights) - 1, -1, -1):
            np.dot(inputs[i].T, grad, steps[i])
            if i:
                np.dot(grad, weights[i].T, grads[i - 1])
                grad = grads[i - 1]
        parameters -= all_steps  # the update touches every weight


def mnist_arrays_epoch(seed: int) -> None:
    data = load_mnist()
    arrays_epoch(MNIST_SIZES, data.x_train, data.y_train, seed)
    weights = [np.ones((a, b), np.float32) for a, b in zip(MNIST_SIZES[:-1], MNIST_SIZES[1:], strict=True)]
    for start in range(0, len(data.x_val), 2048):  # validation, as Network.evaluate
        h = data.x_val[start : start + 2048]
        for w in weights:
            h = h @ w


def tiny_step_epoch(seed: int) -> None:
    """The core's training step, every batch of an epoch, on the tiny network."""
    x, y = tiny_data(0)
    step = FastTrainStep(build_network(TINY_SIZES, np.random.default_rng(seed)), SGD(0.1), BATCH)
    order = np.random.default_rng(seed).permutation(len(x))
    for start in range(0, len(x), BATCH):
        rows = order[start : start + BATCH]
        step(x[rows], y[rows])


def tiny_arrays_epoch(seed: int) -> None:
    arrays_epoch(TINY_SIZES, *tiny_data(0), seed)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    core_vs_torch.torch.set_num_threads(1)  # train() uses one BLAS thread, and so do the other sides here
    torch_run = core_vs_torch.TorchRun()
    sides = {
        "core": lambda seed: core_vs_torch.core_epoch(BATCH, seed),
        "arrays": mnist_arrays_epoch,
        "tiny step": tiny_step_epoch,
        "tiny arrays": tiny_arrays_epoch,
        "torch": lambda seed: torch_run.epoch(BATCH, seed),
    }
    for run in sides.values():  # warm-up
        run(0)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for rep in range(repeats):
        for name, run in sides.items():
            started = time.perf_counter()
            run(rep + 1)
            times[name].append(time.perf_counter() - started)

    def fraction(seconds: list[float]) -> float:
        return statistics.median(s / t for s, t in zip(seconds, times["torch"], strict=True))

    calls = [s - a for s, a in zip(times["tiny step"], times["tiny arrays"], strict=True)]
    floor = [a + c for a, c in zip(times["arrays"], calls, strict=True)]
    for name, seconds in [("core", times["core"]), ("arrays", times["arrays"]), ("calls", calls)]:
        print(f"{name:7s} median {statistics.median(seconds):.3f} s/epoch = {fraction(seconds):.3f} x torch")
    print(f"floor   arrays + calls                = {fraction(floor):.3f} x torch")
    print(f"torch   median {statistics.median(times['torch']):.3f} s/epoch")


if __name__ == "__main__":
    with one_blas_thread():
        main()
