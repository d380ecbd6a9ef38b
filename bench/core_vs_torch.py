"""One epoch of the tutorial config, NumPy core vs PyTorch (CPU), timed in the same command.

    pip install -r requirements-bench.txt
    python bench/core_vs_torch.py                       # batch 32 and 256, 5 repetitions each
    python bench/core_vs_torch.py --batch-sizes 32 --repeats 9 --compile

The tutorial config: MNIST 784-100-200-10, ReLU, Xavier-normal init, plain SGD with lr 0.1 on the
batch-mean cross-entropy, shuffled every epoch, the last partial batch trained. The core runs
core.training.train (the code the playground runs); PyTorch runs the plain eager loop a user would
write with nn.Linear, nn.ReLU, nn.CrossEntropyLoss and optim.SGD, on the same float32 data, already
tensors. Both time the same work: initialise the network, shuffle, every batch (forward, loss, backward,
update, and the running loss and accuracy that train() reports), then loss and accuracy on the 10k
validation images (included for both). Loading the data (and, for torch.compile, compiling) is not timed.

Repetitions alternate core and torch (and which goes first), so a slow spell of the machine hits both;
the medians of wall-clock seconds and their ratio are the result. Also printed: the median of each
repetition's own ratio (core and torch timed back to back, so a slow spell of the machine, which can last
several epochs here, hits both sides of that ratio) and the ratio of the fastest epochs. Both use one
thread: train() trains with one BLAS thread (core/blas.py), and PyTorch is set to one;
--torch-default-threads also times PyTorch with its default (one thread per core). The process CPU time
is printed too: with one thread it is the time the work itself took, so it varies less than the wall
clock when other programs share the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from core.config import Config  # noqa: E402
from core.datasets import load_mnist  # noqa: E402
from core.training import train  # noqa: E402

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("PyTorch is missing: pip install -r requirements-bench.txt")

HIDDEN = (100, 200)
LR = 0.1


def blas_info() -> dict:
    """NumPy's BLAS library, kernel and threads (threadpoolctl, if installed, can tell)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    for pool in threadpool_info():
        if pool["user_api"] == "blas" and "numpy" in pool["filepath"]:
            return pool
    return {}


def core_epoch(batch_size: int, seed: int) -> tuple[float, float]:
    """Train loss and val accuracy of the first epoch of core.training.train."""
    # epochs=2 and stop after the first: the last epoch would also evaluate the test set.
    run = train(Config(dataset="mnist", hidden=HIDDEN, lr=LR, batch_size=batch_size, epochs=2, seed=seed))
    result = next(run)
    run.close()
    return result.train_loss, result.val_acc


class TorchRun:
    """The idiomatic eager PyTorch loop, on tensors made once."""

    def __init__(self, compile_model: bool = False) -> None:
        data = load_mnist()
        self.x, self.y = torch.tensor(data.x_train), torch.tensor(data.y_train)
        self.x_val, self.y_val = torch.tensor(data.x_val), torch.tensor(data.y_val)
        sizes = [784, *HIDDEN, 10]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.network = nn.Sequential(*layers)
        # Compiled once (the warm-up epoch pays for it); each epoch then starts from fresh weights.
        self.model = torch.compile(self.network) if compile_model else self.network

    def reset(self, seed: int) -> None:
        torch.manual_seed(seed)
        for layer in self.network:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_normal_(layer.weight)  # std sqrt(2/(in+out)), as the core
                nn.init.zeros_(layer.bias)

    def epoch(self, batch_size: int, seed: int) -> tuple[float, float]:
        self.reset(seed)
        model = self.model
        optimizer = torch.optim.SGD(self.network.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()  # mean over the batch
        generator = torch.Generator().manual_seed(seed)
        n = len(self.x)
        order = torch.randperm(n, generator=generator)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, batch_size):  # the last, partial batch too
            index = order[start : start + batch_size]
            xb, yb = self.x[index], self.y[index]
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
        with torch.no_grad():  # validation, in chunks of 2048 like core's Network.evaluate
            val_loss, val_correct = 0.0, 0
            for start in range(0, len(self.x_val), 2048):
                logits = model(self.x_val[start : start + 2048])
                yb = self.y_val[start : start + 2048]
                val_loss += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
                val_correct += (logits.argmax(dim=1) == yb).sum().item()
        return loss_sum / n, val_correct / len(self.x_val)


