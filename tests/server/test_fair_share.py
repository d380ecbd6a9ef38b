"""A fair share per client (server/fair_share.py): runs going at once, the hourly budget of estimated
seconds, the per-run cost limit, runs counted before they are accepted (simultaneous POSTs cannot
pass together), the queue served round-robin, in both modes and on both stores; and the attacks:
one client flooding the server with its heaviest allowed runs, or with simultaneous POSTs. Clients
are told apart by address: REMOTE_ADDR in-process, the source address 127.0.0.x against gunicorn."""

from __future__ import annotations

import re
import threading
import time

import pytest

from core.config import Limits, parse_config
from core.cost import estimate
from tests.loopback import Client, request
from tests.server.helpers import FAST_2D, SLOW_2D, sql, start, stop, wait_for

ALL_MODES = pytest.mark.stores("sqlite", "postgres", "redis")
OTHER = {"REMOTE_ADDR": "192.0.2.7"}  # another client, in-process
HEAVIEST = {"dataset": "mnist", "hidden": [512, 512, 512, 512], "batch_size": 1, "epochs": 100}
HEAVY_ALLOWED = {"dataset": "mnist", "hidden": [512, 512, 512, 512], "batch_size": 64, "epochs": 50}
SMALL_2D = {"dataset": "spiral", "epochs": 100, "points": 500}


def cost(config: dict) -> float:
    return estimate(parse_config(dict(config), Limits())).seconds


def seconds_said(answer: dict) -> int:
    """The seconds a refusal's sentence says to wait ("Try again in 12 s", "frees up in 12 s")."""
    return int(re.search(r"in (\d+) s\b", answer["error"]).group(1))


def refused(response) -> tuple[str, int]:
    """(sentence, Retry-After) of a 429 whose header says what its sentence says."""
    assert response.status_code == 429, response.get_json()
    answer = response.get_json()
    assert int(response.headers["Retry-After"]) == seconds_said(answer)
    return answer["error"], int(response.headers["Retry-After"])


# --- in-process: each rule -------------------------------------------------------------------------


@ALL_MODES
def test_a_client_may_have_two_runs_going_and_the_third_is_429_saying_when_to_try_again(make_app):
    client = make_app(CLIENT_RUNS=2, QUEUE_SIZE=10).test_client()
    first, second = start(client, SLOW_2D), start(client, SLOW_2D)
    message, _ = refused(client.post("/api/runs", json={**FAST_2D, "fresh": True}))
    assert message.startswith("You have 2 runs going (queued or training) and a client may have 2 at once")
    assert "wait for one to end or stop one" in message
    reused = client.post("/api/runs", json=SLOW_2D)  # a stored identical run costs nothing
    assert reused.status_code == 200 and reused.get_json()["reused"] is True
    other = client.post("/api/runs", json={**FAST_2D, "fresh": True}, environ_base=OTHER)
    assert other.status_code == 201  # another client has its own share
    stop(client, first)
    third = start(client, FAST_2D)  # one ended: a place is free
    for run in (second, third, other.get_json()):
        stop(client, run)


def test_a_config_past_the_cost_limit_is_400_naming_what_to_lower_and_nothing_is_stored(make_app, database):
    client = make_app().test_client()  # PLAYGROUND_RUN_COST: 300 s
    answer = client.post("/api/runs", json=HEAVIEST)
    assert answer.status_code == 400 and answer.get_json()["field"] == "batch_size"
    assert re.fullmatch(
        r"This network \(512x512x512x512\) at batch size 1 for 100 epochs would take about 47 minutes to"
        r" train; the limit is 5 minutes a run: raise the batch size or shrink the layers\.",
        answer.get_json()["error"],
    )
    long = {**HEAVIEST, "batch_size": 256}
    fitting = estimate(parse_config(dict(long), Limits())).epochs_within(300)
    too_long = client.post("/api/runs", json=long).get_json()
    assert too_long["field"] == "epochs"
    assert too_long["error"].endswith(f"lower the epochs to {fitting} or fewer, or shrink the layers.")
    # The page asks GET /api/estimate as the controls change: the same sentence, before Train.
    query = "dataset=mnist&hidden=512,512,512,512&batch_size=1&epochs=100"
    assert client.get(f"/api/estimate?{query}").get_json()["refusal"] == answer.get_json()
    assert client.get("/api/estimate?dataset=spiral").get_json()["refusal"] is None
    assert sql(database, "SELECT count(*) FROM runs") == [(0,)]


@pytest.mark.stores("sqlite", "postgres")
def test_the_hourly_budget_refuses_saying_when_it_frees_up_and_a_run_stopped_before_it_started_is_refunded(
    make_app,
):
    each = cost(SLOW_2D)
    client = make_app(WORKERS=1, CLIENT_BUDGET=2.5 * each, RUN_COST=each).test_client()
    running = start(client, SLOW_2D)
    wait_for(client, running["id"], lambda run: run["status"] == "running")
    waiting = start(client, SLOW_2D)
    message, seconds = refused(client.post("/api/runs", json={**SLOW_2D, "fresh": True}))
    assert message.startswith("You have used your training budget: about 4 minutes of the 5 minutes")
    assert 3500 < seconds <= 3600  # the first run leaves the hour's window an hour after it started
    stop(client, waiting)  # never trained: costs nothing
    third = start(client, SLOW_2D)
    for run in (running, third):
        stop(client, run)


