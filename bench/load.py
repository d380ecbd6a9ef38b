"""Load: K event-stream viewers and M trainings at once, against gunicorn started as the Procfile says.

    python bench/load.py                          # 2 MNIST trainings, 100 viewers, one round
    python bench/load.py --rounds 3               # medians over three rounds (a fresh server each)
    python bench/load.py --trainings 2 --viewers 100 --epochs 30 --memory-runs 6

Each round starts its own server (a temporary database, a free loopback port), POSTs M MNIST runs at
once and opens K viewers split across them right away (asyncio, one connection each), and reads every
stream to `done`. Meanwhile it asks GET /healthz every 100 ms and samples the server's memory (RSS of
the master and its workers). It reports:
- events delivered: every viewer must see every epoch exactly once, in order, then `done`;
- the delay from an epoch being stored (its event's `recorded_at`, written by server.recorder just
  before the store's transaction) to the viewer reading it: p50 / p95 / max;
- /healthz answer times under that load: p50 / p95;
- server memory: the largest sum of the processes' RSS seen, and each process at the end.
Then (--memory-runs N, default 6) a server with one worker trains N small MNIST runs one after the
other and reports that worker's RSS after the first and after the last: MNIST is loaded once per
process and shared read-only, so it must not grow with the number of runs.

Goals on a 2-core machine: all events delivered, delay p95 < 250 ms, /healthz p95 < 250 ms.
Bounded: at most --limit seconds a round (default 180), then it stops the server and reports a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from tests.procfile import Server, start_procfile_server  # noqa: E402

HOST = "127.0.0.1"


# --- the server ----------------------------------------------------------------------------------


def start_server(workdir: Path, env: dict[str, str]) -> Server:
    """gunicorn as the Procfile says, on a free port with its own database in workdir."""
    count = len(list(workdir.glob("*.sqlite3")))
    one_client = {"PLAYGROUND_RATELIMIT": "10000 per minute"}  # this script starts every run
    return start_procfile_server(
        workdir / f"load-{count}.sqlite3", workdir / f"server-{count}.log", {**one_client, **env}
    )


def wait_until_loaded(server: Server, limit: float = 60) -> list[int]:
    """Wait until every worker has MNIST in memory (it loads at boot, in the background), so the
    figures measure the load, not the start; returns each process's RSS (MB) then."""
    deadline = time.monotonic() + limit
    before: list[float] = []
    while time.monotonic() < deadline:
        now = [rss_mb(pid) for pid in server.pids()]
        if before == now and len(now) > 1 and min(now[1:]) > 250:
            break
        before = now
        time.sleep(0.5)
    return [round(mb) for mb in before]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# --- HTTP over asyncio streams (HTTP/1.0: no chunking, the server closes at the end) -------------


async def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.0\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
    writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
    await writer.drain()
    response = await reader.read()
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


@dataclass
class Viewer:
    run_id: str
    epochs: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    done: dict | None = None
    error: str | None = None