def with_torch_threads(epoch: Callable[[int, int], tuple[float, float]], threads: int, restore: int):
    """epoch, run with `threads` torch threads (then back to `restore`)."""

    def run(batch_size: int, seed: int) -> tuple[float, float]:
        torch.set_num_threads(threads)
        try:
            return epoch(batch_size, seed)
        finally:
            torch.set_num_threads(restore)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per side and batch size")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (not the ratio)")
    parser.add_argument(
        "--torch-default-threads",
        action="store_true",
        help="also time PyTorch with its default threads (one per core; slow to time on a busy machine)",
    )
    args = parser.parse_args()

    blas = blas_info()
    threads = 1  # as train() uses (core/blas.py)
    torch_default_threads = torch.get_num_threads()  # what a PyTorch user gets without asking
    torch.set_num_threads(threads)
    load_mnist()
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}")
    print(
        f"NumPy BLAS: {blas.get('internal_api', '?')} {blas.get('version', '')} kernel "
        f"{blas.get('architecture', '?')}, {threads} thread in train(); "
        f"torch threads {torch.get_num_threads()}"
    )
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        print(f"  {name}={os.environ.get(name, '(unset)')}")
    print(f"load average at start: {os.getloadavg()[0]:.2f} (on 2 cores, anything else running skews it)")
    print("timed, both sides: network init + shuffle + all batches (with train loss/acc) + validation\n")

    torch_run = TorchRun()
    sides = {"core": core_epoch, "torch": torch_run.epoch}
    if args.torch_default_threads and torch_default_threads != threads:  # PyTorch as it comes
        name = f"torch {torch_default_threads} thr"
        sides[name] = with_torch_threads(torch_run.epoch, torch_default_threads, threads)
    if args.compile:
        sides["torch.compile"] = TorchRun(compile_model=True).epoch
    for batch_size in args.batch_sizes:
        for run in sides.values():  # warm-up: first-touch memory, lazy init, compilation
            run(batch_size, 0)
        wall: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        last: dict[str, tuple[float, float]] = {}
        for rep in range(args.repeats):
            names = list(sides) if rep % 2 == 0 else list(reversed(sides))  # alternate who goes first
            for name in names:
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                last[name] = sides[name](batch_size, rep + 1)
                wall[name].append(time.perf_counter() - wall_start)
                cpu[name].append(time.process_time() - cpu_start)
        median = {name: statistics.median(values) for name, values in wall.items()}
        median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
        print(f"batch {batch_size}:")
        for name, values in wall.items():
            runs = " ".join(f"{v:.3f}" for v in values)
            loss, acc = last[name]
            print(
                f"  {name:14s} median {median[name]:.3f} s/epoch [{runs}]  cpu {median_cpu[name]:.3f} s"
                f"  (loss {loss:.3f}, val_acc {acc:.4f})"
            )
        best = {name: min(values) for name, values in wall.items()}  # a busy machine only adds time
        for name in sides:
            if name != "core":
                # Each repetition times both sides back to back, so its ratio shares the machine's speed
                # of the moment; their median shrugs off slow spells that the ratio of medians does not.
                paired = statistics.median(c / t for c, t in zip(wall["core"], wall[name], strict=True))
                # (with several torch threads, its CPU time adds up the threads: compare wall clocks)
                print(
                    f"  ratio core/{name}: {median['core'] / median[name]:.2f} "
                    f"(median of the {args.repeats} paired ratios: {paired:.2f}; "
                    f"best of {args.repeats}: {best['core'] / best[name]:.2f}; "
                    f"cpu time: {median_cpu['core'] / median_cpu[name]:.2f})"
                )
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
