"""Calibrate and check the cost model of core/cost.py (the estimate the page shows next to Train).

    python bench/calibrate_cost.py --fit     # measure, fit core.cost.Costs, print them, then check them
    python bench/calibrate_cost.py           # check core.cost.COSTS: estimate vs measured, ~10 runs

--fit measures, in this process, what the model's terms stand for:
1. per batch: core.training.train() on ~16 configs (2D and MNIST, 1 to 4 layers, batch 1 to 1024),
   stopped after about a second of batches; the median time a batch takes (the machine's own speed:
   the median leaves out the batches during which another process had the core) is regressed on the
   model's batch terms (layers, parameters, batch size x multiply-adds), non-negative
   least squares;
2. per evaluated multiply-add: Network.evaluate on the validation set of the same configs;
3. what the server changes: runs through gunicorn (tests/procfile.py, as the Procfile says, a
   temporary database), the median of three each. Their run times are fitted (non-negative least
   squares of relative errors) to: the model's epochs alone times `in_server` (the process's other
   threads, recording above all, share the cores and the GIL), plus a share per epoch and once per
   run for each dataset kind (the decision grid or confusion matrix, storing, events).

Then (or, without --fit, with the constants core/cost.py ships) it runs VALIDATION (configs not used
for the fit, 2D and MNIST, 1 to 25 s each) one at a time through the server and prints, for each, the
estimate, the measured time (the run's finished_at - started_at, what the wall-clock cap counts) and
their ratio; then the ratio's median and spread. About 4 minutes with --fit. On a shared 2-core
machine other processes add time: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from core.blas import one_blas_thread  # noqa: E402
from core.config import parse_query  # noqa: E402
from core.cost import COSTS, Costs, estimate, example_counts, multiply_adds  # noqa: E402
from core.datasets import dataset_for, random_streams  # noqa: E402
from core.network import build_network  # noqa: E402
from core.training import train  # noqa: E402
from tests.procfile import start_procfile_server  # noqa: E402

# For the per-batch fit: a spread of layer counts, widths and batch sizes.
BATCH_FIT = [
    "dataset=spiral&hidden=16,16&batch_size=1&points=5000",
    "dataset=spiral&hidden=16,16&batch_size=16&points=5000",
    "dataset=spiral&hidden=64,64,64,64&batch_size=4&points=5000",
    "dataset=spiral&hidden=512,512&batch_size=32&points=5000",
    "dataset=moons&hidden=8&batch_size=1&points=5000",
    "dataset=blobs&hidden=256&batch_size=256&points=5000",
    "dataset=mnist&hidden=32&batch_size=256",
    "dataset=mnist&hidden=100,200&batch_size=32",
    "dataset=mnist&hidden=100,200&batch_size=1",
    "dataset=mnist&hidden=100,200&batch_size=1024",
    "dataset=mnist&hidden=512&batch_size=8",
    "dataset=mnist&hidden=512,512,512,512&batch_size=1",
    "dataset=mnist&hidden=512,512,512,512&batch_size=64",
    "dataset=mnist&hidden=16,16,16&batch_size=4",
    "dataset=mnist&hidden=256,128&batch_size=128",
    "dataset=mnist&hidden=64&batch_size=2",
]
# For what the server changes: few and many epochs, small and larger networks.
SERVER_FIT = [
    "dataset=spiral&epochs=20",
    "dataset=spiral&epochs=400",
    "dataset=moons&hidden=128,128&batch_size=4&epochs=40",
    "dataset=circles&hidden=8&batch_size=1&points=3000&epochs=10",
    "dataset=blobs&hidden=256,256&batch_size=64&epochs=200",
    "dataset=mnist&hidden=16&batch_size=1024&epochs=2",
    "dataset=mnist&hidden=16&batch_size=1024&epochs=12",
    "dataset=mnist&hidden=100,200&batch_size=64&epochs=2",
    "dataset=mnist&hidden=300&batch_size=16&epochs=1",
    "dataset=mnist&hidden=64,64,64&batch_size=4&epochs=1",
]
# Checked against the shipped constants; none of them is in a fit.
VALIDATION = [
    "dataset=spiral",
    "dataset=moons&batch_size=4&epochs=300",
    "dataset=circles&hidden=64,64&points=5000&epochs=50",
    "dataset=blobs&hidden=32&batch_size=1&points=2000&epochs=20",
    "dataset=xor&hidden=512&epochs=100",
    "dataset=mnist&epochs=3",
    "dataset=mnist&hidden=32&batch_size=256&epochs=5",
    "dataset=mnist&hidden=512,512&batch_size=64&epochs=2",
    "dataset=mnist&hidden=256&batch_size=8&epochs=1",
    "dataset=mnist&hidden=100,200&batch_size=1&epochs=1",
    "dataset=mnist&hidden=512,512,512,512&batch_size=16&epochs=1",
]


def seconds_per_batch(query: str, budget: float = 1.0) -> float:
    """The median time a batch of a config's first epoch takes, over about `budget` seconds."""
    times: list[float] = []
    began = time.perf_counter()

    def on_batch(done: int, total: int) -> None:
        times.append(time.perf_counter())

    def should_stop() -> bool:
        return len(times) > 20 and time.perf_counter() - began > budget

    for _ in train(parse_query(query), should_stop, on_batch):
        pass
    return float(np.median(np.diff(times[5:])))  # (the first batches warm the caches)


