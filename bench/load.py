"""Load: K event-stream viewers and M trainings at once, against the Procfile's processes.

    python bench/load.py                          # embedded: 2 MNIST trainings, 100 viewers, one round
    python bench/load.py --rounds 3               # medians over three rounds (a fresh server each)
    python bench/load.py --trainings 2 --viewers 100 --epochs 30 --memory-runs 6
    python bench/load.py --scaled --rounds 3      # scaled mode beside embedded: 4 runs, 400 viewers
    python bench/load.py --viewers 1000 --gthread --memory-runs 0   # 1,000 viewers; the gthread line too

Embedded (the default): each round starts gunicorn as the Procfile says (a temporary SQLite file, a free
loopback port), POSTs M MNIST runs at once and opens K viewers split across them right away (asyncio,
one connection each, each viewer from a loopback address of its own, 127.0.x.y, as distinct clients),
and reads every stream to `done`. Meanwhile it asks GET /healthz and the page (GET /) every 100 ms and
samples the processes' memory (RSS). --gthread runs the same rounds on the web line the Procfile had
before the gevent worker (GTHREAD_WEB: gthread, a thread per connection, 128 a worker as it started
them; --gthread-threads sets another number) and prints the two side by side. Then (--memory-runs N,
default 6) a server with one worker trains N small MNIST runs one after the other and reports that
worker's RSS after the first and the last.

Scaled (--scaled; defaults 4 trainings, 400 viewers): a throwaway PostgreSQL and Redis (tests/services.py),
the Procfile's release line, two web hosts (the web line twice, each on its own port) and two workers
(the worker line twice). The runs are POSTed to both hosts in turn and the viewers split over both hosts.
Then runs finished per minute: R MNIST runs (--throughput-runs, 784-100-10, batch 64, 3 epochs) POSTed at
once and followed to `done`, with 1 and with 2 worker processes. The same load and the same throughput
(1 and 2 training slots: one gunicorn worker with one training thread, then two) are measured on the
embedded mode too (--no-embedded skips it), and both are printed side by side.

Figures:
- events delivered: every viewer must see every epoch exactly once, in order, then `done`;
- the delay from an epoch being stored (its event's `recorded_at`, written by server.recorder just
  before the store's transaction) to the viewer reading it: p50 / p95 / max;
- /healthz and page answer times under that load (every host): p50 / p95;
- memory: the largest sum of the processes' RSS seen, and each process at the end.

Goals on a 2-core machine: all events delivered, delay p95 < 250 ms, the page and /healthz p95 < 500 ms
(up to 1,000 viewers on one host).
Bounded: at most --limit seconds a round (default 240), then it stops the servers and reports a failure.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from tests.conftest import wait_until_listening  # noqa: E402
from tests.procfile import Process, Server, launch, start_procfile_server, start_procfile_worker  # noqa: E402

HOST = "127.0.0.1"
ONE_CLIENT = {"PLAYGROUND_RATELIMIT": "10000 per minute"}  # this script starts every run
THROUGHPUT_CONFIG = {"dataset": "mnist", "hidden": [100], "batch_size": 64, "epochs": 3}
# The Procfile's web line before the gevent worker (main at 518fa3a), for --gthread: a thread per stream.
GTHREAD_WEB = (
    "gunicorn --bind 0.0.0.0:${PORT:-5000} --workers ${WEB_CONCURRENCY:-2} --worker-class gthread"
    " --threads ${PLAYGROUND_THREADS:-128} --timeout 60 --graceful-timeout 10 --no-control-socket"
    " 'server:create_app()'"
)


# --- the deployments -----------------------------------------------------------------------------


@dataclass
class Deployment:
    """Web hosts (gunicorn each), and in the scaled mode the worker processes, all on this machine."""

    hosts: list[Server]
    workers: list[Process] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path | None = None

    @property
    def ports(self) -> list[int]:
        return [host.port for host in self.hosts]

    def pids(self) -> list[int]:
        return [pid for host in self.hosts for pid in host.pids()] + [w.pid for w in self.workers]

    def add_workers(self, count: int) -> None:
        started = [
            start_procfile_worker(self.env, self.workdir / f"worker-{len(self.workers) + n}.log")
            for n in range(count)
        ]
        self.workers += started
        wait_until_listening(self.env["REDIS_URL"], started)

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        for host in self.hosts:
            host.stop()


def embedded(workdir: Path, env: dict[str, str], command: str | None = None) -> Deployment:
    """gunicorn as the Procfile says (or `command`), on a new SQLite file in workdir."""
    count = len(list(workdir.glob("*.sqlite3")))
    host = start_procfile_server(
        workdir / f"load-{count}.sqlite3",
        workdir / f"server-{count}.log",
        {**ONE_CLIENT, **env},
        command=command,
    )
    return Deployment([host])


class Services:
    """One throwaway PostgreSQL and Redis for the whole bench; each scaled deployment gets a fresh
    database (migrated by the Procfile's release line) and an emptied Redis."""

    def __init__(self) -> None:
        from tests.services import start_postgres, start_redis

        self.postgres = start_postgres()
        self.redis = start_redis()

    def fresh(self, workdir: Path) -> dict[str, str]:
        self.redis.flush()
        url = self.postgres.create_database()
        env = {"DATABASE_URL": url, "REDIS_URL": self.redis.url}
        log = workdir / "release.log"
        if launch("release", env, log).wait(timeout=60) != 0:
            raise SystemExit(f"the release line failed:\n{log.read_text()}")
        return env

    def remove(self) -> None:
        self.postgres.remove()
        self.redis.remove()


def scaled(workdir: Path, services: Services, hosts: int, workers: int, env: dict[str, str]) -> Deployment:
    """`hosts` web hosts (the Procfile's web line each) and `workers` worker processes."""
    env = {**ONE_CLIENT, **services.fresh(workdir), **env}
    count = len(list(workdir.glob("web-*.log")))
    servers = [
        start_procfile_server(env["DATABASE_URL"], workdir / f"web-{count + n}.log", env)
        for n in range(hosts)
    ]
    deployment = Deployment(servers, env=env, workdir=workdir)
    deployment.add_workers(workers)
    return deployment


def settle(deployment: Deployment, limit: float = 60) -> list[int]:
    """Wait until the processes' memory stops growing (MNIST preloaded where it is), so the figures
    measure the load, not the start; returns each process's RSS (MB) then."""
    deadline = time.monotonic() + limit
    before: list[float] = []
    time.sleep(1.0)
    while time.monotonic() < deadline:
        now = [rss_mb(pid) for pid in deployment.pids()]
        if (
            before
            and all(abs(a - b) < 2 for a, b in zip(before, now, strict=False))
            and len(now) == len(before)
        ):
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


def client_address(number: int) -> str:
    """The loopback address viewer `number` connects from: a client of its own (127.0.0.2 and up)."""
    return f"127.0.{number // 200}.{number % 200 + 2}"


@dataclass
class Viewer:
    run_id: str
    port: int
    address: str = HOST
    epochs: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    done: dict | None = None
    error: str | None = None


async def watch(viewer: Viewer) -> None:
    """Read one run's event stream to `done`, noting each epoch and how late it arrived."""
    try:
        reader, writer = await asyncio.open_connection(HOST, viewer.port, local_addr=(viewer.address, 0))
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


async def poll(port: int, path: str, times: list[float], stop: asyncio.Event) -> None:
    """GET `path` every 100 ms until `stop`, noting each answer's time."""
    while not stop.is_set():
        started = time.perf_counter()
        status, _ = await request(port, "GET", path)
        if status == 200:
            times.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - started)))


