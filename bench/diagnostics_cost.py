"""What the per-layer diagnostics (core/diagnostics.py) cost, as a share of an epoch, and what they add to
each stored epoch event of a 2D run.

    python3 bench/diagnostics_cost.py                  # both nets, 3 rounds
    python3 bench/diagnostics_cost.py --rounds 5 --only spiral

Two nets, as the playground trains them (core.training.train, the fast step): the tutorial's MNIST net
(784-100-200-10, batch 32, lr 0.1) and the default spiral net (2-16-16-3, batch 16, 600 points). Two
measures of the cost:

- inside: train() with core.diagnostics.LayerWatch's methods timed (start_epoch, before_step,
  after_step, observe, layers), their sum per epoch over the epoch's time. Precise: it times only the
  diagnostics' own work (and the timer's, about 1 µs an epoch).
- A/B: the same runs with LayerWatch and with a watch that measures nothing (the validation pass then
  takes Network.evaluate's plain forward path), alternating, medians of each epoch's CPU time. It sees
  everything the diagnostics change, but on this shared machine its noise (a few %) is larger than the
  cost on MNIST.

Bytes: the spiral run's epoch event as server/recorder.py writes it (metrics, the packed decision grid,
recorded_at) and as server/store.py stores it (zlib level 1), with and without `layers`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

from core import training  # noqa: E402
from core.config import parse_config  # noqa: E402
from core.diagnostics import LayerWatch  # noqa: E402
from core.views import decision_grid  # noqa: E402

NETS = {
    "mnist": {"dataset": "mnist", "hidden": [100, 200], "lr": 0.1, "batch_size": 32, "epochs": 3},
    "spiral": {"dataset": "spiral", "epochs": 300},
}


class TimedWatch(LayerWatch):
    """LayerWatch, adding the time its methods take to `spent` (seconds, all epochs)."""

    spent = 0.0

    def _timed(self, method, *args):
        started = time.perf_counter()
        try:
            return method(self, *args)
        finally:
            TimedWatch.spent += time.perf_counter() - started

    def start_epoch(self) -> None:
        self._timed(LayerWatch.start_epoch)

    def before_step(self) -> None:
        self._timed(LayerWatch.before_step)

    def after_step(self) -> None:
        self._timed(LayerWatch.after_step)

    def observe(self, activations) -> None:
        self._timed(LayerWatch.observe, activations)

    def layers(self):
        return self._timed(LayerWatch.layers)


class NoWatch:
    """Measures nothing: what train() would do without diagnostics."""

    observe = None  # Network.evaluate's plain forward path

    def __init__(self, network, gradient_norms) -> None:
        pass

    def start_epoch(self) -> None:
        pass

    def before_step(self) -> None:
        pass

    def after_step(self) -> None:
        pass

    def layers(self) -> list:
        return []


def epochs_of(config, watch: type) -> list[tuple[float, float]]:
    """(wall seconds, CPU seconds) of each epoch of a run trained with this watch."""
    training.LayerWatch = watch
    try:
        times, cpu = [], time.process_time()
        for result in training.train(config):
            now = time.process_time()
            times.append((result.seconds, now - cpu))
            cpu = time.process_time()  # (the generator's own bookkeeping between epochs is not counted)
        return times
    finally:
        training.LayerWatch = LayerWatch


def inside(config, rounds: int) -> tuple[float, float]:
    """(diagnostics' seconds per epoch, share of the epoch), medians over the rounds."""
    shares, per_epoch = [], []
    for _ in range(rounds):
        TimedWatch.spent = 0.0
        times = epochs_of(config, TimedWatch)
        wall = sum(t for t, _ in times)
        shares.append(TimedWatch.spent / wall)
        per_epoch.append(TimedWatch.spent / len(times))
    return statistics.median(per_epoch), statistics.median(shares)


def a_b(config, rounds: int) -> tuple[float, float]:
    """Median CPU seconds of an epoch with the diagnostics and without them, runs alternating."""
    with_cpu, without_cpu = [], []
    for i in range(rounds):
        order = [(LayerWatch, with_cpu), (NoWatch, without_cpu)]
        for watch, into in order if i % 2 == 0 else reversed(order):
            into.extend(cpu for _, cpu in epochs_of(config, watch))
    return statistics.median(with_cpu), statistics.median(without_cpu)


def event_bytes() -> dict[str, int]:
    """The default spiral run's last stored epoch event, with and without `layers` (raw JSON, zlib'd)."""
    config = parse_config({"dataset": "spiral"})
    last = list(training.train(config))[-1]
    metrics = last.metrics()
    grid = decision_grid(last.network, last.dataset, features=config.features)
    sizes = {}
    for name, data in (
        ("with layers", metrics),
        ("without", {k: v for k, v in metrics.items() if k != "layers"}),
    ):
        text = json.dumps({**data, "grid": grid, "recorded_at": round(time.time(), 4)})
        sizes[name] = len(text.encode())
        sizes[name + " (zlib)"] = len(zlib.compress(text.encode(), 1))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=list(NETS))
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    for name, values in NETS.items():
        if args.only and name != args.only:
            continue
        config = parse_config(values)
        epochs_of(config, LayerWatch)  # warm-up (MNIST loaded, caches)
        seconds, share = inside(config, args.rounds)
        with_cpu, without_cpu = a_b(config, args.rounds)
        print(
            f"{name}: diagnostics {seconds * 1e3:.3f} ms an epoch, {share:.2%} of it (inside); "
            f"A/B CPU s/epoch with {with_cpu:.5f}, without {without_cpu:.5f}: "
            f"{with_cpu / without_cpu - 1:+.2%}"
        )
    if not args.only or args.only == "spiral":
        print("spiral epoch event bytes:", event_bytes())
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
