"""Faults: a worker killed mid-run, the whole server restarted, the SQLite file busy or read-only,
the PostgreSQL server busy, or killed and restarted under a running run and its viewers (in both modes).

Each test starts gunicorn exactly as the Procfile says (or the app in-process for the store faults),
on a loopback port and a temporary database. PLAYGROUND_STALE=2 makes the keepers look every 0.4 s,
so a dead worker's runs are interrupted within a second or so.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

import server.store
from server.store import BROKEN_MESSAGE, BUSY_MESSAGE, QUEUE_LOCK_KEY, READ_ONLY_MESSAGE
from tests.conftest import wait_until_listening
from tests.server.helpers import (
    FAST_2D,
    FINAL,
    FRESH_FAST_2D,
    SLOW_2D,
    is_sqlite,
    owner,
    sql,
    start,
    stop,
    wait_for,
)
from tests.server.procs import serving_pid, usage, wait_for_workers
from tests.server.sse_client import Viewer, stream_until_done

QUICK_DEATH = {"PLAYGROUND_STALE": "2"}
ONE_EACH = {**QUICK_DEATH, "WEB_CONCURRENCY": "2", "PLAYGROUND_WORKERS": "1"}  # a run each, no more
SHORT_2D = {**SLOW_2D, "epochs": 8}  # ~0.3 s an epoch: still running when a worker dies, then done


def run_row(db, run_id: str) -> tuple:
    epochs = "(SELECT COUNT(*) FROM epochs WHERE run_id = :id)"
    query = f"SELECT status, reason, owner, {epochs} FROM runs WHERE id = :id"
    return sql(db, query, id=run_id)[0]


def owner_pid(server, run_id: str) -> int:
    """The pid of the worker training the run (queued runs wait in the shared queue, owned by none)."""
    wait_for(server, run_id, lambda run: run["status"] != "queued")
    return int(run_row(server.db, run_id)[2].split(":")[1])


def healthz_ok(server) -> bool:
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        return response.status == 200


def integrity_ok(db) -> bool:
    """SQLite's own check of the file (a PostgreSQL server keeps its files whole itself)."""
    if not is_sqlite(db):
        return True
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_of_one_worker_interrupts_its_run_and_nothing_else(procfile_server):
    server = procfile_server(ONE_EACH)
    master = server.process.pid
    workers = wait_for_workers(master, 2)
    status, victim = server.request("POST", "/api/runs", SLOW_2D)
    assert status == 201
    doomed = owner_pid(server, victim["id"])
    status, survivor = server.request("POST", "/api/runs", SHORT_2D)  # the other worker's run
    assert status == 201
    survivor_pid = owner_pid(server, survivor["id"])
    assert {doomed, survivor_pid} == set(workers)
    wait_for(server, victim["id"], lambda run: len(run["epochs"]) >= 2)

    # Viewers of the doomed run: at least one served by each worker (connections land anywhere).
    viewers: dict[int, Viewer] = {}
    for _ in range(40):
        viewer = Viewer(server.url + victim["events"])
        pid = serving_pid(server.port, viewer.client_port, workers)
        if pid in viewers or pid is None:
            viewer.close()
        else:
            viewers[pid] = viewer
        if len(viewers) == 2:
            break
    assert set(viewers) == set(workers), f"viewers on {set(viewers)} of {workers}"
    time.sleep(0.3)  # both have read the replay

    os.kill(doomed, signal.SIGKILL)
    killed_at = time.monotonic()

    # The viewer on the other worker hears it: status interrupted, then done, within seconds.
    far = viewers[survivor_pid]
    assert far.ended.wait(10), [e.event for e in far.events]
    assert time.monotonic() - killed_at < 5
    tail = [e for e in far.events if e.event in ("status", "done")][-2:]
    assert [e.event for e in tail] == ["status", "done"]
    assert tail[0].json()["status"] == "interrupted" and tail[1].json()["status"] == "interrupted"
    assert "kept" in tail[1].json()["reason"]

    # The viewer on the dead worker lost its connection; reconnecting (as EventSource does) resumes.
    near = viewers[doomed]
    assert near.ended.wait(10)
    assert not near.events or near.events[-1].event != "done"
    seen = near.epochs()
    resumed = stream_until_done(
        server.url + victim["events"], {"Last-Event-ID": str(seen[-1] if seen else 0)}, limit=20
    )
    assert resumed[-1].json()["status"] == "interrupted"
    assert seen + [int(e.id) for e in resumed if e.event == "epoch"] == far.epochs()

    # The run's recorded epochs are kept, in order.
    run = wait_for(server, victim["id"], lambda run: run["status"] in FINAL, limit=5)
    assert run["status"] == "interrupted"
    assert [e["epoch"] for e in run["epochs"]] == far.epochs() and len(run["epochs"]) >= 2

    # The master replaced the worker; the other worker's run finished; the server works as before.
    assert len(wait_for_workers(master, 2, exclude=(doomed,))) == 2
    finished = wait_for(server, survivor["id"], lambda run: run["status"] in FINAL)
    assert finished["status"] == "done" and len(finished["epochs"]) == SHORT_2D["epochs"]
    assert healthz_ok(server)
    status, fresh = server.request("POST", "/api/runs", FAST_2D)
    events = stream_until_done(server.url + fresh["events"])
    assert events[-1].json()["status"] == "done"
    for viewer in viewers.values():
        viewer.close()
    assert integrity_ok(server.db)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_full_restart_interrupts_runs_keeping_epochs(procfile_server, sig):
    first = procfile_server({**QUICK_DEATH, "PLAYGROUND_WORKERS": "1", "WEB_CONCURRENCY": "1"})
    _, done = first.request("POST", "/api/runs", FAST_2D)
    wait_for(first, done["id"], lambda run: run["status"] == "done")
    _, running = first.request("POST", "/api/runs", SLOW_2D)
    _, queued = first.request("POST", "/api/runs", {**SLOW_2D, "fresh": True})  # one training thread: waits
    wait_for(first, running["id"], lambda run: len(run["epochs"]) >= 2)
    assert run_row(first.db, queued["id"])[0] == "queued"
    if sig == signal.SIGKILL:
        first.kill()
    else:
        first.stop()
    recorded = run_row(first.db, running["id"])[3]

    second = procfile_server(QUICK_DEATH, db=first.db)
    status, run = second.request("GET", f"/api/runs/{running['id']}")
    assert run["status"] == "interrupted" and "kept" in run["reason"]
    assert [e["epoch"] for e in run["epochs"]] == list(range(1, recorded + 1))
    # The waiting run is not lost: interrupted, or (the shared queue outlived a quick restart) trained now.
    assert second.request("GET", f"/api/runs/{queued['id']}")[1]["status"] in ("interrupted", "running")
    _, old = second.request("GET", f"/api/runs/{done['id']}")
    assert old["status"] == "done" and len(old["epochs"]) == FAST_2D["epochs"]
    events = stream_until_done(second.url + running["events"])
    assert [int(e.id) for e in events if e.event == "epoch"] == list(range(1, recorded + 1))
    assert events[-1].json()["status"] == "interrupted"
    _, fresh = second.request("POST", "/api/runs", FRESH_FAST_2D)
    assert stream_until_done(second.url + fresh["events"])[-1].json()["status"] == "done"
    assert integrity_ok(first.db)


