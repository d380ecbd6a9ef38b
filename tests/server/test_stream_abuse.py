"""Event streams against one abusive client (issue 12, attack 2), and a stream's maximum lifetime:
gunicorn as the Procfile starts it (the gevent worker), clients told apart by their source address."""

from __future__ import annotations

import json
import time

import pytest

from tests.server.attack import get, open_stream, status_of
from tests.server.helpers import SLOW_2D, start, stop, wait_for
from tests.server.sse_client import SocketStream

ATTACKER, VISITOR = "127.0.0.2", "127.0.0.3"


@pytest.mark.stores("sqlite")
def test_one_client_holding_400_streams_gets_429_past_its_cap_while_another_gets_the_page_at_once(
    procfile_server,
):
    server = procfile_server()  # 2 workers, the default cap: 20 streams a client in each
    run = start(server, SLOW_2D)
    wait_for(server, run["id"], lambda r: len(r["epochs"]) >= 1)
    held = [open_stream(server.port, ATTACKER, run["events"]) for _ in range(400)]
    try:
        statuses = [status_of(sock) for sock in held]
        assert statuses.count(200) + statuses.count(429) == 400
        assert 20 <= statuses.count(200) <= 40 and statuses.count(429) >= 360
        status, headers, body, _ = get(server.port, ATTACKER, run["events"])
        assert status == 429 and headers["retry-after"] == "10"
        assert json.loads(body)["error"].startswith("This client has 20 event streams open already")

        for path in ("/", "/healthz", f"/runs/{run['id']}"):
            status, _, _, seconds = get(server.port, VISITOR, path)
            assert status == 200 and seconds < 2, (path, seconds)
        visitor = open_stream(server.port, VISITOR, run["events"])
        assert status_of(visitor) == 200
        visitor.close()
    finally:
        for sock in held:
            sock.close()
    # The attacker's places come back once its streams are gone.
    deadline = time.monotonic() + 10
    while True:
        sock = open_stream(server.port, ATTACKER, run["events"])
        code = status_of(sock)
        sock.close()
        if code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert code == 200
    stop(server, run)


@pytest.mark.stores("sqlite")
def test_a_stream_ends_after_its_lifetime_and_resuming_with_last_event_id_misses_nothing(procfile_server):
    server = procfile_server({"PLAYGROUND_STREAM_SECONDS": "1"})
    run = start(server, {**SLOW_2D, "epochs": 40})  # 0.1-0.3 s an epoch: 4-12 s in all
    epochs: list[int] = []
    streams = 0
    last = None
    while last != "done" and streams < 40:
        headers = {"Last-Event-ID": str(epochs[-1])} if epochs else {}
        stream = SocketStream(server.url + run["events"], headers)
        streams += 1
        try:
            assert stream.response.status == 200
            for event in stream.events():  # ends when the server ends the response
                last = event.event or last
                if event.event == "epoch":
                    epochs.append(int(event.id))
                if event.event == "done":
                    assert event.json()["status"] == "done"
                    break
        finally:
            stream.close()
    assert last == "done"
    assert epochs == list(range(1, 41))  # each epoch once, in order, across the reconnections
    assert streams >= 3  # the server ended the stream at least twice before the run was done