@ALL_MODES
def test_the_queue_serves_clients_in_turn_so_a_newcomer_waits_behind_one_run_of_each_other_client(
    make_app, database
):
    client = make_app(WORKERS=1, QUEUE_SIZE=8).test_client()
    blocker = start(client, SLOW_2D)
    wait_for(client, blocker["id"], lambda run: run["status"] == "running")
    mine = [start(client, {**FAST_2D, "seed": seed}) for seed in (1, 2, 3)]
    theirs = client.post("/api/runs", json={**FAST_2D, "fresh": True}, environ_base=OTHER).get_json()
    # The blocker was this client's turn: the other client's first run is next, then one of mine a turn.
    order = [theirs, *mine]
    assert [client.get(f"/api/runs/{run['id']}").get_json()["position"] for run in order] == [1, 2, 3, 4]
    stop(client, blocker)
    for run in order:
        assert wait_for(client, run["id"])["status"] == "done"
    started = dict(sql(database, "SELECT id, started_at FROM runs"))
    assert sorted(order, key=lambda run: started[run["id"]]) == order


# --- against gunicorn: the attacks -----------------------------------------------------------------


def post_all(url: str, source: str, config: dict, count: int) -> list[tuple[int, dict]]:
    """`count` POST /api/runs of `config` from `source`, all sent at the same moment."""
    answers: list[tuple[int, dict]] = []
    gate = threading.Barrier(count)

    def post() -> None:
        gate.wait()
        status, _, answer = request(url, "POST", "/api/runs", {**config, "fresh": True}, source)
        answers.append((status, answer))

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def stop_all(url: str, source: str, answers: list[tuple[int, dict]]) -> None:
    for status, answer in answers:
        if status == 201:
            headers = {"Authorization": f"Bearer {answer['owner_token']}"}
            request(url, "POST", f"/api/runs/{answer['id']}/stop", None, source, headers)


def test_at_most_n_of_n_plus_40_simultaneous_posts_pass_whether_runs_going_or_the_rate_binds(
    procfile_server,
):
    server = procfile_server(
        {"PLAYGROUND_CLIENT_RUNS": "3", "PLAYGROUND_RATELIMIT": "5 per minute", "PLAYGROUND_QUEUE": "60"}
    )
    going = post_all(server.url, "127.0.0.2", SLOW_2D, 43)
    assert sorted(status for status, _ in going).count(201) == 3
    assert {status for status, _ in going} == {201, 429}
    stop_all(server.url, "127.0.0.2", going)
    rate = post_all(server.url, "127.0.0.2", SLOW_2D, 42)  # 3 of the minute's 5 are spent
    assert [status for status, _ in rate].count(201) == 2
    assert any("the limit is 5 per 1 minute" in answer["error"] for status, answer in rate if status == 429)
    stop_all(server.url, "127.0.0.2", rate)
    status, _, answer = request(server.url, "POST", "/api/runs", {**FAST_2D, "fresh": True}, "127.0.0.3")
    assert status == 201, answer


def test_a_client_flooding_with_its_heaviest_runs_leaves_another_clients_small_run_done_within_45_s(
    procfile_server,
):
    server = procfile_server({"PLAYGROUND_CLIENT_RUNS": "2"})  # the default share; 2 processes x 2 threads
    flooding, answers = threading.Event(), []
    flooding.set()

    def flood() -> None:
        client = Client(server.url, "127.0.0.2")
        while flooding.is_set():
            status, _, answer = client.request("POST", "/api/runs", {**HEAVY_ALLOWED, "fresh": True})
            answers.append((status, answer))
        client.close()

    flooder = threading.Thread(target=flood)
    flooder.start()
    try:
        time.sleep(1.0)
        posted = time.monotonic()
        status, _, run = request(server.url, "POST", "/api/runs", {**SMALL_2D, "fresh": True}, "127.0.0.3")
        assert status == 201, run
        while (state := request(server.url, "GET", f"/api/runs/{run['id']}")[2])["status"] != "done":
            assert time.monotonic() - posted < 45, state
            time.sleep(0.2)
    finally:
        flooding.clear()
        flooder.join(30)
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == 2 and statuses.count(429) > 10
    stop_all(server.url, "127.0.0.2", answers)


def test_fair_share_settings_that_cannot_work_stop_the_start_naming_the_variable(make_app):
    from server.settings import SettingsError

    for settings, variable in [
        ({"CLIENT_RUNS": 0}, "PLAYGROUND_CLIENT_RUNS"),
        ({"CLIENT_BUDGET": 0}, "PLAYGROUND_CLIENT_BUDGET"),
        ({"RUN_COST": 4000, "CLIENT_BUDGET": 3600}, "PLAYGROUND_RUN_COST"),
        ({"READ_RATE_LIMIT": "lots"}, "PLAYGROUND_READ_RATELIMIT"),
    ]:
        with pytest.raises(SettingsError, match=variable):
            make_app(**settings)