async def sample_memory(deployment: Deployment, peaks: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peaks.append(sum(rss_mb(pid) for pid in deployment.pids()))
        await asyncio.sleep(0.5)


async def post_runs(ports: list[int], config: dict, count: int) -> list[str]:
    """POST `count` runs (seeds 0..count-1, each trained anew: `fresh`), to the hosts in turn; their ids."""
    posts = await asyncio.gather(
        *(
            request(ports[seed % len(ports)], "POST", "/api/runs", {**config, "seed": seed, "fresh": True})
            for seed in range(count)
        )
    )
    run_ids = []
    for status, body in posts:
        if status != 201:
            raise SystemExit(f"POST /api/runs answered {status}: {body[:200]!r}")
        run_ids.append(json.loads(body)["id"])
    return run_ids


# --- one round -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else float("nan")


async def load_round(
    deployment: Deployment, config: dict, trainings: int, viewers: int, limit: float
) -> dict:
    started = time.monotonic()
    ports = deployment.ports
    run_ids = await post_runs(ports, config, trainings)
    watchers = [
        Viewer(run_ids[i % trainings], ports[i % len(ports)], client_address(i)) for i in range(viewers)
    ]
    health: list[float] = []
    page: list[float] = []
    memory: list[float] = []
    stop = asyncio.Event()
    background = [asyncio.create_task(poll(port, "/healthz", health, stop)) for port in ports]
    background += [asyncio.create_task(poll(port, "/", page, stop)) for port in ports]
    background.append(asyncio.create_task(sample_memory(deployment, memory, stop)))
    try:
        await asyncio.wait_for(asyncio.gather(*(watch(v) for v in watchers)), limit)
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
        "page_p50": statistics.median(page) if page else float("nan"),
        "page_p95": percentile(page, 0.95),
        "memory_peak_mb": max(memory, default=0.0),
        "memory_end_mb": [round(rss_mb(pid)) for pid in deployment.pids()],
    }


