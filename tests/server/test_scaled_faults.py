"""Faults of the scaled mode's services: Redis killed and started again (empty: it keeps nothing on
disk), PostgreSQL killed and started again, each while runs train and viewers watch. The web process
is the Procfile's gunicorn and the worker the Procfile's worker, each on a server of the test's own
(these tests kill it); PLAYGROUND_STALE=2, so keepers look every 0.4 s. What happens is in the README's
fault table; nothing recorded may be lost, and everything must come back by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from server.redis_client import UNREACHABLE_MESSAGE
from server.store import BROKEN_MESSAGE
from tests.conftest import wait_until_listening
from tests.procfile import start_procfile_worker
from tests.server.helpers import FAST_2D, SLOW_2D, wait_for
from tests.server.sse_client import Viewer, stream_until_done
from tests.server.test_faults import answer, healthz_ok
from tests.services import start_postgres, start_redis

pytestmark = [pytest.mark.stores("redis"), pytest.mark.slow]

QUICK = {"PLAYGROUND_STALE": "2", "WEB_CONCURRENCY": "2"}
RUN = {**SLOW_2D, "epochs": 12}  # ~0.3 s an epoch: about 4 s


def scaled(procfile_server, tmp_path, database: str, redis_url: str):
    """The Procfile's web (gunicorn, 2 processes) and one Procfile worker, on these services."""
    env = {**QUICK, "REDIS_URL": redis_url, "DATABASE_URL": database}
    server = procfile_server(env, db=database)
    worker = start_procfile_worker(env, tmp_path / "worker.log")
    wait_until_listening(redis_url, [worker])
    return server, worker


def test_redis_killed_and_restarted_while_runs_train_and_viewers_watch(procfile_server, tmp_path, database):
    redis = start_redis()  # a server of its own: this test kills it
    viewers: list[Viewer] = []
    worker = None
    try:
        server, worker = scaled(procfile_server, tmp_path, database, redis.url)
        pids = server.pids()
        _, training = server.request("POST", "/api/runs", RUN)
        _, waiting = server.request("POST", "/api/runs", {**FAST_2D, "epochs": 3})  # one worker: it waits
        wait_for(server, training["id"], lambda run: len(run["epochs"]) >= 2)
        viewers = [Viewer(server.url + run["events"]) for run in (training, waiting)]
        time.sleep(0.3)  # they have the replay

        redis.kill()
        down = time.monotonic()
        status, headers, text = answer(server.url + "/api/runs", "POST", FAST_2D)
        assert status == 503 and json.loads(text) == {"error": UNREACHABLE_MESSAGE}
        assert headers["Retry-After"] == "2"
        status, _, text = answer(server.url + f"/api/runs/{training['id']}")  # runs still show
        assert status == 200 and json.loads(text)["status"] == "running"
        assert healthz_ok(server)
        # The run trains on; its viewer gets its epochs from the store (without Redis, ~1 s late).
        seen = len(viewers[0].epochs())
        deadline = time.monotonic() + 10
        while len(viewers[0].epochs()) <= seen + 1:
            assert time.monotonic() < deadline, "no epoch reached the viewer while Redis was down"
            time.sleep(0.1)
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down)))

        redis.start()  # empty: the waiting run's job is gone, and the keepers queue it again
        for viewer in viewers:
            assert viewer.ended.wait(60), [event.event for event in viewer.events]
        assert viewers[0].epochs() == list(range(1, RUN["epochs"] + 1))  # every epoch once, in order
        assert viewers[1].epochs() == [1, 2, 3]
        for viewer in viewers:
            assert viewer.ending()[-1][1]["status"] == "done"
        assert server.pids() == pids  # nothing restarted: the processes rode it out
        _, fresh = server.request("POST", "/api/runs", FAST_2D)
        assert stream_until_done(server.url + fresh["events"])[-1].json()["status"] == "done"
    finally:
        for viewer in viewers:
            viewer.close()
        if worker is not None:
            worker.stop()
        redis.remove()


def test_postgres_killed_and_restarted_while_a_run_trains_and_viewers_watch(
    procfile_server, tmp_path, redis_url
):
    postgres = start_postgres()  # a server of its own: this test kills it
    viewers: list[Viewer] = []
    worker = None
    try:
        url = postgres.create_database()
        release = subprocess.run(
            [sys.executable, "-m", "server.migrate"], env={**os.environ, "DATABASE_URL": url}, timeout=60
        )
        assert release.returncode == 0
        server, worker = scaled(procfile_server, tmp_path, url, redis_url)
        _, run = server.request("POST", "/api/runs", RUN)
        wait_for(server, run["id"], lambda run: len(run["epochs"]) >= 2)
        viewers = [Viewer(server.url + run["events"]) for _ in range(2)]  # likely one per web process
        time.sleep(0.3)

        postgres.kill()
        down = time.monotonic()
        status, headers, text = answer(server.url + f"/api/runs/{run['id']}")
        assert (
            status == 503 and json.loads(text) == {"error": BROKEN_MESSAGE} and headers["Retry-After"] == "2"
        )
        status, _, text = answer(server.url + "/api/runs", "POST", FAST_2D)
        assert status == 503 and json.loads(text) == {"error": BROKEN_MESSAGE}
        assert healthz_ok(server)
        time.sleep(max(0.0, 3.0 - (time.monotonic() - down)))  # longer than PLAYGROUND_STALE
        assert not any(viewer.ended.is_set() for viewer in viewers)  # kept, waiting

        postgres.start()
        for viewer in viewers:
            assert viewer.ended.wait(60), [event.event for event in viewer.events]
            assert viewer.epochs() == list(range(1, RUN["epochs"] + 1))  # none lost, none twice
            assert viewer.ending()[-1][1]["status"] == "done"
        finished = wait_for(server, run["id"], limit=10)
        assert finished["status"] == "done" and len(finished["epochs"]) == RUN["epochs"]
        _, fresh = server.request("POST", "/api/runs", FAST_2D)
        assert stream_until_done(server.url + fresh["events"])[-1].json()["status"] == "done"
    finally:
        for viewer in viewers:
            viewer.close()
        if worker is not None:
            worker.stop()
        postgres.remove()