# --- the SQLite file busy or read-only (the app in-process, so the test can hold the lock) ----------


@pytest.mark.stores("sqlite")
def test_a_busy_store_answers_503_and_loses_nothing(app, client, database):
    db = database
    earlier_run = start(client, FAST_2D)
    earlier = earlier_run["id"]
    wait_for(client, earlier)
    with app.extensions["playground"].store.connection() as connection:  # SQLite: this thread's own,
        connection.exec_driver_sql("PRAGMA busy_timeout = 300")  # which its requests use too
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process writing for longer than the busy timeout
    try:
        response = client.post("/api/runs", json=FRESH_FAST_2D)
        assert response.status_code == 503
        assert response.get_json() == {"error": BUSY_MESSAGE}
        assert "Retry-After" in response.headers
        assert client.post(f"/api/runs/{earlier}/stop", headers=owner(earlier_run)).status_code in (200, 503)
        # Readers are not blocked by a writer (WAL): runs and their streams still show.
        run = client.get(f"/api/runs/{earlier}").get_json()
        assert run["status"] == "done" and len(run["epochs"]) == FAST_2D["epochs"]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    later = start(client, FAST_2D)["id"]
    assert wait_for(client, later)["status"] == "done"
    assert integrity_ok(db)
    assert len(client.get(f"/api/runs/{earlier}").get_json()["epochs"]) == FAST_2D["epochs"]


@pytest.mark.stores("sqlite")
def test_a_read_only_store_answers_503_and_still_shows_runs(app, client, database):
    db = database
    earlier = start(client, FAST_2D)["id"]
    wait_for(client, earlier)
    store = app.extensions["playground"].store
    with store.connection() as connection:  # SQLite: this thread's own, which its requests use too
        connection.exec_driver_sql("PRAGMA query_only = ON")  # the file opened read-only
    try:
        response = client.post("/api/runs", json=FRESH_FAST_2D)
        assert response.status_code == 503 and response.get_json() == {"error": READ_ONLY_MESSAGE}
        assert "Traceback" not in response.get_data(as_text=True)
        run = client.get(f"/api/runs/{earlier}").get_json()
        assert run["status"] == "done" and len(run["epochs"]) == FAST_2D["epochs"]
        assert client.get(f"/api/runs/{earlier}/views").status_code == 200
    finally:
        with store.connection() as connection:
            connection.exec_driver_sql("PRAGMA query_only = OFF")
    assert wait_for(client, start(client, FAST_2D)["id"])["status"] == "done"
    assert integrity_ok(db)


