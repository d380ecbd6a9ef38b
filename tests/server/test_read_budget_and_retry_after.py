"""Predictions and views count against a per-client request budget (PLAYGROUND_READ_RATELIMIT); every
429 sends the Retry-After its sentence says; a chunked body past PLAYGROUND_MAX_BODY is a 413 with a
sentence (werkzeug alone would cut it at the limit and answer "not valid JSON")."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.custom_points import xor_csv
from tests.server.helpers import FAST_2D, SLOW_2D, start, stop, wait_for
from tests.server.test_fair_share import refused

pytestmark = pytest.mark.stores("sqlite")
OTHER = {"REMOTE_ADDR": "192.0.2.7"}
POINTS = {"points": [[0.1, 0.2], [0.5, -0.5]]}


def test_a_predict_flood_gets_429_while_another_clients_predictions_and_views_work(make_app):
    client = make_app(READ_RATE_LIMIT="20 per minute").test_client()
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    answers = [client.post(f"/api/runs/{run_id}/predict", json=POINTS) for _ in range(25)]
    assert [answer.status_code for answer in answers] == [200] * 20 + [429] * 5
    message, seconds = refused(answers[-1])
    assert message.startswith(
        "You have asked for too many predictions and views: the limit is 20 per 1 minute"
    )
    assert 0 < seconds <= 60
    assert client.get(f"/api/runs/{run_id}/views").status_code == 429  # one budget for both
    assert client.get(f"/api/runs/{run_id}").status_code == 200  # watching is never limited
    other = client.post(f"/api/runs/{run_id}/predict", json=POINTS, environ_base=OTHER)
    assert other.status_code == 200 and len(other.get_json()["probabilities"]) == 2
    assert client.get(f"/api/runs/{run_id}/views", environ_base=OTHER).status_code == 200


def test_a_full_queue_and_too_many_uploads_send_the_retry_after_their_sentence_says(make_app):
    client = make_app(WORKERS=1, QUEUE_SIZE=0, DATA_RATE_LIMIT="1 per minute").test_client()
    running = start(client, SLOW_2D)
    wait_for(client, running["id"], lambda run: run["status"] == "running")
    message, seconds = refused(client.post("/api/runs", json={**FAST_2D, "fresh": True}))
    assert message.startswith("The server is busy") and seconds == 10
    stop(client, running)
    upload = {"headers": {"Content-Type": "text/csv"}}
    assert client.post("/api/data", data=xor_csv(seed=21), **upload).status_code == 201
    message, seconds = refused(client.post("/api/data", data=xor_csv(seed=22), **upload))
    assert message.startswith("You have uploaded too many new point sets") and 0 < seconds <= 60


def chunked_post(url: str, path: str, size: int, content_type: str) -> tuple[int, dict]:
    """POST `size` bytes in chunks of 64 kB, without a Content-Length; (status, JSON answer)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    chunk = b" " * 65536

    def body():
        for _ in range(size // len(chunk)):
            yield chunk

    try:
        connection.request(
            "POST", path, body=body(), headers={"Content-Type": content_type}, encode_chunked=True
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_a_chunked_body_past_the_limit_is_413_with_a_sentence(procfile_server):
    server = procfile_server()  # PLAYGROUND_MAX_BODY: 1,000,000 bytes
    for path, content_type in (("/api/runs", "application/json"), ("/api/data", "text/csv")):
        status, answer = chunked_post(server.url, path, 2 * 1024 * 1024, content_type)
        assert status == 413, answer
        assert answer == {
            "error": "The request body is too large: the limit is 1000000 bytes.",
            "field": "body",
        }