async def runs_per_minute(deployment: Deployment, count: int, limit: float) -> float:
    """POST `count` MNIST runs at once and follow each to `done`: runs finished per minute."""
    started = time.monotonic()
    ports = deployment.ports
    run_ids = await post_runs(ports, THROUGHPUT_CONFIG, count)
    viewers = [Viewer(run_id, ports[i % len(ports)]) for i, run_id in enumerate(run_ids)]
    await asyncio.wait_for(asyncio.gather(*(watch(v) for v in viewers)), limit)
    if any((v.done or {}).get("status") != "done" for v in viewers):
        raise SystemExit(f"not every run ended done: {[v.done for v in viewers]}")
    return count / (time.monotonic() - started) * 60


async def memory_runs(deployment: Deployment, runs: int) -> list[float]:
    """The one worker's RSS after each of `runs` small MNIST runs trained one after the other."""
    server = deployment.hosts[0]
    worker = server.pids()[-1]
    resident = []
    for seed in range(runs):
        status, body = await request(
            server.port,
            "POST",
            "/api/runs",
            {"dataset": "mnist", "hidden": [32], "batch_size": 256, "epochs": 1, "seed": seed, "fresh": True},
        )
        assert status == 201, body
        viewer = Viewer(json.loads(body)["id"], server.port)
        await asyncio.wait_for(watch(viewer), 60)
        resident.append(rss_mb(worker))
    return resident


def report(number: int, result: dict, viewers: int) -> None:
    print(
        f"  round {number}: {result['seconds']:.1f} s"
        f", events {result['events']}/{result['events_expected']}"
        f", viewers complete {result['viewers_complete']}/{viewers} {result['done_statuses']}"
        f", delay p50 {result['delay_p50'] * 1000:.0f} ms p95 {result['delay_p95'] * 1000:.0f} ms"
        f" max {result['delay_max'] * 1000:.0f} ms"
        f", /healthz p50 {result['healthz_p50'] * 1000:.1f} ms"
        f" p95 {result['healthz_p95'] * 1000:.1f} ms ({result['healthz_samples']} samples)"
        f", page p50 {result['page_p50'] * 1000:.1f} ms p95 {result['page_p95'] * 1000:.1f} ms"
        f", memory peak {result['memory_peak_mb']:.0f} MB, end {result['memory_end_mb']} MB"
        + (f", errors {result['errors']}" if result["errors"] else ""),
        flush=True,
    )


