"""How close the core's batch-32 epoch is to what NumPy allows: two floors, timed beside the real thing.

    python bench/step_floor.py            # 7 repetitions, PyTorch's eager epoch as the yardstick

Per repetition, in the same process and one after the other:
- core:      one epoch of core.training.train (784-100-200-10, batch 32, validation included);
- arrays:    only the work on the big arrays (per batch: gather the rows, the 3 forward, 3 weight-step
             and 2 input-gradient products with the same shapes, the update of every weight; then the
             validation forward), which BLAS and memory must do whatever the Python around it;
- calls:     the core's training step on a 4-2-2-10 network (same batch count): every NumPy call the step
             makes, on arrays so small that only the cost of making the call is left;
- torch:     PyTorch's eager epoch from bench/core_vs_torch.py (1 thread, as the core).
It prints medians, each as a fraction of PyTorch's epoch. arrays + calls is the floor of a step built
from NumPy calls: the core cannot go much below it without fewer calls or faster BLAS products.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.core_vs_torch import TorchRun, core_epoch, torch  # noqa: E402
from core.datasets import load_mnist  # noqa: E402
from core.fast_step import FastTrainStep  # noqa: E402
from core.network import build_network  # noqa: E402
from core.optim import SGD  # noqa: E402

BATCH = 32


def arrays_epoch(seed: int) -> None:
    data = load_mnist()
    rng = np.random.default_rng(seed)
    sizes = [784, 100, 200, 10]
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    # the weights and their steps as views into one array each, as in FastTrainStep (biases left out)
    parameters = rng.standard_normal(sum(a * b for a, b in shapes), dtype=np.float32) * 0.05
    all_steps = np.zeros_like(parameters)
    ends = np.cumsum([a * b for a, b in shapes])[:-1]
    weights = [w.reshape(shape) for w, shape in zip(np.split(parameters, ends), shapes, strict=True)]
    steps = [s.reshape(shape) for s, shape in zip(np.split(all_steps, ends), shapes, strict=True)]
    outs = [np.empty((BATCH, width), np.float32) for width in sizes[1:]]
    grads = [np.empty((BATCH, width), np.float32) for width in sizes[1:-1]]
    order = rng.permutation(len(data.x_train))
    for start in range(0, len(order) - BATCH + 1, BATCH):
        rows = order[start : start + BATCH]
        x, _ = data.x_train[rows], data.y_train[rows]
        inputs = [x, *outs[:-1]]
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
    for start in range(0, len(data.x_val), 2048):  # validation, as Network.evaluate
        h = data.x_val[start : start + 2048]
        for w in weights:
            h = h @ w


def calls_epoch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.random((50_000, 4), dtype=np.float32)
    y = rng.integers(0, 10, 50_000)
    step = FastTrainStep(build_network([4, 2, 2, 10], rng), SGD(0.1), BATCH)
    order = rng.permutation(len(x))
    for start in range(0, len(x), BATCH):
        rows = order[start : start + BATCH]
        step(x[rows], y[rows])


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    torch.set_num_threads(1)  # the core's BLAS uses one (core.training)
    torch_run = TorchRun()
    sides = {
        "core": lambda seed: core_epoch(BATCH, seed),
        "arrays": arrays_epoch,
        "calls": calls_epoch,
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
    # Each repetition's own fractions (its sides ran back to back), then their medians.
    fraction = {
        name: statistics.median(t / w for t, w in zip(values, times["torch"], strict=True))
        for name, values in times.items()
    }
    for name, values in times.items():
        print(f"{name:9s} median {statistics.median(values):.3f} s/epoch  = {fraction[name]:.3f} x torch")
    floor = statistics.median(
        (a + c) / w for a, c, w in zip(times["arrays"], times["calls"], times["torch"], strict=True)
    )
    print(f"floor (arrays + calls) = {floor:.3f} x torch; core = {fraction['core']:.3f} x torch")


if __name__ == "__main__":
    main()
