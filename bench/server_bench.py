"""What the server costs on top of training, and how fast the first epoch shows up.

    python bench/server_bench.py                    # MNIST 3 epochs x 5 repeats, 20 spiral runs
    python bench/server_bench.py --epochs 5 --repeats 5 --samples 40

1. The same MNIST config (the tutorial's 784-100-200-10, batch 32) trained by the CLI
   (`python -m core.train ... --json`) and through the server (gunicorn started exactly as the
   Procfile says; POST /api/runs, then the SSE stream read to `done`). Goal: server / CLI <= 1.15.
   To compare like with like, both are timed with MNIST already in memory: the CLI runs in this
   process (core.train.main, stdout to a buffer) after one load_mnist(); the server's workers load it at
   boot (PLAYGROUND_PRELOAD_MNIST=1). Repeats alternate CLI and server; medians are compared, and the
   best of each too (other processes only ever add time, so the best runs show the server's own cost
   most clearly on a busy machine). The CLI as a fresh subprocess (interpreter start and data load
   included) is printed for reference.
2. The time from POST /api/runs to the first `epoch` event on the stream, for the default spiral
   config, over --samples runs; the median is the figure. Goal: < 300 ms.
3. GET /healthz every 50 ms while two MNIST runs train at once: p50 and p95 of its answer time.

Loopback only; it starts and stops its own server on a free port with a temporary database.
On a 2-core machine other busy processes skew the figures: run it on an idle one.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from core import train as cli  # noqa: E402
from core.datasets import load_mnist  # noqa: E402
from tests.procfile import procfile_command, start_procfile_server  # noqa: E402


@contextlib.contextmanager
def procfile_server(env: dict[str, str]):
    """gunicorn as the Procfile says (tests/procfile.py) with a temporary database; yields its URL."""
    one_client = {"PLAYGROUND_RATELIMIT": "10000 per minute"}  # this script starts every run
    with tempfile.TemporaryDirectory() as tmp:
        server = start_procfile_server(
            Path(tmp) / "bench.sqlite3", Path(tmp) / "server.log", {**one_client, **env}
        )
        try:
            yield server.url
        finally:
            server.stop()


def post_run(url: str, config: dict) -> dict:
    request = urllib.request.Request(
        url + "/api/runs", data=json.dumps(config).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def stream(url: str, path: str):
    """Yield (event name, data) from an SSE stream until it closes."""
    port = int(url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", path)
    response = connection.getresponse()
    event = None
    try:
        while line := response.readline():
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                yield event, line[6:]
                event = None
    finally:
        response.close()
        connection.close()


def train_through_server(url: str, config: dict) -> tuple[float, float, dict]:
    """(seconds from POST to the first epoch event, seconds from POST to done, done's data)."""
    started = time.perf_counter()
    created = post_run(url, config)
    first = None
    for event, data in stream(url, created["events"]):
        if event == "epoch" and first is None:
            first = time.perf_counter() - started
        if event == "done":
            return first, time.perf_counter() - started, json.loads(data)
    raise SystemExit("the stream ended without done")


def healthz_under_training(url: str, config: dict) -> list[float]:
    """/healthz answer times (s) while two runs of config train; stops when both are done."""
    created = [post_run(url, {**config, "seed": seed}) for seed in (1, 2)]
    time.sleep(0.5)  # both have started
    delays = []
    while True:
        started = time.perf_counter()
        urllib.request.urlopen(url + "/healthz", timeout=10).read()
        delays.append(time.perf_counter() - started)
        runs = [json.loads(urllib.request.urlopen(f"{url}/api/runs/{run['id']}").read()) for run in created]
        if all(run["status"] != "running" and run["status"] != "queued" for run in runs):
            return delays
        time.sleep(0.05)


def cli_args(config: dict) -> list[str]:
    args = []
    for name, value in config.items():
        value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        args += ["--" + name.replace("_", "-"), value]
    return args + ["--json"]


def train_with_cli(config: dict) -> float:
    """core.train's main in this process, its output captured; returns its wall time."""
    buffer = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(buffer):
        code = cli.main(cli_args(config))
    elapsed = time.perf_counter() - started
    lines = buffer.getvalue().splitlines()
    assert code == 0 and len(lines) == config["epochs"], buffer.getvalue()
    return elapsed


def cli_subprocess(config: dict) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "core.train", *cli_args(config)], cwd=ROOT, check=True, capture_output=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="MNIST epochs per run (default 3)")
    parser.add_argument("--repeats", type=int, default=5, help="CLI/server pairs (default 5)")
    parser.add_argument("--samples", type=int, default=20, help="spiral runs for first-epoch latency")
    args = parser.parse_args()

    mnist = {"dataset": "mnist", "hidden": [100, 200], "lr": 0.1, "batch_size": 32, "epochs": args.epochs}
    spiral = {"dataset": "spiral"}  # the defaults: 100 epochs of a 2-16-16-3 net on 600 points
    print(f"cpus: {os.cpu_count()}  Procfile: {procfile_command()}")
    load_mnist()

    with procfile_server({"PLAYGROUND_PRELOAD_MNIST": "1"}) as url:
        time.sleep(3)  # let both workers finish loading MNIST
        train_through_server(url, {**mnist, "epochs": 1})  # warm-up: imports, first queries
        cli_times, server_times = [], []
        for i in range(args.repeats):
            for step in ("cli", "server") if i % 2 == 0 else ("server", "cli"):  # alternate who goes first
                if step == "cli":
                    cli_times.append(train_with_cli(mnist))
                else:
                    _, total, done = train_through_server(url, mnist)
                    assert done["status"] == "done", done
                    server_times.append(total)
            print(f"  repeat {i + 1}: cli {cli_times[-1]:.2f} s, server {server_times[-1]:.2f} s", flush=True)

        firsts, totals = [], []
        for seed in range(args.samples):
            first, total, done = train_through_server(url, {**spiral, "seed": seed})
            assert done["status"] == "done", done
            firsts.append(first)
            totals.append(total)

        health = sorted(healthz_under_training(url, {**mnist, "epochs": 2}))

    fresh = cli_subprocess(mnist)
    cli_median, server_median = statistics.median(cli_times), statistics.median(server_times)
    ratio = server_median / cli_median
    print()
    print(f"MNIST 784-100-200-10, batch 32, {args.epochs} epochs, medians of {args.repeats}:")
    print(f"  CLI (in-process, data in memory)      {cli_median:7.2f} s")
    print(f"  server (POST -> stream -> done)       {server_median:7.2f} s")
    print(f"  ratio server / CLI                    {ratio:7.3f}   (goal <= 1.15)")
    best_ratio = min(server_times) / min(cli_times)
    best_cli, best_server = min(cli_times), min(server_times)
    print(f"  best of each: CLI {best_cli:.2f} s, server {best_server:.2f} s, ratio {best_ratio:.3f}")
    print(f"  CLI as a fresh subprocess (reference) {fresh:7.2f} s")
    first_ms = 1000 * statistics.median(firsts)
    p95 = 1000 * sorted(firsts)[max(0, round(0.95 * len(firsts)) - 1)]
    print(f"default spiral config, {args.samples} runs:")
    print(f"  POST -> first epoch event, median     {first_ms:7.1f} ms  (p95 {p95:.1f} ms; goal < 300 ms)")
    print(f"  POST -> done, median                  {1000 * statistics.median(totals):7.1f} ms")
    health_p50, health_p95 = 1000 * statistics.median(health), 1000 * health[int(0.95 * (len(health) - 1))]
    print(f"/healthz while 2 MNIST runs train, {len(health)} requests:")
    print(f"  p50 {health_p50:.1f} ms, p95 {health_p95:.1f} ms")
    summary = {
        "cli_s": round(cli_median, 3),
        "server_s": round(server_median, 3),
        "ratio": round(ratio, 3),
        "best_ratio": round(best_ratio, 3),
        "cli_subprocess_s": round(fresh, 3),
        "first_epoch_ms_median": round(first_ms, 1),
        "first_epoch_ms_p95": round(p95, 1),
        "healthz_ms_p50": round(health_p50, 1),
        "healthz_ms_p95": round(health_p95, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