def summary(results: list[dict], viewers: int) -> dict:
    def median(key: str) -> float:
        return statistics.median(result[key] for result in results)

    delivered = all(r["events"] == r["events_expected"] and r["finished"] for r in results)
    complete = all(r["viewers_complete"] == viewers for r in results)
    return {
        "delivered": delivered and complete,
        "delay": (median("delay_p50") * 1000, median("delay_p95") * 1000),
        "healthz": (median("healthz_p50") * 1000, median("healthz_p95") * 1000),
        "page": (median("page_p50") * 1000, median("page_p95") * 1000),
        "memory": median("memory_peak_mb"),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the two modes -------------------------------------------------------------------------------


def load_rounds(args: argparse.Namespace, config: dict, deploy: Callable[[], Deployment]) -> dict:
    """--rounds load rounds, each on a fresh deployment; the medians."""
    if args.throughput_only:
        return {}
    results = []
    for number in range(1, args.rounds + 1):
        deployment = deploy()
        try:
            print(f"  round {number}: memory once started {settle(deployment)} MB", flush=True)
            results.append(
                asyncio.run(load_round(deployment, config, args.trainings, args.viewers, args.limit))
            )
        finally:
            deployment.stop()
        report(number, results[-1], args.viewers)
    return summary(results, args.viewers)


def throughput(args: argparse.Namespace, deploy: Callable[[int], Deployment], unit: str) -> dict[int, list]:
    """Runs finished per minute with 1 and with 2 training slots (`deploy(slots)`), --rounds times each."""
    rates: dict[int, list] = {1: [], 2: []}
    for _ in range(args.rounds):
        for slots in rates:
            deployment = deploy(slots)
            try:
                settle(deployment)
                rates[slots].append(
                    asyncio.run(runs_per_minute(deployment, args.throughput_runs, args.limit))
                )
            finally:
                deployment.stop()
    for slots, figures in rates.items():
        print(f"  {slots} {unit}: {', '.join(f'{rate:.1f}' for rate in figures)} runs/min", flush=True)
    return rates


def run_gthread(args: argparse.Namespace, config: dict, workdir: Path) -> dict:
    print(
        f"embedded on the gthread web line, {args.gthread_threads} threads a worker: one host,"
        f" {args.trainings} runs, {args.viewers} viewers"
    )
    env = {"PLAYGROUND_PRELOAD_MNIST": "1", "PLAYGROUND_THREADS": str(args.gthread_threads)}
    return load_rounds(args, config, lambda: embedded(workdir, env, command=GTHREAD_WEB))


def run_embedded(args: argparse.Namespace, config: dict, workdir: Path, threads: str) -> dict:
    print(f"embedded: one host, {args.trainings} runs, {args.viewers} viewers", flush=True)
    preload = {"PLAYGROUND_PRELOAD_MNIST": "1"}
    figures = load_rounds(args, config, lambda: embedded(workdir, {**preload, "PLAYGROUND_THREADS": threads}))
    if args.throughput_runs:  # a training slot: a gunicorn worker with one training thread

        def slots(count: int) -> Deployment:
            return embedded(workdir, {**preload, "PLAYGROUND_WORKERS": "1", "WEB_CONCURRENCY": str(count)})

        figures["throughput"] = throughput(args, slots, "training slot(s)")
    if args.memory_runs and not args.throughput_only:
        deployment = embedded(workdir, {"WEB_CONCURRENCY": "1", "PLAYGROUND_WORKERS": "1"})
        try:
            figures["resident"] = asyncio.run(memory_runs(deployment, args.memory_runs))
        finally:
            deployment.stop()
    return figures


def run_scaled(args: argparse.Namespace, config: dict, workdir: Path, threads: str) -> dict:
    print(f"scaled: two web hosts, two workers, {args.trainings} runs, {args.viewers} viewers", flush=True)
    services = Services()
    env = {"PLAYGROUND_PRELOAD_MNIST": "1", "PLAYGROUND_THREADS": threads}
    try:
        figures = load_rounds(args, config, lambda: scaled(workdir, services, hosts=2, workers=2, env=env))
        if args.throughput_runs:

            def workers(count: int) -> Deployment:
                return scaled(workdir, services, hosts=2, workers=count, env=env)

            figures["throughput"] = throughput(args, workers, "worker process(es)")
        return figures
    finally:
        services.remove()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scaled", action="store_true", help="the scaled mode, beside the embedded one")
    parser.add_argument("--no-embedded", action="store_true", help="with --scaled: skip the embedded mode")
    parser.add_argument("--throughput-only", action="store_true", help="only runs finished per minute")
    parser.add_argument("--gthread", action="store_true", help="embedded: the gthread web line beside it")
    parser.add_argument(
        "--gthread-threads", type=int, default=128, help="threads a gthread worker (that line's default: 128)"
    )
    parser.add_argument("--trainings", type=int, help="MNIST runs at once (M; 2, or 4 with --scaled)")
    parser.add_argument("--viewers", type=int, help="event-stream viewers, split over the runs (100, or 400)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of each run")
    parser.add_argument("--hidden", default="100", help="hidden layer sizes, comma-separated")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="rounds (each with fresh servers); medians")
    parser.add_argument(
        "--memory-runs", type=int, help="sequential MNIST runs for the memory check (6, or 0)"
    )
    parser.add_argument(
        "--throughput-runs", type=int, help="runs for runs-per-minute (0, or 8 with --scaled)"
    )
    parser.add_argument("--limit", type=float, default=240, help="seconds a round may take at most")
    args = parser.parse_args()
    args.trainings = args.trainings or (4 if args.scaled else 2)
    args.viewers = args.viewers if args.viewers is not None else (400 if args.scaled else 100)
    args.memory_runs = args.memory_runs if args.memory_runs is not None else (0 if args.scaled else 6)
    args.throughput_runs = (
        args.throughput_runs if args.throughput_runs is not None else (8 if args.scaled else 0)
    )
    if not 1 <= args.trainings <= 8 or not 0 <= args.viewers <= 1000 or not 1 <= args.rounds <= 10:
        raise SystemExit("keep it bounded: 1-8 trainings, 0-1000 viewers, 1-10 rounds")
    if not 0 <= args.throughput_runs <= 16:
        raise SystemExit("keep it bounded: at most 16 runs for the throughput (the queue holds 16)")
    config = {
        "dataset": "mnist",
        "hidden": [int(n) for n in args.hidden.split(",")],
        "batch_size": args.batch_size,
        "epochs": args.epochs,
    }
    # The scaled mode's hosts were measured on gthread with a thread per viewer; harmless on gevent.
    threads = str(max(128, args.viewers))
    print(
        f"{args.trainings} x {config}, {args.viewers} viewers, {args.rounds} round(s), {os.cpu_count()} cores"
    )
    print(f"load average before: {load_average()}", flush=True)

    modes: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.scaled:
            modes["scaled"] = run_scaled(args, config, workdir, threads)
        if not (args.scaled and args.no_embedded):
            modes["embedded"] = run_embedded(args, config, workdir, threads)
        if args.gthread:
            modes["embedded, gthread"] = run_gthread(args, config, workdir)
    print(f"load average after: {load_average()}")

    print(f"\nmedians over {args.rounds} round(s):")
    ok = True
    for name, figures in modes.items():
        print(f"  {name}:")
        if "delay" in figures:
            delay, health = figures["delay"], figures["healthz"]
            delivered = "yes" if figures["delivered"] else "NO"
            print(f"    every event delivered exactly once, then done: {delivered}")
            print(f"    event delay p50 / p95: {delay[0]:.0f} / {delay[1]:.0f} ms (goal p95 < 250)")
            page = figures["page"]
            print(f"    /healthz p50 / p95:    {health[0]:.1f} / {health[1]:.1f} ms (goal p95 < 500)")
            print(f"    page p50 / p95:        {page[0]:.1f} / {page[1]:.1f} ms (goal p95 < 500)")
            print(f"    memory peak (every process): {figures['memory']:.0f} MB")
            if name != "embedded, gthread":  # the line before the gevent worker: compared, not judged
                ok = ok and figures["delivered"] and delay[1] < 250 and health[1] < 500 and page[1] < 500
        for slots, rates in figures.get("throughput", {}).items():
            unit = "worker process(es)" if name == "scaled" else "training slot(s)"
            print(f"    runs finished per minute, {slots} {unit}: {statistics.median(rates):.1f} (median)")
        if "resident" in figures:
            resident = figures["resident"]
            print(
                f"    one worker's RSS after 1 and after {len(resident)} MNIST runs: "
                f"{resident[0]:.0f} -> {resident[-1]:.0f} MB ({resident[-1] - resident[0]:+.1f} MB)"
            )
    if "embedded" in modes and "embedded, gthread" in modes and "delay" in modes["embedded"]:
        gevent, gthread = modes["embedded"], modes["embedded, gthread"]
        print(
            "  gthread / gevent (p95): "
            f"event delay {gthread['delay'][1] / gevent['delay'][1]:.1f}x"
            f", /healthz {gthread['healthz'][1] / gevent['healthz'][1]:.1f}x"
            f", page {gthread['page'][1] / gevent['page'][1]:.1f}x"
        )
    print("goals met" if ok else "GOALS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
