"""Many hosts: two web hosts and two workers, each started from the Procfile's own lines in a fresh
clone of the repository of its own (no shared disk: the clones share nothing but PostgreSQL and Redis),
after the Procfile's release line migrated an empty database. Then: POST on one host, stream on the
other; two workers train two runs at once; stop across hosts; kill -9 of a worker mid-run; kill -9 of a
web host under a viewer, who resumes on the other; every web host stopped and a new one started from a
new clone, where old permalinks, JSON and replays still work.

The clones are of the commit checked out (HEAD): commit before running this test on changed code.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from server.recovery import INTERRUPTED_REASON
from tests.conftest import wait_until_listening
from tests.procfile import ROOT, Server, launch
from tests.server.helpers import SLOW_2D, run_of, start, stop, trained_by, wait_for
from tests.server.sse_client import stream_until_done
from tests.services import Postgres

pytestmark = [pytest.mark.stores("redis"), pytest.mark.slow]

HOST = {"PLAYGROUND_STALE": "4", "WEB_CONCURRENCY": "1", "PLAYGROUND_THREADS": "32"}
RUN = {"dataset": "spiral", "epochs": 20, "points": 600}


def fresh_clone(folder: Path) -> Path:
    """A new copy of the repository at the commit checked out here, as a new host would deploy it."""
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run(
        ["git", "clone", "-q", "--no-hardlinks", "--no-checkout", str(ROOT), str(folder)], check=True
    )
    subprocess.run(["git", "checkout", "-q", commit], cwd=folder, check=True)
    return folder


def running_together(hosts: list[Server], run_ids: list[str], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not all(run_of(hosts[0], run_id)["status"] == "running" for run_id in run_ids):
        assert time.monotonic() < deadline, "the runs did not train at the same time"
        time.sleep(0.05)


def test_two_web_hosts_and_two_workers_from_fresh_clones(
    tmp_path, procfile_server, procfile_worker, viewer, postgres_server: Postgres, redis_url, request
):
    database = postgres_server.create_database()  # empty: the release line gives it the schema
    request.addfinalizer(lambda: postgres_server.drop_database(database))
    env = {**HOST, "DATABASE_URL": database, "REDIS_URL": redis_url}
    release = launch("release", env, tmp_path / "release.log", fresh_clone(tmp_path / "release"))
    assert release.wait(timeout=60) == 0, (tmp_path / "release.log").read_text()

    def web(name: str) -> Server:
        return procfile_server(env, db=database, root=fresh_clone(tmp_path / name))

    a, b = web("web-a"), web("web-b")
    workers = [procfile_worker(env, fresh_clone(tmp_path / name)) for name in ("worker-1", "worker-2")]
    wait_until_listening(redis_url, workers)

    # POST on one host, stream on the other: every epoch, in order, then done.
    first = start(a, RUN)
    events = stream_until_done(b.url + first["events"])
    assert [int(e.id) for e in events if e.event == "epoch"] == list(range(1, RUN["epochs"] + 1))
    assert events[-1].json()["status"] == "done"

    # Two workers train two runs at once, one posted on each host.
    one, two = start(a, SLOW_2D), start(b, SLOW_2D)
    running_together([a, b], [one["id"], two["id"]])
    assert len({trained_by(database, run["id"]) for run in (one, two)}) == 2
    viewers = [
        viewer(a.url + one["events"]),
        viewer(a.url + two["events"]),
        viewer(b.url + two["events"]),
    ]

    # Stop across hosts: posted on a, stopped on b by its owner (403 without the owner token); the
    # viewer on a hears it.
    status, refused = b.request("POST", f"/api/runs/{one['id']}/stop")
    assert status == 403 and "owner token" in refused["error"]
    asked = time.monotonic()
    stopped = stop(b, one)
    assert stopped["status"] == "stopped" and time.monotonic() - asked < 1.5
    assert viewers[0].ended.wait(10)
    assert [(name, data["status"]) for name, data in viewers[0].ending()] == [
        ("status", "stopped"),
        ("done", "stopped"),
    ]

    # kill -9 of the worker training the other run: it ends `interrupted`, epochs kept, and the
    # viewers on both hosts hear it (this is one machine, so its pid is seen gone at once; from
    # another machine its heartbeat goes stale within PLAYGROUND_STALE seconds).
    wait_for(a, two["id"], lambda run: len(run["epochs"]) >= 2)
    [doomed] = [process for process in workers if process.pid == trained_by(database, two["id"])]
    doomed.kill()
    killed = time.monotonic()
    for each in viewers[1:]:
        assert each.ended.wait(30)
        assert [(name, data["status"]) for name, data in each.ending()] == [
            ("status", "interrupted"),
            ("done", "interrupted"),
        ]
    assert time.monotonic() - killed < 10
    interrupted = wait_for(b, two["id"])
    assert interrupted["status"] == "interrupted" and interrupted["reason"] == INTERRUPTED_REASON
    assert [e["epoch"] for e in interrupted["epochs"]] == viewers[1].epochs() == viewers[2].epochs()

    # A web host killed under its viewer: the viewer reconnects to the other host with Last-Event-ID
    # and gets the rest, none twice; the run goes on (the worker left trains it).
    three = start(b, {**SLOW_2D, "epochs": 15, "points": 2000})
    near = viewer(a.url + three["events"])
    deadline = time.monotonic() + 30
    while len(near.epochs()) < 2:
        assert time.monotonic() < deadline, "no epoch reached the viewer"
        time.sleep(0.02)
    a.kill()
    assert near.ended.wait(10)
    seen = near.epochs()
    rest = stream_until_done(b.url + three["events"], {"Last-Event-ID": str(seen[-1])})
    assert seen + [int(e.id) for e in rest if e.event == "epoch"] == list(range(1, 16))
    assert rest[-1].json()["status"] == "done"

    # Every web host stopped; a new one from a new clone serves the old runs as they were.
    before = {run_id: b.request("GET", f"/api/runs/{run_id}")[1] for run_id in (first["id"], two["id"])}
    b.stop()
    c = web("web-c")
    for run_id, run in before.items():
        assert c.request("GET", f"/api/runs/{run_id}") == (200, run)
        with urllib.request.urlopen(f"{c.url}/runs/{run_id}", timeout=10) as page:
            assert page.status == 200 and run_id in page.read().decode()
        replay = stream_until_done(c.url + run["events"])
        assert [int(e.id) for e in replay if e.event == "epoch"] == [e["epoch"] for e in run["epochs"]]
        assert replay[-1].json()["status"] == run["status"]
    # ... and the worker left trains new runs for it.
    fresh = start(c, RUN)
    assert stream_until_done(c.url + fresh["events"])[-1].json()["status"] == "done"