# --- PostgreSQL busy, or stopped and restarted --------------------------------------------------


@contextmanager
def holding_the_queue_lock(database: str):
    """Another process counting a run into the queue, and taking its time: the advisory lock held."""
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.select(sa.func.pg_advisory_lock(QUEUE_LOCK_KEY)))
        yield
    engine.dispose()


@pytest.mark.stores("postgres")
def test_a_busy_postgres_answers_503_and_loses_nothing(make_app, database, monkeypatch):
    monkeypatch.setattr(server.store, "BUSY_TIMEOUT_SECONDS", 0.3)  # its connections' lock_timeout
    client = make_app().test_client()
    earlier_run = start(client, FAST_2D)
    earlier = earlier_run["id"]
    wait_for(client, earlier)
    with holding_the_queue_lock(database):
        response = client.post("/api/runs", json=FRESH_FAST_2D)
        assert response.status_code == 503 and response.get_json() == {"error": BUSY_MESSAGE}
        assert "Retry-After" in response.headers
        # Nothing else waits for that lock: runs show, streams replay, stop answers.
        run = client.get(f"/api/runs/{earlier}").get_json()
        assert run["status"] == "done" and len(run["epochs"]) == FAST_2D["epochs"]
        assert client.post(f"/api/runs/{earlier}/stop", headers=owner(earlier_run)).status_code == 200
    later = start(client, FAST_2D)["id"]
    assert wait_for(client, later)["status"] == "done"
    assert len(client.get(f"/api/runs/{earlier}").get_json()["epochs"]) == FAST_2D["epochs"]


def answer(url: str, method: str = "GET", body: object = None) -> tuple[int, dict, str]:
    """(status, headers, body text) of one request, whatever the status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.stores("postgres", "redis")
def test_postgres_killed_and_restarted_while_a_run_trains_and_viewers_watch(
    procfile_server, procfile_worker, viewer, own_postgres, redis_url
):
    """Embedded (postgres) or scaled (redis: the Procfile's worker trains). Killed: an immediate
    shutdown, as a crash; it recovers from its write-ahead log when it starts again."""
    url = own_postgres.create_database()
    release = subprocess.run(
        [sys.executable, "-m", "server.migrate"], env={**os.environ, "DATABASE_URL": url}, timeout=60
    )
    assert release.returncode == 0
    # Two workers, one training thread each, and a stale limit (2 s) shorter than the outage.
    env = {**ONE_EACH, "PLAYGROUND_WORKERS": "1"}
    if redis_url:
        env = {**env, "REDIS_URL": redis_url, "DATABASE_URL": url}
        wait_until_listening(redis_url, [procfile_worker(env)])
    server = procfile_server(env, db=url)
    _, run = server.request("POST", "/api/runs", {**SLOW_2D, "epochs": 14})  # 0.1-0.3 s an epoch
    wait_for(server, run["id"], lambda run: len(run["epochs"]) >= 2)
    viewers = [viewer(server.url + run["events"]) for _ in range(2)]  # likely one per worker
    time.sleep(0.3)  # they have the replay

    own_postgres.kill()
    down_at = time.monotonic()
    status, headers, text = answer(server.url + f"/api/runs/{run['id']}")
    assert status == 503 and json.loads(text) == {"error": BROKEN_MESSAGE} and headers["Retry-After"] == "2"
    status, headers, text = answer(server.url + "/api/runs", "POST", FAST_2D)
    assert status == 503 and json.loads(text) == {"error": BROKEN_MESSAGE}
    status, headers, text = answer(server.url + f"/runs/{run['id']}")  # the run's page too
    assert status == 503 and "cannot be reached" in text and "Traceback" not in text
    assert healthz_ok(server)  # the processes keep running
    time.sleep(max(0.0, 3.0 - (time.monotonic() - down_at)))  # longer than PLAYGROUND_STALE
    assert not any(each.ended.is_set() for each in viewers)  # the viewers are kept, waiting

    own_postgres.start()
    for each in viewers:
        assert each.ended.wait(60), [event.event for event in each.events]
        assert each.epochs() == list(range(1, 15))  # every epoch once, in order: none lost over the outage
        assert each.events[-1].json()["status"] == "done"
    finished = wait_for(server, run["id"], limit=10)
    assert finished["status"] == "done" and [e["epoch"] for e in finished["epochs"]] == list(range(1, 15))
    _, fresh = server.request("POST", "/api/runs", FAST_2D)
    assert stream_until_done(server.url + fresh["events"])[-1].json()["status"] == "done"


def test_store_errors_mid_stream_keep_the_viewer(app, client):
    """A stream whose store reads fail for a moment goes on once the store answers again."""
    from server.sse import run_events
    from server.store import StoreUnavailable

    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    pg = app.extensions["playground"]
    failures = iter([True, True])

    class Flaky:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                if next(failures, False):
                    raise StoreUnavailable(BUSY_MESSAGE)
                return getattr(pg.store, name)(*args, **kwargs)

            return call

    blocks = list(run_events(Flaky(), pg.broadcast, run_id, 0, heartbeat=5, fallback=0.05))
    epochs = [block for block in blocks if block.startswith("event: epoch")]
    assert len(epochs) == FAST_2D["epochs"] and blocks[-1].startswith("event: done")


# --- a storm of event-stream connects and disconnects -------------------------------------------


def hit_stream(port: int, path: str, last_event_id: int | None, read: bool, reset: bool) -> None:
    """Open an event stream, maybe read a little of it, then leave abruptly (RST when `reset`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        resume = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id is not None else ""
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{resume}\r\n".encode())
        if read:
            sock.recv(4096)
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def storm(port: int, paths: list[str], count: int, concurrency: int = 40) -> None:
    def one(i: int) -> None:
        resume = (i % 6) if i % 3 == 0 else None  # a third resume after some epoch
        hit_stream(port, paths[i % len(paths)], resume, read=i % 4 != 0, reset=i % 2 == 0)

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))


