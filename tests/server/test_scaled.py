"""The scaled mode (REDIS_URL): web processes that only queue and stream, Procfile workers that train,
Redis Streams between them; stop, SIGTERM and kill -9 of a worker, the rate limit in Redis, jobs Redis
lost. Two apps in this process stand for two web processes (or hosts): they share nothing but
PostgreSQL and Redis. (Every host started from its own clone: tests/server/test_multihost.py.)
"""

from __future__ import annotations

import json
import time

import pytest
import redis

from core.config import defaults_for
from server.recovery import INTERRUPTED_REASON
from server.redis_client import UNREACHABLE_MESSAGE
from server.settings import SettingsError, from_env
from server.training_rq import QUEUE_NAME, SHUTDOWN_REASON
from server.worker import NEEDS
from tests.procfile import launch, procfile_command
from tests.server.helpers import (
    FAST_2D,
    FRESH_FAST_2D,
    SLOW_2D,
    owner,
    served,
    start,
    stop,
    trained_by,
    wait_for,
)
from tests.server.sse_client import client_events, read_until_done

pytestmark = pytest.mark.stores("redis")

# Keepers look every 0.8 s: a dead worker's run ends within a second or two (on a busy machine a
# shorter staleness limit could take a live worker, whose heartbeat came late, for a dead one).
QUICK_DEATH = {"OWNER_STALE": 4}
SHORT_2D = {**SLOW_2D, "epochs": 8, "points": 2000}  # ~0.1 s an epoch


# --- settings ------------------------------------------------------------------------------------


def test_redis_url_without_database_url_refuses_to_start(tmp_path):
    from server import create_app

    with pytest.raises(SettingsError, match="REDIS_URL is set but DATABASE_URL is not") as error:
        create_app({"REDIS_URL": "redis://127.0.0.1:1/0", "DATABASE": str(tmp_path / "x.sqlite3")})
    assert "cannot reach a SQLite file" in str(error.value)


@pytest.mark.parametrize("value", ["http://u:secret@cache.example:6379", "redis://:secret@/0", "secret"])
def test_a_bad_redis_url_is_refused_without_showing_it(value):
    with pytest.raises(SettingsError, match="REDIS_URL=.* expected a Redis URL") as error:
        from_env({"REDIS_URL": value})
    assert "secret" not in str(error.value)
    assert from_env({"REDIS_URL": " rediss://u:p@cache.example:6380/0 "})["REDIS_URL"].startswith("rediss://")


def test_the_worker_without_redis_url_exits_at_once_saying_what_it_needs(tmp_path):
    started = time.monotonic()
    worker = launch("worker", {}, tmp_path / "worker.log")
    assert worker.wait(timeout=30) == 2
    assert time.monotonic() - started < 10
    assert (tmp_path / "worker.log").read_text().strip() == f"error: {NEEDS}"


def test_the_procfile_worker_with_redis_but_no_database_url_refuses_to_start(tmp_path):
    assert procfile_command("worker") == "python3 -m server.worker"
    worker = launch("worker", {"REDIS_URL": "redis://127.0.0.1:1/0"}, tmp_path / "worker.log")
    assert worker.wait(timeout=30) == 2  # runs live in PostgreSQL: Redis alone is not enough
    assert "REDIS_URL is set but DATABASE_URL is not" in (tmp_path / "worker.log").read_text()


# --- web processes queue, workers train, streams cross processes ---------------------------------


def test_web_processes_never_train(make_app):
    app = make_app()
    client = app.test_client()
    run = wait_for(client, start(client, FAST_2D)["id"])
    assert run["status"] == "done" and len(run["epochs"]) == FAST_2D["epochs"]
    assert (
        trained_by(app.config["DATABASE_URL"], run["id"]) == make_app.workers[0].pid
    )  # the Procfile's worker trained it
    assert client.get("/healthz").get_json()["training"] == 0


def test_a_run_posted_on_one_web_process_streams_live_from_another(make_app):
    poster = make_app().test_client()
    # The viewer's process reads the store on its own only every 30 s: the Redis Stream delivers.
    viewer = make_app(workers=0, SSE_FALLBACK=30.0, SSE_HEARTBEAT=30.0).test_client()
    run_id = start(poster, {**SLOW_2D, "epochs": 4, "points": 1000})["id"]
    response = viewer.get(f"/api/runs/{run_id}/events", buffered=False)
    events = read_until_done(client_events(response), limit=30)
    arrived = time.time()
    response.close()
    epochs = [event for event in events if event.event == "epoch"]
    assert [event.id for event in epochs] == ["1", "2", "3", "4"]
    assert events[-1].json()["status"] == "done"
    assert arrived - epochs[-1].json()["recorded_at"] < 1.0