async def watch(port: int, viewer: Viewer) -> None:
    """Read one run's event stream to `done`, noting each epoch and how late it arrived."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(f"GET /api/runs/{viewer.run_id}/events HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the response head
        event, data = None, []
        while line := await reader.readline():
            line = line.rstrip(b"\r\n")
            if line.startswith(b"event: "):
                event = line[7:].decode()
            elif line.startswith(b"data: "):
                data.append(line[6:])
            elif not line and event is not None:
                payload = json.loads(b"\n".join(data))
                if event == "epoch":
                    viewer.delays.append(time.time() - payload["recorded_at"])
                    viewer.epochs.append(payload["epoch"])
                elif event == "done":
                    viewer.done = payload
                    break
                event, data = None, []
        writer.close()
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        viewer.error = repr(error)


async def poll_healthz(port: int, times: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        status, _ = await request(port, "GET", "/healthz")
        if status == 200:
            times.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))


async def sample_memory(server: Server, peaks: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks.append(sum(rss_mb(pid) for pid in server.pids()))
        await asyncio.sleep(0.5)


# --- one round -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


async def load_round(server: Server, config: dict, trainings: int, viewers: int, limit: float) -> dict:
    started = time.monotonic()
    posts = await asyncio.gather(
        *(request(server.port, "POST", "/api/runs", {**config, "seed": seed}) for seed in range(trainings))
    )
    run_ids = []
    for status, body in posts:
        if status != 201:
            raise SystemExit(f"POST /api/runs answered {status}: {body[:200]!r}")
        run_ids.append(json.loads(body)["id"])
    watchers = [Viewer(run_ids[i % trainings]) for i in range(viewers)]
    health: list[float] = []
    memory: list[float] = []
    stop = asyncio.Event()
    background = [
        asyncio.create_task(poll_healthz(server.port, health, stop)),
        asyncio.create_task(sample_memory(server, memory, stop)),
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(watch(server.port, v) for v in watchers)), limit)
        finished = True
    except TimeoutError:
        finished = False
    stop.set()
    await asyncio.gather(*background)
    seconds = time.monotonic() - started

    expected = config["epochs"]
    complete = [v for v in watchers if v.epochs == list(range(1, expected + 1)) and v.done is not None]
    delays = [d for v in watchers for d in v.delays]
    return {
        "finished": finished,
        "seconds": seconds,
        "viewers_complete": len(complete),
        "events": sum(len(v.epochs) for v in watchers),
        "events_expected": viewers * expected,
        "done_statuses": sorted({(v.done or {}).get("status", "none") for v in watchers}),
        "errors": [v.error for v in watchers if v.error][:3],
        "delay_p50": statistics.median(delays) if delays else float("nan"),
        "delay_p95": percentile(delays, 0.95),
        "delay_max": max(delays, default=float("nan")),
        "healthz_p50": statistics.median(health) if health else float("nan"),
        "healthz_p95": percentile(health, 0.95),
        "healthz_samples": len(health),
        "memory_peak_mb": max(memory, default=0.0),
        "memory_end_mb": [round(rss_mb(pid)) for pid in server.pids()],
    }


async def memory_runs(server: Server, runs: int) -> list[float]:
    """The one worker's RSS after each of `runs` small MNIST runs trained one after the other."""
    worker = server.pids()[-1]
    resident = []
    for seed in range(runs):
        status, body = await request(
            server.port,
            "POST",
            "/api/runs",
            {"dataset": "mnist", "hidden": [32], "batch_size": 256, "epochs": 1, "seed": seed},
        )
        assert status == 201, body
        viewer = Viewer(json.loads(body)["id"])
        await asyncio.wait_for(watch(server.port, viewer), 60)
        resident.append(rss_mb(worker))
    return resident


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trainings", type=int, default=2, help="MNIST runs at once (M)")
    parser.add_argument(
        "--viewers", type=int, default=100, help="event-stream viewers, split over the runs (K)"
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each run")
    parser.add_argument("--hidden", default="100", help="hidden layer sizes, comma-separated")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="rounds (each with a fresh server); medians")
    parser.add_argument(
        "--memory-runs", type=int, default=6, help="sequential MNIST runs for the memory check"
    )
    parser.add_argument("--limit", type=float, default=180, help="seconds a round may take at most")
    args = parser.parse_args()
    if not 1 <= args.trainings <= 8 or not 0 <= args.viewers <= 500 or not 1 <= args.rounds <= 10:
        raise SystemExit("keep it bounded: 1-8 trainings, 0-500 viewers, 1-10 rounds")
    config = {
        "dataset": "mnist",
        "hidden": [int(n) for n in args.hidden.split(",")],
        "batch_size": args.batch_size,
        "epochs": args.epochs,
    }
    print(
        f"{args.trainings} x {config}, {args.viewers} viewers, {args.rounds} round(s), {os.cpu_count()} cores"
    )

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for number in range(1, args.rounds + 1):
            server = start_server(workdir, {"PLAYGROUND_PRELOAD_MNIST": "1"})
            try:
                boot = wait_until_loaded(server)
                print(f"round {number}: server memory once MNIST is loaded {boot}")
                result = asyncio.run(load_round(server, config, args.trainings, args.viewers, args.limit))
            finally:
                server.stop()
            results.append(result)
            print(
                f"round {number}: {result['seconds']:.1f} s"
                f", events {result['events']}/{result['events_expected']}"
                f", viewers complete {result['viewers_complete']}/{args.viewers} {result['done_statuses']}"
                f", delay p50 {result['delay_p50'] * 1000:.0f} ms p95 {result['delay_p95'] * 1000:.0f} ms"
                f" max {result['delay_max'] * 1000:.0f} ms"
                f", /healthz p50 {result['healthz_p50'] * 1000:.1f} ms"
                f" p95 {result['healthz_p95'] * 1000:.1f} ms ({result['healthz_samples']} samples)"
                f", memory peak {result['memory_peak_mb']:.0f} MB, end {result['memory_end_mb']} MB"
                + (f", errors {result['errors']}" if result["errors"] else "")
            )
        resident: list[float] = []
        if args.memory_runs:
            server = start_server(workdir, {"WEB_CONCURRENCY": "1", "PLAYGROUND_WORKERS": "1"})
            try:
                resident = asyncio.run(memory_runs(server, args.memory_runs))
            finally:
                server.stop()

    def median(key: str) -> float:
        return statistics.median(result[key] for result in results)

    delivered = all(r["events"] == r["events_expected"] and r["finished"] for r in results)
    complete = all(r["viewers_complete"] == args.viewers for r in results)
    print(f"\nmedians over {len(results)} round(s):")
    print(f"  every event delivered exactly once, then done: {'yes' if delivered and complete else 'NO'}")
    delay = (median("delay_p50") * 1000, median("delay_p95") * 1000)
    health = (median("healthz_p50") * 1000, median("healthz_p95") * 1000)
    print(f"  event delay p50 / p95: {delay[0]:.0f} / {delay[1]:.0f} ms (goal p95 < 250)")
    print(f"  /healthz p50 / p95:    {health[0]:.1f} / {health[1]:.1f} ms (goal p95 < 250)")
    print(f"  server memory peak (master + workers): {median('memory_peak_mb'):.0f} MB")
    if resident:
        growth = resident[-1] - resident[0]
        print(
            f"  one worker's RSS after 1 and after {len(resident)} MNIST runs: "
            f"{resident[0]:.0f} -> {resident[-1]:.0f} MB ({growth:+.1f} MB)"
        )
    ok = delivered and complete and delay[1] < 250 and health[1] < 250
    print("goals met" if ok else "GOALS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