def hold_streams(port: int, path: str, count: int = 300, seconds: float = 2.0) -> None:
    """Hold `count` streams open for a moment, then leave: the workers' memory grows to what that many
    connections take (greenlets, buffers), so only growth after the storm beyond it means a leak."""
    held = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            held.append(sock)
        time.sleep(seconds)
    finally:
        for sock in held:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()


def sockets(pid: int) -> int:
    """Open sockets of a process: the listener, plus one per client connection still held."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def measure(workers: list[int]) -> dict[int, dict]:
    return {pid: {**usage(pid), "sockets": sockets(pid)} for pid in workers}


def settle(workers: list[int], baseline: dict[int, dict] | None = None, limit: float = 15) -> dict[int, dict]:
    """Each worker's usage once no client connection is left (and back near the baseline, if given)."""
    deadline = time.monotonic() + limit
    while True:
        now = measure(workers)
        back = all(
            now[pid]["sockets"] <= 1  # the listening socket, no client connection any more
            and (
                baseline is None
                or (
                    now[pid]["threads"] <= baseline[pid]["threads"] + 2
                    and now[pid]["fds"] <= baseline[pid]["fds"] + 5
                )
            )
            for pid in workers
        )
        if back or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


@pytest.mark.stores("sqlite")  # the pool's PostgreSQL connections are sockets too: counted differently
def test_a_storm_of_1000_stream_connects_leaks_nothing(procfile_server):
    # One client opens them all: its stream cap (tested on its own in test_stream_abuse.py) is lifted.
    server = procfile_server(
        {"WEB_CONCURRENCY": "2", "PLAYGROUND_HEARTBEAT": "1", "PLAYGROUND_CLIENT_STREAMS": "1000"}
    )
    workers = wait_for_workers(server.process.pid, 2)
    _, finished = server.request("POST", "/api/runs", FAST_2D)
    wait_for(server, finished["id"], lambda run: run["status"] == "done")
    _, running = server.request("POST", "/api/runs", SLOW_2D)
    wait_for(server, running["id"], lambda run: len(run["epochs"]) >= 2)
    paths = [finished["events"], running["events"]]

    hold_streams(server.port, running["events"])
    storm(server.port, paths, 100)  # warm up: every code path once
    baseline = settle(workers)
    started = time.monotonic()
    storm(server.port, paths, 1000)
    storm_seconds = time.monotonic() - started
    after = settle(workers, baseline)

    for pid in workers:
        before, now = baseline[pid], after[pid]
        assert abs(now["threads"] - before["threads"]) <= 2, (pid, before, now)
        assert abs(now["fds"] - before["fds"]) <= 5, (pid, before, now)
        assert now["sockets"] == before["sockets"] == 1, (pid, before, now)
        assert now["rss_kb"] - before["rss_kb"] < 20_000, (pid, before, now)
    # Nothing else broke: the server answers, no stream is left open, both runs are as they were.
    assert healthz_ok(server)
    status, run = server.request("GET", f"/api/runs/{running['id']}")
    assert run["status"] == "running"
    stop(server, running)
    events = stream_until_done(server.url + finished["events"])
    assert [int(e.id) for e in events if e.event == "epoch"] == list(range(1, FAST_2D["epochs"] + 1))
    assert storm_seconds < 45