def seconds_per_eval_mac(query: str) -> float:
    config = parse_query(query)
    data = dataset_for(config)
    network = build_network(config.layer_sizes, random_streams(config.seed)[1])
    with one_blas_thread():
        network.evaluate(data.x_val, data.y_val)
        began = time.perf_counter()
        for _ in range(3):
            network.evaluate(data.x_val, data.y_val)
    return (time.perf_counter() - began) / 3 / (len(data.x_val) * multiply_adds(config.layer_sizes))


def batch_terms(query: str) -> list[float]:
    """The model's per-batch terms: layers, parameters, batch size x multiply-adds."""
    config = parse_query(query)
    sizes = config.layer_sizes
    macs = multiply_adds(sizes)
    return [len(sizes) - 1, macs + sum(sizes[1:]), min(config.batch_size, example_counts(config)[0]) * macs]


def nonnegative_fit(rows: list[list[float]], targets: list[float]) -> list[float]:
    """Least squares of relative errors (every config counts alike), coefficients >= 0 (drop any
    negative one and refit)."""
    a, b = np.array(rows, dtype=float), np.array(targets, dtype=float)
    a, b = a / b[:, None], np.ones_like(b)
    keep = list(range(a.shape[1]))
    while True:
        coefficients = np.linalg.lstsq(a[:, keep], b, rcond=None)[0]
        if (coefficients >= 0).all():
            result = [0.0] * a.shape[1]
            for index, value in zip(keep, coefficients, strict=True):
                result[index] = float(value)
            return result
        keep.pop(int(np.argmin(coefficients)))


@contextlib.contextmanager
def server():
    env = {
        "PLAYGROUND_RATELIMIT": "10000 per minute",
        "PLAYGROUND_PRELOAD_MNIST": "1",
        "WEB_CONCURRENCY": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        process = start_procfile_server(Path(tmp) / "bench.sqlite3", Path(tmp) / "server.log", env)
        try:
            time.sleep(2)  # MNIST preloaded
            yield process.url
        finally:
            process.stop()


def call(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run_seconds(url: str, query: str) -> tuple[float, float]:
    """A run through the server, one at a time: (finished_at - started_at, what the cap counts; the sum
    of its epochs' own seconds, the time they took to train)."""
    body = {key: value for key, value in parse_query(query).to_dict().items()}
    run = call(f"{url}/api/runs", body)
    while (state := call(f"{url}/api/runs/{run['id']}"))["status"] in ("queued", "running"):
        time.sleep(0.05)
    assert state["status"] == "done", state
    started, finished = (datetime.fromisoformat(state[key]) for key in ("started_at", "finished_at"))
    return (finished - started).total_seconds(), sum(epoch["seconds"] for epoch in state["epochs"])


def fit() -> Costs:
    rows, targets = [], []
    for query in BATCH_FIT:
        seconds = seconds_per_batch(query)
        rows.append(batch_terms(query))
        targets.append(seconds)
        print(f"  {query}: {seconds * 1e6:.1f} µs a batch")
    per_layer, per_parameter, per_mac_batch = nonnegative_fit(rows, targets)
    eval_macs = [seconds_per_eval_mac(query) for query in BATCH_FIT]
    costs = replace(
        COSTS,
        per_layer=per_layer,
        per_parameter=per_parameter,
        per_mac=per_mac_batch,
        per_eval_mac=float(np.median(eval_macs)),
    )
    alone = replace(
        costs, in_server=1.0, per_epoch_2d=0.0, per_epoch_mnist=0.0, setup_2d=0.0, setup_mnist=0.0
    )
    rows, walls = [], []
    with server() as url:
        for query in SERVER_FIT:
            config = parse_query(query)
            wall = statistics.median(run_seconds(url, query)[0] for _ in range(3))
            model = estimate(config, alone)
            mnist = config.dataset == "mnist"
            epochs = config.epochs
            rows.append([epochs * model.per_epoch, epochs * (not mnist), epochs * mnist, not mnist, mnist])
            walls.append(wall - model.finish)
            print(f"  {query}: {wall:.2f} s through the server, {model.seconds:.2f} s alone")
    in_server, per_epoch_2d, per_epoch_mnist, setup_2d, setup_mnist = nonnegative_fit(rows, walls)
    return replace(
        costs,
        in_server=in_server,
        per_epoch_2d=per_epoch_2d,
        per_epoch_mnist=per_epoch_mnist,
        setup_2d=setup_2d,
        setup_mnist=setup_mnist,
    )


def validate(costs: Costs) -> None:
    ratios = []
    print("| config | estimate | measured | estimate / measured |\n|---|---|---|---|")
    with server() as url:
        for query in VALIDATION:
            estimated = estimate(parse_query(query), costs).seconds
            measured, _ = run_seconds(url, query)
            ratios.append(estimated / measured)
            print(f"| `{query}` | {estimated:.2f} s | {measured:.2f} s | {ratios[-1]:.2f} |", flush=True)
    quartiles = statistics.quantiles(ratios, n=4)
    print(
        f"\nestimate / measured over {len(ratios)} runs: median {statistics.median(ratios):.2f}, "
        f"quartiles {quartiles[0]:.2f} to {quartiles[2]:.2f}, range {min(ratios):.2f} to {max(ratios):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fit", action="store_true", help="measure and print new constants for core/cost.py")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    costs = COSTS
    if args.fit:
        costs = fit()
        print("\nCOSTS = Costs(")
        for name, value in asdict(costs).items():
            print(f"    {name}={value:.3g},")
        print(")\n")
    validate(costs)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
