"""Sweeps over HTTP (server/sweeps.py), on SQLite and PostgreSQL (and once in the scaled mode): POST
/api/sweeps queues one ordinary run per cell (201 with their ids) or refuses naming the field (a bad
config or axis, too many axes or values, past the sweep cap with the estimate, 429 when the queue fills);
GET /api/sweeps/<id> shows each cell's latest numbers, which are its run's own; the event stream replays
a finished sweep at once and resumes after a Last-Event-ID; only the owner stops a sweep."""

from __future__ import annotations

import html
import json
import re

import pytest

from core.config import parse_config
from core.cost import estimate_seconds
from core.sweeps import parse_vary
from tests.server.helpers import sql, wait_for
from tests.server.sse_client import client_events, read_until_done

TINY_2D = {"dataset": "xor", "epochs": 4, "points": 100, "hidden": [4]}
GRID = {"lr": [0.03, 0.3, 3], "hidden": [2, 4, 8]}


def page_data(response) -> dict:
    """The JSON a page's template wrote into <body data-page="...">."""
    return json.loads(html.unescape(re.search(r'data-page="([^"]*)"', response.get_data(as_text=True))[1]))


def post(client, body: dict):
    return client.post("/api/sweeps", json=body)


def refused(response, field: str, status: int = 400) -> str:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body.get("field") == field and body["error"].endswith("."), body
    return body["error"]


def done_sweep(client, sweep_id: str, limit: float = 60) -> dict:
    for run_id in client.get(f"/api/sweeps/{sweep_id}").get_json()["cells"]:
        wait_for(client, run_id["run"], limit=limit)
    return client.get(f"/api/sweeps/{sweep_id}").get_json()


def test_a_3x3_sweep_queues_nine_runs_and_shows_each_cells_own_numbers(make_app):
    client = make_app(QUEUE_SIZE=16).test_client()
    response = post(client, {"config": TINY_2D, "vary": GRID})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["url"] == f"/sweeps/{created['id']}" and len(created["runs"]) == 9
    assert created["query"] == "lr:0.03,0.3,3;hidden:2,4,8"
    assert response.headers["Location"] == f"/api/sweeps/{created['id']}"

    sweep = done_sweep(client, created["id"])
    assert sweep["status"] == "done" and sweep["vary"] == {"lr": [0.03, 0.3, 3.0], "hidden": [2, 4, 8]}
    assert [cell["run"] for cell in sweep["cells"]] == created["runs"]
    assert [cell["values"] for cell in sweep["cells"][:4]] == [
        {"lr": 0.03, "hidden": 2},
        {"lr": 0.3, "hidden": 2},
        {"lr": 3.0, "hidden": 2},
        {"lr": 0.03, "hidden": 4},
    ]
    for cell in sweep["cells"]:
        run = client.get(f"/api/runs/{cell['run']}").get_json()  # an ordinary run, with its permalink
        assert run["status"] == cell["status"] == "done"
        assert run["config"]["lr"] == cell["values"]["lr"] and run["config"]["hidden"] == [
            cell["values"]["hidden"]
        ]
        assert (cell["val_acc"], cell["val_loss"], cell["epochs"]) == (
            run["epochs"][-1]["val_acc"], run["epochs"][-1]["val_loss"], 4,
        )  # fmt: skip
        assert cell["query"] == run["query"]
        assert run["sweep"] == created["id"]  # the run names the sweep that created it
    single = client.post("/api/runs", json={**TINY_2D, "seed": 5}).get_json()
    assert client.get(f"/api/runs/{single['id']}").get_json()["sweep"] is None

    # The same sweep again answers with the same runs: each cell's config was trained already.
    again = post(client, {"config": TINY_2D, "vary": {"hidden": [8, 4, 2], "lr": [3, 0.3, 0.03]}}).get_json()
    assert again["runs"] == created["runs"] and again["id"] != created["id"]