def test_its_owner_stops_a_run_on_another_web_process_within_a_second_keeping_its_epochs(make_app):
    first = make_app().test_client()
    second = make_app(workers=0).test_client()
    started = start(first, SLOW_2D)
    run_id = started["id"]
    wait_for(first, run_id, lambda run: len(run["epochs"]) >= 2)
    refused = second.post(f"/api/runs/{run_id}/stop")  # without the owner token: no
    assert refused.status_code == 403 and "owner token" in refused.get_json()["error"]
    wrong = second.post(f"/api/runs/{run_id}/stop", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
    assert first.get(f"/api/runs/{run_id}").get_json()["status"] == "running"
    asked = time.monotonic()
    run = second.post(f"/api/runs/{run_id}/stop", headers=owner(started)).get_json()
    assert time.monotonic() - asked < 1.0
    assert run["status"] == "stopped" and run["reason"] == "Stopped on request."
    assert [e["epoch"] for e in run["epochs"]] == list(range(1, len(run["epochs"]) + 1))
    assert len(run["epochs"]) >= 2 and first.get(f"/api/runs/{run_id}").get_json() == run


def test_the_rate_limit_is_one_limit_across_web_processes(make_app):
    first = make_app(RATE_LIMIT="3 per minute").test_client()
    second = make_app(workers=0, RATE_LIMIT="3 per minute").test_client()
    ids = [start(first, FAST_2D)["id"], start(second, FAST_2D)["id"], start(first, FAST_2D)["id"]]
    for client in (first, second):
        refused = client.post("/api/runs", json=FRESH_FAST_2D)
        assert refused.status_code == 429 and "3 per 1 minute" in refused.get_json()["error"]
    for run_id in ids:
        assert wait_for(first, run_id)["status"] == "done"


def test_queue_moves_reach_waiting_viewers_through_the_queue_stream(make_app):
    client = make_app(WORKERS=1, SSE_FALLBACK=30.0, SSE_HEARTBEAT=30.0).test_client()
    blocker = start(client, SLOW_2D)
    wait_for(client, blocker["id"], lambda run: run["status"] == "running")
    ahead, behind = start(client, SLOW_2D), start(client, SLOW_2D)
    response = client.get(f"/api/runs/{behind['id']}/events", buffered=False)
    events = client_events(response)
    assert next(events).retry == 2000
    assert next(events).json() == {"status": "queued", "position": 2}
    stop(client, blocker)  # the worker takes `ahead`: `behind` moves up
    moved = time.monotonic()
    assert next(events).json() == {"status": "queued", "position": 1}
    assert time.monotonic() - moved < 1.5
    response.close()
    for run in (ahead, behind):
        stop(client, run)


# --- workers stopped, killed, failing -------------------------------------------------------------


def test_a_worker_stopped_with_sigterm_ends_its_run_interrupted_then_exits(make_app, viewer):
    app = make_app()
    with served(app) as url:
        run_id = start(app.test_client(), SLOW_2D)["id"]
        wait_for(app.test_client(), run_id, lambda run: len(run["epochs"]) >= 2)
        watching = viewer(f"{url}/api/runs/{run_id}/events")
        time.sleep(0.3)  # it has the replay
        signalled = time.monotonic()
        make_app.workers[0].stop()  # SIGTERM, as a platform stops a process
        assert time.monotonic() - signalled < 5
        assert make_app.workers[0].process.returncode == 0
        assert watching.ended.wait(10)
    run = app.test_client().get(f"/api/runs/{run_id}").get_json()
    assert run["status"] == "interrupted" and run["reason"] == SHUTDOWN_REASON
    assert [e["epoch"] for e in run["epochs"]] == watching.epochs() and len(watching.epochs()) >= 2
    assert [name for name, _ in watching.ending()] == ["status", "done"]
    assert all(data["status"] == "interrupted" for _, data in watching.ending())


def test_a_worker_killed_with_kill_9_leaves_no_run_running(make_app, viewer):
    app = make_app(WORKERS=2, **QUICK_DEATH)
    client = app.test_client()
    with served(app) as url:
        run_id = start(client, SLOW_2D)["id"]
        wait_for(client, run_id, lambda run: len(run["epochs"]) >= 2)
        [doomed] = [w for w in make_app.workers if trained_by(app.config["DATABASE_URL"], run_id) == w.pid]
        watching = viewer(f"{url}/api/runs/{run_id}/events")
        time.sleep(0.3)
        doomed.kill()
        killed = time.monotonic()
        assert watching.ended.wait(30)
        assert time.monotonic() - killed < 5  # same host: its pid is gone, no need to wait 30 s
    run = client.get(f"/api/runs/{run_id}").get_json()
    assert run["status"] == "interrupted" and run["reason"] == INTERRUPTED_REASON
    assert [e["epoch"] for e in run["epochs"]] == watching.epochs() and len(run["epochs"]) >= 2
    assert [(name, data["status"]) for name, data in watching.ending()] == [
        ("status", "interrupted"),
        ("done", "interrupted"),
    ]
    assert wait_for(client, start(client, FAST_2D)["id"])["status"] == "done"  # the other worker


def test_an_unexpected_error_fails_the_run_generically_and_the_worker_goes_on(make_app, tmp_path):
    app = make_app()
    client = app.test_client()
    # A stored config the trainer cannot handle (one data point), as an old or hand-edited row could be.
    config = {**defaults_for("spiral").to_dict(), "points": 1, "epochs": 2}
    broken, _ = app.extensions["playground"].training.submit(config, "dataset=spiral", 2)
    run = wait_for(client, broken)
    assert run["status"] == "failed"
    assert run["reason"].startswith("Training failed because of an error in the server")
    assert f"run {broken} failed" in (tmp_path / "worker-0.log").read_text()  # the details: the worker's log
    assert wait_for(client, start(client, FAST_2D)["id"])["status"] == "done"


def test_waiting_runs_whose_jobs_redis_lost_are_queued_again(make_app, redis_url):
    client = make_app(WORKERS=1, **QUICK_DEATH).test_client()
    blocker = start(client, SLOW_2D)
    wait_for(client, blocker["id"], lambda run: run["status"] == "running")
    waiting = start(client, FAST_2D)["id"]
    queue = redis.Redis.from_url(redis_url)
    assert queue.delete(f"rq:queue:{QUEUE_NAME}", f"rq:job:{waiting}") == 2  # as a Redis restart loses them
    deadline = time.monotonic() + 15
    while queue.lpos(f"rq:queue:{QUEUE_NAME}", waiting) is None:  # a keeper queues it again
        assert time.monotonic() < deadline, "the lost job was not queued again"
        time.sleep(0.1)
    queue.close()
    assert client.get(f"/api/runs/{waiting}").get_json()["position"] == 1
    stop(client, blocker)
    assert wait_for(client, waiting, limit=30)["status"] == "done"


def test_a_web_process_started_while_redis_is_away_answers_503_then_works_once_it_is_back(
    make_app, own_redis
):
    own_redis.kill()
    app = make_app(workers=0, REDIS_URL=own_redis.url)  # starts all the same
    client = app.test_client()
    refused = client.post("/api/runs", json=FRESH_FAST_2D)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
    assert refused.get_json() == {"error": UNREACHABLE_MESSAGE}
    assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200
    own_redis.start()
    assert client.post("/api/runs", json=FRESH_FAST_2D).status_code == 201


# --- the broadcast seam's live-only events ---------------------------------------------------------


@pytest.mark.stores("sqlite", "redis")
def test_live_only_events_reach_viewers_as_they_come(make_app):
    app = make_app(WORKERS=1, SSE_FALLBACK=30.0, SSE_HEARTBEAT=30.0)
    client = app.test_client()
    blocker = start(client, SLOW_2D)
    waiting = start(client, SLOW_2D)
    response = client.get(f"/api/runs/{waiting['id']}/events", buffered=False)
    events = client_events(response)
    assert next(events).retry == 2000 and next(events).json()["status"] == "queued"
    app.extensions["playground"].broadcast.publish(waiting["id"], "note", json.dumps({"batch": 3}))
    event = next(events)
    assert (event.event, event.id, event.json()) == ("note", None, {"batch": 3})
    response.close()
    for run in (waiting, blocker):
        stop(client, run)
