"""Honest endings through the API: a run that ends without a nan but did not learn is `done` with a
warning (core.verdict) in its run JSON and its `done` event; a healthy run has none."""

from __future__ import annotations

from tests.server.helpers import start, wait_for
from tests.server.sse_client import client_events, read_until_done

COLLAPSES = {"dataset": "spiral", "lr": 3.0, "epochs": 40}  # ends at chance (~33%), loss finite
HEALTHY = {"dataset": "spiral", "epochs": 40}


def done_event(client, run_id: str) -> dict:
    response = client.get(f"/api/runs/{run_id}/events", buffered=False)
    try:
        events = read_until_done(client_events(response))
    finally:
        response.close()
    return events[-1].json()


def test_a_collapsed_run_ends_done_with_a_warning_and_a_hint(client):
    run_id = start(client, COLLAPSES)["id"]
    run = wait_for(client, run_id)
    assert run["status"] == "done" and run["test_acc"] < 0.45
    warning = run["warning"]
    assert warning["code"] == "chance"
    assert "about chance for 3 classes" in warning["message"]
    assert warning["hint"] == "Try a lower learning rate, such as 0.3 (this set's default)."
    done = done_event(client, run_id)
    assert done["status"] == "done" and done["warning"] == warning


def test_a_healthy_run_ends_done_without_a_warning(client):
    run_id = start(client, HEALTHY)["id"]
    run = wait_for(client, run_id)
    assert run["status"] == "done" and run["warning"] is None
    assert "warning" not in done_event(client, run_id)
