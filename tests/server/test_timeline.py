"""What the player needs from the server: every recorded epoch at once (GET /api/runs/<id>/timeline, the
stream's own events, gzipped), each carrying the network diagram's data, and run links that point at an
epoch (/runs/<id>?epoch=N, checked by the page route)."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.server.helpers import FAST_2D, SLOW_2D, SMALL_MNIST, start, stop, wait_for
from tests.server.test_pages_assets import page_data

pytestmark = pytest.mark.stores("sqlite")  # the store calls are the stream's, tested on both stores


def stream_epochs(client, run_id: str) -> list[dict]:
    """The data of every `epoch` event of a finished run's stream, from the start."""
    text = client.get(f"/api/runs/{run_id}/events").get_data(as_text=True)
    blocks = [block.splitlines() for block in text.split("\n\n")]
    return [json.loads(lines[2][len("data: ") :]) for lines in blocks if lines and lines[0] == "event: epoch"]


def test_the_timeline_is_every_epoch_event_of_the_stream_in_one_gzipped_answer(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.get(f"/api/runs/{run_id}/timeline", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-cache"
    timeline = json.loads(gzip.decompress(response.get_data()))
    assert timeline["epochs"] == stream_epochs(client, run_id)
    assert [epoch["epoch"] for epoch in timeline["epochs"]] == [1, 2, 3, 4, 5]
    for epoch in timeline["epochs"]:
        neurons = epoch["neurons"]
        assert [len(layer["biases"]) for layer in neurons["layers"]] == [16, 16, 3]
        assert len(neurons["layers"][0]["pictures"]) == 16 * neurons["size"] ** 2
        assert "grid" in epoch


def test_the_timeline_revalidates_by_etag_until_the_run_changes(client):
    run = start(client, SLOW_2D)
    wait_for(client, run["id"], until=lambda r: len(r["epochs"]) >= 1)
    first = client.get(f"/api/runs/{run['id']}/timeline")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.get_json()["epochs"]
    stop(client, run)
    after = client.get(f"/api/runs/{run['id']}/timeline", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag  # stopped: a new status
    again = client.get(f"/api/runs/{run['id']}/timeline", headers={"If-None-Match": after.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_an_mnist_timeline_has_each_epochs_confusion_matrix_and_edges(client):
    run_id = start(client, SMALL_MNIST)["id"]
    wait_for(client, run_id)
    epochs = client.get(f"/api/runs/{run_id}/timeline").get_json()["epochs"]
    assert [epoch["epoch"] for epoch in epochs] == [1, 2]
    for epoch in epochs:
        assert sum(map(sum, epoch["confusion"])) == 10000
        assert [len(layer["weights"]) for layer in epoch["neurons"]["layers"]] == [16 * 16, 16 * 10]
        assert "size" not in epoch["neurons"]


def test_an_unknown_runs_timeline_is_a_404_with_a_sentence(client):
    response = client.get("/api/runs/AAAAAAAAAAAA/timeline")
    assert response.status_code == 404 and "No run" in response.get_json()["error"]


def test_a_run_link_may_point_at_an_epoch_and_a_bad_one_says_why(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    page = page_data(client.get(f"/runs/{run_id}?epoch=3"))
    assert page["epoch"] == 3 and page["epoch_error"] is None
    page = page_data(client.get(f"/runs/{run_id}"))
    assert page["epoch"] is None and page["epoch_error"] is None
    for query, words in [
        ("epoch=6", "from 1 to 5, the epochs this run recorded"),
        ("epoch=0", "from 1 to 5"),
        ("epoch=-1", "from 1 to 5"),
        ("epoch=2.5", "whole number"),
        ("epoch=%C2%B3", "whole number"),  # a superscript three is a digit to str.isdigit, not a number
        ("epoch=99999999999999999999", "from 1 to 5"),
        ("epoch=", "whole number"),
        ("epoch=<script>", "whole number"),
        ("epoch=1&epoch=2", "more than once"),
    ]:
        response = client.get(f"/runs/{run_id}?{query}")
        assert response.status_code == 200, query  # the run is shown, at its latest epoch
        page = page_data(response)
        assert page["epoch"] is None and page["epoch_error"]["field"] == "epoch", query
        assert words in page["epoch_error"]["error"], (query, page["epoch_error"])


def test_a_link_into_a_running_run_may_point_at_an_epoch_it_has_not_reached_yet(client):
    run = start(client, SLOW_2D)
    page = page_data(client.get(f"/runs/{run['id']}?epoch=900"))
    assert page["epoch"] == 900
    page = page_data(client.get(f"/runs/{run['id']}?epoch=1001"))
    assert "from 1 to 1000, the epochs this run trains" in page["epoch_error"]["error"]
    stop(client, run)
