"""A/B a variant of the fast training step against core.fast_step.FastTrainStep, on the same batches.

    python bench/step_ab.py my_variants.py Faster [Other ...]   # classes defined in my_variants.py
    python bench/step_ab.py --epochs 4

Each variant is a subclass of FastTrainStep (typically overriding __call__) with its own network made
from the same seed. The steps run in alternating blocks of 64 batches over the same shuffled batches, so a
slow spell of the machine (they last seconds here) hits every side, while each block keeps its own
network in the caches. BLAS runs one thread, as in train(). A second copy of the core step runs as a
control: its ratio shows the harness's own bias (1.00 to 1.03 here). Only the steps are timed (the rows
are gathered outside the clock). The "Tried and not kept" figures in bench/README.md were measured this way.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.blas import one_blas_thread  # noqa: E402
from core.datasets import load_mnist  # noqa: E402
from core.fast_step import FastTrainStep  # noqa: E402
from core.network import build_network  # noqa: E402
from core.optim import SGD  # noqa: E402

BATCH, BLOCK = 32, 64


def variant_classes(path: str | None, names: list[str]) -> dict[str, type[FastTrainStep]]:
    classes = {"core": FastTrainStep, "core again": FastTrainStep}
    if path:
        spec = importlib.util.spec_from_file_location("variants", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        classes |= {name: getattr(module, name) for name in names}
    return classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("variants", nargs="?", help="a .py file defining FastTrainStep subclasses")
    parser.add_argument("names", nargs="*", help="the classes in it to time")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()

    data = load_mnist()
    steps = {
        name: cls(build_network([784, 100, 200, 10], np.random.default_rng(0)), SGD(0.1), BATCH)
        for name, cls in variant_classes(args.variants, args.names).items()
    }
    ratios: dict[str, list[float]] = {name: [] for name in steps}
    for epoch in range(args.epochs):
        seconds = dict.fromkeys(steps, 0.0)
        order = np.random.default_rng(epoch).permutation(len(data.x_train))
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
        for block_start in range(0, len(batches), BLOCK):
            block = [
                (data.x_train[rows], data.y_train[rows])
                for rows in batches[block_start : block_start + BLOCK]
            ]
            names = list(steps) if (block_start // BLOCK) % 2 else list(reversed(steps))
            for name in names:
                step, started = steps[name], time.perf_counter()
                for x, y in block:
                    step(x, y)
                seconds[name] += time.perf_counter() - started
        for name in steps:
            ratios[name].append(seconds[name] / seconds["core"])
        per_step = "  ".join(
            f"{n} {s / len(batches) * 1e6:.0f} µs ({s / seconds['core']:.3f})" for n, s in seconds.items()
        )
        print(f"epoch {epoch + 1}: {per_step}", flush=True)
    print("median ratio to core: " + "  ".join(f"{n} {statistics.median(r):.3f}" for n, r in ratios.items()))


if __name__ == "__main__":
    with one_blas_thread():  # as train() does
        main()