def test_bad_sweeps_are_refused_naming_the_field(make_app):
    client = make_app().test_client()
    assert "lr must be between" in refused(
        post(client, {"config": {"lr": 9}, "vary": {"l2": [0]}}), "config.lr"
    )
    assert "does not apply" in refused(
        post(client, {"config": {"points": 100}, "vary": {"lr": [1]}}), "config.points"
    )
    assert "needs vary" in refused(post(client, {"config": TINY_2D}), "vary")
    assert "at most 2" in refused(
        post(client, {"config": TINY_2D, "vary": {"lr": [1], "l2": [0], "hidden": [2]}}), "vary"
    )
    assert "1 to 5 values" in refused(
        post(client, {"config": TINY_2D, "vary": {"l2": [0, 0.1, 0.2, 0.3, 0.4, 0.5]}}), "vary.l2"
    )
    assert "not a setting" in refused(
        post(client, {"config": TINY_2D, "vary": {"seed": [1, 2]}}), "vary.seed"
    )
    assert "between 1 and" in refused(
        post(client, {"config": TINY_2D, "vary": {"layers": [1, 9]}}), "vary.layers"
    )
    assert "not part of a sweep" in refused(post(client, {"config": TINY_2D, "vary": GRID, "x": 1}), "x")
    assert "JSON object" in refused(post(client, [1]), "body")
    assert client.get("/api/sweeps/AAAAAAAAAAAA").status_code == 404


def test_a_sweep_past_the_cap_is_refused_with_its_estimate_before_any_run_exists(make_app, database):
    vary = {"batch_size": [4, 8, 16], "lr": [0.1, 1]}
    sweep = parse_vary(vary, parse_config(TINY_2D))
    seconds = sum(estimate_seconds(config) for config in sweep.cells())
    client = make_app(SWEEP_SECONDS=seconds * 0.9).test_client()
    message = refused(post(client, {"config": TINY_2D, "vary": vary}), "vary")
    assert f"about {seconds:.1f} seconds in all" in message and "a sweep may take" in message, message
    assert sql(database, "SELECT count(*) FROM runs") == [(0,)]
    assert post(client, {"config": TINY_2D, "vary": {"batch_size": [4, 8, 16]}}).status_code == 201


def test_a_sweep_counts_as_one_run_against_the_queues_limit(make_app):
    app = make_app(QUEUE_SIZE=2, WORKERS=2)  # 2 places, and one more per idle training thread
    app.extensions["playground"].training.shutdown()  # runs only wait now
    client = app.test_client()
    grid = {"lr": [0.01, 0.1, 1], "hidden": [2, 4, 8]}
    created = post(client, {"config": TINY_2D, "vary": grid})
    assert created.status_code == 201, created.get_json()  # 9 runs wait behind 4 places
    store = app.extensions["playground"].store
    assert len(store.active_runs()) == 9
    fuller = post(client, {"config": {**TINY_2D, "seed": 7}, "vary": grid})  # the queue is full now
    assert fuller.status_code == 429 and "already waiting" in fuller.get_json()["error"]
    assert fuller.headers["Retry-After"]
    assert len(store.active_runs()) == 9  # nothing of the refused sweep was left queued


def test_the_event_stream_replays_a_finished_sweep_and_resumes_after_last_event_id(make_app):
    client = make_app(QUEUE_SIZE=16).test_client()
    created = post(client, {"config": TINY_2D, "vary": {"lr": [0.1, 1]}}).get_json()
    sweep = done_sweep(client, created["id"])
    events = read_until_done(client_events(client.get(created["events"], buffered=False)))
    epochs = [event for event in events if event.event == "epochs"]
    cells = [event.json() for event in events if event.event == "cell"]
    assert epochs[-1].id == "4.4"
    assert [cell["status"] for cell in cells] == ["done", "done"]
    data = epochs[0].json()["cells"]
    for index, cell in enumerate(sweep["cells"]):
        run = client.get(f"/api/runs/{cell['run']}").get_json()
        assert data[str(index)]["val_acc"] == [epoch["val_acc"] for epoch in run["epochs"]]
        assert data[str(index)]["from"] == 1

    resumed = read_until_done(
        client_events(client.get(created["events"], headers={"Last-Event-ID": "2.4"}, buffered=False))
    )
    [more] = [event for event in resumed if event.event == "epochs"]
    assert more.id == "4.4" and set(more.json()["cells"]) == {"0"} and more.json()["cells"]["0"]["from"] == 3
    assert len(more.json()["cells"]["0"]["val_loss"]) == 2
    bad = client.get(created["events"], headers={"Last-Event-ID": "7"})
    assert refused(bad, "Last-Event-ID")


def test_only_the_sweeps_owner_stops_its_runs(make_app):
    app = make_app(QUEUE_SIZE=16, WORKERS=1)
    client = app.test_client()
    long = {"dataset": "spiral", "epochs": 1000, "points": 5000, "hidden": [64, 64]}
    created = post(client, {"config": long, "vary": {"lr": [0.01, 0.1]}}).get_json()
    stop = f"/api/sweeps/{created['id']}/stop"
    assert client.post(stop).status_code == 403
    assert client.post(stop, headers={"Authorization": "Bearer " + "x" * 43}).status_code == 403
    answer = client.post(stop, headers={"Authorization": f"Bearer {created['owner_token']}"})
    assert answer.status_code == 200, answer.get_json()
    for run_id in created["runs"]:
        assert wait_for(client, run_id)["status"] == "stopped"
    assert client.get(f"/api/sweeps/{created['id']}").get_json()["status"] == "done"


