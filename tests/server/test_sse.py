"""The event stream: order, replay, Last-Event-ID resume, heartbeat, headers, viewers leaving; in both
modes (embedded on SQLite and PostgreSQL; scaled: "redis", the epochs coming through Redis Streams)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.serving import make_server

from core.views import grid_arrays
from server.sse import format_event, parse_last_event_id
from tests.procfile import free_port
from tests.server.helpers import FAST_2D, SLOW_2D, SMALL_MNIST, start, stop, wait_for
from tests.server.sse_client import SocketStream, client_events, read_until_done

pytestmark = pytest.mark.stores("sqlite", "postgres", "redis")
EMBEDDED = pytest.mark.stores("sqlite", "postgres")


def stream(client, run_id: str, headers: dict | None = None, query: str = ""):
    response = client.get(f"/api/runs/{run_id}/events{query}", headers=headers or {}, buffered=False)
    assert response.status_code == 200
    return response


def events_of(client, run_id: str, headers: dict | None = None, query: str = "") -> list:
    response = stream(client, run_id, headers, query)
    try:
        return read_until_done(client_events(response))
    finally:
        response.close()


def test_format_event():
    assert format_event("epoch", '{"a": 1}', 3) == 'event: epoch\nid: 3\ndata: {"a": 1}\n\n'
    assert format_event("done", "a\nb") == "event: done\ndata: a\ndata: b\n\n"


@pytest.mark.parametrize("value, epoch", [(None, 0), ("", 0), ("7", 7), (" 12 ", 12)])
def test_last_event_id_parsing(value, epoch):
    assert parse_last_event_id(value) == epoch


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "1e3", "٣", "9" * 10])
def test_last_event_id_garbage_is_refused(value):
    with pytest.raises(ValueError):
        parse_last_event_id(value)


@EMBEDDED
def test_headers_and_no_compression(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = stream(client, run_id, {"Accept-Encoding": "gzip"})
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response.headers
    response.close()


def test_a_finished_run_replays_everything_then_done(client):
    run_id = start(client, FAST_2D)["id"]
    run = wait_for(client, run_id)
    events = events_of(client, run_id)
    assert events[0].retry == 2000 and events[0].event is None
    epochs = [e for e in events if e.event == "epoch"]
    assert [e.id for e in epochs] == ["1", "2", "3", "4", "5"]
    for event, recorded in zip(epochs, run["epochs"], strict=True):
        data = event.json()
        assert {k: data[k] for k in recorded} == recorded
        assert grid_arrays(data["grid"])[0].shape == (50, 50)
    assert events[-2].event == "status" and events[-2].json() == {"status": "done"}
    done = events[-1].json()
    assert done["status"] == "done" and done["test_acc"] == run["test_acc"]


def test_last_event_id_replays_exactly_the_missing_epochs(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    everything = [e for e in events_of(client, run_id) if e.event == "epoch"]
    resumed = [e for e in events_of(client, run_id, {"Last-Event-ID": "3"}) if e.event == "epoch"]
    assert [e.id for e in resumed] == ["4", "5"]
    assert [e.data for e in resumed] == [e.data for e in everything[3:]]  # the very same bytes
    by_query = [e for e in events_of(client, run_id, query="?last_event_id=4") if e.event == "epoch"]
    assert [e.id for e in by_query] == ["5"]
    assert [e for e in events_of(client, run_id, {"Last-Event-ID": "5"}) if e.event == "epoch"] == []


def test_resume_in_the_middle_of_a_live_run(make_app):
    client = make_app(WORKERS=1).test_client()
    run_id = start(client, {**SLOW_2D, "epochs": 4, "points": 2000})["id"]
    first = stream(client, run_id)
    seen = []
    for event in client_events(first):
        if event.event == "epoch":
            seen.append(event)
            if len(seen) == 2:
                break
    first.close()  # the viewer drops after epoch 2 ...
    rest = events_of(client, run_id, {"Last-Event-ID": seen[-1].id})  # ... and comes back
    epochs = [e for e in rest if e.event == "epoch"]
    assert [e.id for e in epochs] == ["3", "4"]
    assert rest[-1].json()["status"] == "done"
    assert {e.id for e in seen} | {e.id for e in epochs} == {"1", "2", "3", "4"}


@EMBEDDED
def test_garbage_last_event_id_answers_400_json(client):
    run_id = start(client, FAST_2D)["id"]
    response = client.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "banana"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "Last-Event-ID"
    wait_for(client, run_id)


def test_a_live_run_streams_status_then_every_epoch_then_done(client):
    run_id = start(client, {**FAST_2D, "epochs": 30})["id"]
    events = events_of(client, run_id)
    assert events[0].retry == 2000
    statuses = [e.json()["status"] for e in events if e.event == "status"]
    assert statuses[-1] == "done" and set(statuses) <= {"queued", "running", "done"}
    assert [int(e.id) for e in events if e.event == "epoch"] == list(range(1, 31))
    assert events[-1].event == "done"


def test_mnist_epochs_carry_the_validation_confusion_matrix(client):
    run_id = start(client, {**SMALL_MNIST, "epochs": 1})["id"]
    events = events_of(client, run_id)
    (epoch,) = [e.json() for e in events if e.event == "epoch"]
    assert len(epoch["confusion"]) == 10 and sum(map(sum, epoch["confusion"])) == 10000
    assert "grid" not in epoch and epoch["test_acc"] > 0.8


def test_queued_stream_shows_position_and_heartbeats_then_stop(make_app):
    client = make_app(WORKERS=1, SSE_HEARTBEAT=0.2).test_client()
    blocker = start(client, SLOW_2D)
    wait_for(client, blocker["id"], lambda run: run["status"] == "running")
    queued = start(client, SLOW_2D)
    response = stream(client, queued["id"])
    events = client_events(response)
    assert next(events).retry == 2000
    assert next(events).json() == {"status": "queued", "position": 1}
    started = time.monotonic()
    pings = [next(events), next(events)]
    assert [e.comment for e in pings] == ["ping", "ping"]
    assert 0.3 <= time.monotonic() - started < 1.5  # two heartbeats, 0.2 s apart
    stop(client, queued)
    rest = read_until_done(events, limit=10)
    assert [e.event for e in rest if e.comment is None] == ["status", "done"]
    assert rest[-1].json() == {"status": "stopped", "reason": "Stopped before it started."}
    response.close()
    stop(client, blocker)


def test_a_stopped_run_stream_ends_with_stopped(client):
    run = start(client, SLOW_2D)
    response = stream(client, run["id"])
    events = client_events(response)
    for event in events:
        if event.event == "epoch":
            break
    stop(client, run)
    rest = read_until_done(events, limit=10)
    assert rest[-1].json()["status"] == "stopped"
    response.close()


def test_viewers_that_leave_are_noticed_and_the_run_goes_on(make_app):
    """Over a real socket, on a quiet stream (a queued run: no events to write): closing the
    connection frees the stream within its 1 s wake-up, long before the next heartbeat (30 s)."""
    app = make_app(WORKERS=1, SSE_HEARTBEAT=30.0)
    broadcast = app.extensions["playground"].broadcast
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = app.test_client()
        blocker = start(client, SLOW_2D)
        run_id = start(client, FAST_2D)["id"]
        viewers = [SocketStream(f"http://127.0.0.1:{port}/api/runs/{run_id}/events") for _ in range(5)]
        for viewer in viewers:
            events = viewer.events()
            assert next(events).retry == 2000
            assert next(events).json()["status"] == "queued"
        assert broadcast.streams() == 5
        for viewer in viewers:
            viewer.close()
        left = time.monotonic()
        while broadcast.streams() > 0:
            assert time.monotonic() - left < 2.0, "streams still open 2 s after their viewers left"
            time.sleep(0.01)
        assert client.get("/healthz").get_json()["streams"] == 0
        stop(client, blocker)
        run = wait_for(client, run_id)  # nobody watches: the run still completes
        assert run["status"] == "done" and len(run["epochs"]) == 5
    finally:
        server.shutdown()
        thread.join()


@EMBEDDED  # the embedded mode's way across processes (the scaled mode's: tests/server/test_scaled.py)
def test_a_run_of_another_process_streams_through_the_store_watcher(make_app):
    """Two apps on one file, as two gunicorn workers: one trains, the other streams. The viewer's
    own fallback timer is 30 s, so only the store watcher (every 50 ms) can deliver in time."""
    trainer = make_app(WORKERS=1).test_client()
    viewer = make_app(WORKERS=1, SSE_POLL=0.05, SSE_FALLBACK=30.0, SSE_HEARTBEAT=30.0)
    store = viewer.extensions["playground"].store
    run_id = start(trainer, {**SLOW_2D, "epochs": 3, "points": 1000})["id"]
    response = stream(viewer.test_client(), run_id)
    events = client_events(response)
    ended_at = None

    def watch_the_store():
        nonlocal ended_at
        while store.status(run_id)[0] != "done":
            time.sleep(0.005)
        ended_at = time.monotonic()

    observer = threading.Thread(target=watch_the_store)
    observer.start()
    seen = read_until_done(events, limit=30)
    arrived = time.monotonic()
    observer.join()
    response.close()
    assert [e.id for e in seen if e.event == "epoch"] == ["1", "2", "3"]
    assert seen[-1].json()["status"] == "done"
    assert arrived - ended_at < 0.5


@EMBEDDED
def test_stream_of_an_unknown_run_is_404_json(client):
    response = client.get("/api/runs/AAAAAAAAAAAA/events")
    assert response.status_code == 404 and response.is_json
    assert json.loads(response.data)["error"]
