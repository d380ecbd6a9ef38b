"""The scaled mode's own service fault: Redis killed and started again (empty: it keeps nothing on
disk) while runs train and viewers watch. The web process is the Procfile's gunicorn and the worker
the Procfile's worker; the Redis is the test's own (it kills it); PLAYGROUND_STALE=4, so keepers look
every 0.8 s. What happens is in the README's fault table; nothing recorded may be lost, and
everything must come back by itself. (PostgreSQL killed in both modes: tests/server/test_faults.py.)
"""

from __future__ import annotations

import json
import time

import pytest

from server.redis_client import UNREACHABLE_MESSAGE
from tests.conftest import wait_until_listening
from tests.procfile import Server
from tests.server.helpers import FAST_2D, FRESH_FAST_2D, SLOW_2D, start, wait_for
from tests.server.sse_client import stream_until_done
from tests.server.test_faults import answer, healthz_ok

pytestmark = [pytest.mark.stores("redis"), pytest.mark.slow]

QUICK = {"PLAYGROUND_STALE": "4", "WEB_CONCURRENCY": "2"}
RUN = {**SLOW_2D, "epochs": 12}  # 0.1-0.3 s an epoch: a few seconds


def scaled(procfile_server, procfile_worker, database: str, redis_url: str) -> Server:
    """The Procfile's web (gunicorn, 2 processes) and one Procfile worker, on these services."""
    env = {**QUICK, "REDIS_URL": redis_url, "DATABASE_URL": database}
    server = procfile_server(env, db=database)
    wait_until_listening(redis_url, [procfile_worker(env)])
    return server


def new_runs_work(server: Server) -> bool:
    fresh = start(server, FAST_2D)
    return stream_until_done(server.url + fresh["events"])[-1].json()["status"] == "done"


def test_redis_killed_and_restarted_while_runs_train_and_viewers_watch(
    procfile_server, procfile_worker, viewer, database, own_redis
):
    server = scaled(procfile_server, procfile_worker, database, own_redis.url)
    pids = server.pids()
    training = start(server, RUN)
    waiting = start(server, {**FAST_2D, "epochs": 3})  # one worker: it waits
    wait_for(server, training["id"], lambda run: len(run["epochs"]) >= 2)
    viewers = [viewer(server.url + run["events"]) for run in (training, waiting)]
    time.sleep(0.3)  # they have the replay

    own_redis.kill()
    down = time.monotonic()
    status, headers, text = answer(server.url + "/api/runs", "POST", FRESH_FAST_2D)
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

    own_redis.start()  # empty: the waiting run's job is gone, and the keepers queue it again
    for each in viewers:
        assert each.ended.wait(60), [event.event for event in each.events]
        assert each.ending()[-1][1]["status"] == "done"
    assert viewers[0].epochs() == list(range(1, RUN["epochs"] + 1))  # every epoch once, in order
    assert viewers[1].epochs() == [1, 2, 3]
    assert server.pids() == pids  # nothing restarted: the processes rode it out
    assert new_runs_work(server)