@pytest.mark.stores("redis")
def test_a_sweep_trains_on_the_scaled_modes_workers(make_app):
    client = make_app(QUEUE_SIZE=16, WORKERS=1).test_client()
    created = post(client, {"config": TINY_2D, "vary": {"lr": [0.1, 1], "hidden": [2, 4]}}).get_json()
    sweep = done_sweep(client, created["id"])
    assert [cell["status"] for cell in sweep["cells"]] == ["done"] * 4
    events = read_until_done(client_events(client.get(created["events"], buffered=False)))
    assert json.loads([e for e in events if e.event == "epochs"][-1].data)["cells"]


def test_the_estimate_adds_up_the_cells_and_answers_the_canonical_sweep(make_app):
    client = make_app(SWEEP_SECONDS=1000.0).test_client()
    answer = client.get(
        "/api/sweeps/estimate?dataset=xor&epochs=4&points=100&hidden=4&sweep=hidden:8,2;lr:1,0.1"
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    sweep = parse_vary({"hidden": [8, 2], "lr": [1, 0.1]}, parse_config(TINY_2D))
    expected = sum(estimate_seconds(config) for config in sweep.cells())
    assert body == {
        "seconds": round(expected, 1),
        "cap_seconds": 1000.0,
        "runs": 4,
        "query": "lr:0.1,1;hidden:2,8",
    }
    assert "between 1 and" in refused(
        client.get("/api/sweeps/estimate?dataset=xor&sweep=hidden:0"), "vary.hidden"
    )
    assert "Give the sweep" in refused(client.get("/api/sweeps/estimate?dataset=xor"), "sweep")
    assert "does not apply" in refused(
        client.get("/api/sweeps/estimate?dataset=mnist&noise=0.1&sweep=lr:1"), "noise"
    )
    refused(client.get("/api/sweeps/estimate?dataset=xor&sweep=lr:1&sweep=lr:2"), "sweep")


def test_the_playground_address_prefills_the_sweep_form_and_a_sweep_has_its_page(make_app):
    client = make_app(QUEUE_SIZE=16).test_client()
    form = page_data(client.get("/?dataset=xor&sweep=hidden:8,2;lr:1,0.1"))["sweep"]
    assert form["order"] == ["lr", "hidden"] and form["query"] == "lr:0.1,1;hidden:2,8"
    assert form["vary"] == {"lr": [0.1, 1.0], "hidden": [2, 8]}
    assert [axis["name"] for axis in form["axes"]] == [
        "lr",
        "hidden",
        "layers",
        "batch_size",
        "l2",
        "activation",
    ]
    bad = page_data(client.get("/?dataset=xor&sweep=lr:9"))["sweep"]
    assert bad["error"]["field"] == "vary.lr" and "vary" not in bad

    created = post(client, {"config": TINY_2D, "vary": {"lr": [0.1, 1]}}).get_json()
    page = client.get(created["url"])
    assert page.status_code == 200 and created["id"] in page.get_data(as_text=True)
    sweep = page_data(page)["sweep"]
    assert sweep["axes"] == ["lr"] and [cell["run"] for cell in sweep["cells"]] == created["runs"]
    assert sweep["address"] == f"/?{parse_config(TINY_2D).to_query()}&sweep=lr:0.1,1"
    assert client.get("/sweeps/AAAAAAAAAAAA").status_code == 404
    run_page = page_data(client.get(f"/runs/{created['runs'][0]}"))  # a Fork there shows the form too
    assert run_page["sweep"]["axes"] == form["axes"]


def test_the_live_stream_sends_every_epoch_once_with_cursors_that_only_grow(make_app):
    client = make_app(QUEUE_SIZE=16).test_client()
    config = {**TINY_2D, "epochs": 300}  # long enough to be seen in more than one look on a busy machine
    created = post(client, {"config": config, "vary": {"lr": [0.1, 1], "hidden": [2, 4]}}).get_json()
    events = read_until_done(client_events(client.get(created["events"], buffered=False)))
    cursors = [[int(part) for part in event.id.split(".")] for event in events if event.event == "epochs"]
    assert len(cursors) > 1, "the epochs came in more than one look"
    pairs = zip(cursors, cursors[1:], strict=False)
    assert all(a <= b for earlier, later in pairs for a, b in zip(earlier, later, strict=True))
    assert cursors[-1] == [300] * 4
    seen: dict[str, list[float]] = {str(i): [] for i in range(4)}
    for event in events:
        if event.event == "epochs":
            for index, news in event.json()["cells"].items():
                assert news["from"] == len(seen[index]) + 1  # no gap, no epoch twice
                seen[index] += news["val_loss"]
    for index, run_id in enumerate(created["runs"]):
        run = client.get(f"/api/runs/{run_id}").get_json()
        assert seen[str(index)] == [epoch["val_loss"] for epoch in run["epochs"]]
    last = {event.json()["cell"]: event.json()["status"] for event in events if event.event == "cell"}
    assert last == {0: "done", 1: "done", 2: "done", 3: "done"} and events[-1].event == "done"


def test_a_sweep_is_one_run_going_for_the_fair_share_and_the_sum_of_its_runs_for_the_budget(
    make_app, database
):
    # Two runs going at once per client: a nine-run sweep fits as one, a second sweep too; a third thing
    # started while both go is refused with the fair share's 429, and refused sweeps leave no runs.
    app = make_app(QUEUE_SIZE=16, CLIENT_RUNS=2, WORKERS=1)
    client = app.test_client()
    slow = {**TINY_2D, "epochs": 300, "points": 1000}
    first = post(client, {"config": slow, "vary": GRID})
    assert first.status_code == 201, first.get_json()
    second = post(client, {"config": {**slow, "seed": 7}, "vary": GRID})
    assert second.status_code == 201, second.get_json()
    runs_before = sql(database, "SELECT count(*) FROM runs")[0][0]
    third = post(client, {"config": {**slow, "seed": 8}, "vary": GRID})
    assert third.status_code == 429, third.get_json()
    assert "runs going" in third.get_json()["error"] and int(third.headers["Retry-After"]) >= 1
    assert sql(database, "SELECT count(*) FROM runs")[0][0] == runs_before
    single = client.post("/api/runs", json={**slow, "seed": 9})
    assert single.status_code == 429, single.get_json()
    for created in (first, second):
        body = created.get_json()
        client.post(
            f"/api/sweeps/{body['id']}/stop", headers={"Authorization": f"Bearer {body['owner_token']}"}
        )

    # The budget counts every cell's estimate: a budget smaller than the sweep's sum refuses it whole.
    seconds = sum(estimate_seconds(parse_config(cell)) for cell in _cells(TINY_2D))
    tight = make_app(QUEUE_SIZE=16, CLIENT_BUDGET=seconds * 0.9, RUN_COST=seconds * 0.5).test_client()
    refused_sweep = post(tight, {"config": TINY_2D, "vary": GRID})
    assert refused_sweep.status_code == 429, refused_sweep.get_json()
    assert "budget" in refused_sweep.get_json()["error"]


def _cells(config: dict) -> list[dict]:
    return [{**config, "lr": lr, "hidden": [hidden]} for lr in GRID["lr"] for hidden in GRID["hidden"]]


def test_sweep_streams_count_against_the_clients_stream_cap_and_end_after_their_lifetime(make_app):
    # One client, one stream at most: a second sweep stream is 429 while the first is open. The first
    # ends after its lifetime (1 s); resuming with its last id again and again, the viewer gets every
    # epoch of every cell once, then done.
    client = make_app(QUEUE_SIZE=16, CLIENT_STREAMS=1, STREAM_SECONDS=1.0).test_client()
    config = {**TINY_2D, "epochs": 300}
    created = post(client, {"config": config, "vary": {"lr": [0.1, 1]}}).get_json()
    seen: dict[str, list[float]] = {"0": [], "1": []}
    cursor, streams, done = "", 0, False
    while not done:
        assert streams < 100, "the sweep should end"
        response = client.get(created["events"], headers={"Last-Event-ID": cursor}, buffered=False)
        assert response.status_code == 200
        streams += 1
        if streams == 1:
            second = client.get(created["events"])
            assert second.status_code == 429 and second.headers["Retry-After"] == "10", second.get_json()
        for event in client_events(response):
            if event.event == "epochs":
                for index, news in event.json()["cells"].items():
                    assert news["from"] == len(seen[index]) + 1  # no gap, no epoch twice
                    seen[index] += news["val_loss"]
                cursor = event.id
            done = done or event.event == "done"
        response.close()
    assert streams >= 2 and [len(losses) for losses in seen.values()] == [300, 300]
