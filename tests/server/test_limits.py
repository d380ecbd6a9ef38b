"""Limits and abuse: the per-client rate limit, config bounds and the wall-clock cap from environment
variables, the queue shared by all processes, security headers, no traceback, escaped user text."""

from __future__ import annotations

import html
import json
from urllib.parse import quote

import pytest

from core.config import Limits
from server.security import CONTENT_SECURITY_POLICY
from server.settings import SettingsError, from_env
from tests.server.helpers import FAST_2D, FRESH_FAST_2D, SLOW_2D, sql, start, stop, wait_for

# --- settings ------------------------------------------------------------------------------------


def test_the_defaults_and_the_environment_variables():
    defaults = from_env({})
    assert defaults["RATE_LIMIT"] == "10 per minute; 100 per day"
    assert defaults["RATE_LIMIT_STORAGE"] == "memory://"
    assert (defaults["PROXY_HOPS"], defaults["RUN_SECONDS"], defaults["LIMITS"]) == (0, 900.0, Limits())
    config = from_env(
        {"PLAYGROUND_MAX_UNITS": "8", "PLAYGROUND_MAX_EPOCHS_2D": "3", "PLAYGROUND_RUN_SECONDS": "60"}
    )
    assert config["LIMITS"] == Limits(max_units=8, max_epochs_2d=3) and config["RUN_SECONDS"] == 60.0
    with pytest.raises(SettingsError, match="PLAYGROUND_MAX_UNITS='lots' is not valid"):
        from_env({"PLAYGROUND_MAX_UNITS": "lots"})
    with pytest.raises(SettingsError, match="PLAYGROUND_MAX_EPOCHS must be at least 1"):
        from_env({"PLAYGROUND_MAX_EPOCHS": "0"})


def test_a_bad_rate_limit_stops_the_start(make_app):
    with pytest.raises(SettingsError, match="PLAYGROUND_RATELIMIT"):
        make_app(RATE_LIMIT="ten a minute")


def test_config_bounds_from_the_environment_are_enforced(make_app, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_MAX_UNITS", "8")
    monkeypatch.setenv("PLAYGROUND_MAX_EPOCHS_2D", "3")
    client = make_app().test_client()
    too_wide = client.post("/api/runs", json={**FAST_2D, "hidden": [9]})
    assert too_wide.status_code == 400 and too_wide.get_json()["field"] == "hidden"
    too_long = client.post("/api/runs", json={**FAST_2D, "epochs": 4, "hidden": [8]})
    assert too_long.status_code == 400 and too_long.get_json()["field"] == "epochs"
    limits = client.get("/api/datasets").get_json()["limits"]
    assert limits["max_units"] == 8 and limits["max_epochs_2d"] == 3
    spec = client.get("/api/openapi.json").get_json()
    hidden = spec["components"]["schemas"]["Config"]["properties"]["hidden"]
    assert hidden["oneOf"][0]["items"]["maximum"] == 8
    wait_for(client, start(client, {**FAST_2D, "epochs": 3, "hidden": [8]})["id"])


# --- rate limit ----------------------------------------------------------------------------------


def test_a_client_starting_too_many_runs_gets_429_with_a_sentence_and_retry_after(make_app):
    client = make_app(RATE_LIMIT="3 per minute", QUEUE_SIZE=20).test_client()
    for _ in range(5):  # refused configs start nothing, so they do not count
        assert client.post("/api/runs", json={**FAST_2D, "lr": 99}).status_code == 400
    ids = [start(client, FAST_2D)["id"] for _ in range(3)]
    refused = client.post("/api/runs", json=FRESH_FAST_2D)
    assert refused.status_code == 429 and refused.is_json
    assert refused.get_json()["error"].startswith(
        "You have started too many runs: the limit is 3 per 1 minute"
    )
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Another address has its own budget; watching runs is never limited.
    other = client.post("/api/runs", json=FRESH_FAST_2D, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 201
    for run_id in [*ids, other.get_json()["id"]]:
        assert wait_for(client, run_id)["status"] == "done"


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(make_app):
    direct = make_app(RATE_LIMIT="1 per minute").test_client()
    assert (
        direct.post("/api/runs", json=FRESH_FAST_2D, headers={"X-Forwarded-For": "198.51.100.1"}).status_code
        == 201
    )
    spoofed = direct.post("/api/runs", json=FRESH_FAST_2D, headers={"X-Forwarded-For": "198.51.100.2"})
    assert spoofed.status_code == 429  # a made-up header does not buy a fresh budget

    proxied = make_app(RATE_LIMIT="1 per minute", PROXY_HOPS=1).test_client()
    for address in ("198.51.100.1", "198.51.100.2"):  # behind one proxy: the header names the client
        assert (
            proxied.post("/api/runs", json=FRESH_FAST_2D, headers={"X-Forwarded-For": address}).status_code
            == 201
        )
    again = proxied.post(
        "/api/runs", json=FRESH_FAST_2D, headers={"X-Forwarded-For": "10.0.0.9, 198.51.100.1"}
    )
    assert again.status_code == 429  # only the hop the proxy added is trusted


# --- wall-clock cap ------------------------------------------------------------------------------


def test_a_run_over_the_time_limit_stops_keeping_its_epochs(make_app):
    client = make_app(RUN_SECONDS=1.0).test_client()
    run = wait_for(client, start(client, SLOW_2D)["id"], limit=30)
    assert run["status"] == "stopped"
    assert run["reason"] == "Time limit of 1 s reached; the epochs recorded so far are kept."
    assert 1 <= len(run["epochs"]) < SLOW_2D["epochs"]
    assert run["test_acc"] is None


# --- one queue for all processes -----------------------------------------------------------------


def test_the_queue_is_shared_by_all_processes(make_app):
    """Two apps on one file, as two gunicorn workers, one training thread each."""
    first = make_app(WORKERS=1, QUEUE_SIZE=1).test_client()
    second = make_app(WORKERS=1, QUEUE_SIZE=1).test_client()
    a, b = start(first, SLOW_2D), start(first, SLOW_2D)
    # Both posted to the first process, yet both train: the idle second process claimed one.
    for run in (a, b):
        wait_for(first, run["id"], lambda run: run["status"] == "running", limit=10)
    waiting = start(first, SLOW_2D)
    assert second.get(f"/api/runs/{waiting['id']}").get_json()["position"] == 1
    refused = second.post("/api/runs", json=FRESH_FAST_2D)  # the second process's own queue is empty
    assert refused.status_code == 429 and "1 runs are already waiting" in refused.get_json()["error"]
    assert stop(second, a)["status"] == "stopped"
    run = wait_for(second, waiting["id"], lambda run: run["status"] == "running", limit=10)
    assert run.get("position") is None
    for run in (b, waiting):
        assert stop(first, run)["status"] == "stopped"


def test_positions_count_every_waiting_run_in_order(make_app):
    first = make_app(WORKERS=1, QUEUE_SIZE=4).test_client()
    second = make_app(WORKERS=1, QUEUE_SIZE=4).test_client()
    busy = [start(first, SLOW_2D), start(second, SLOW_2D)]
    for run in busy:
        wait_for(first, run["id"], lambda run: run["status"] == "running", limit=10)
    waiting = [start(client, SLOW_2D) for client in (first, second, first)]
    assert [second.get(f"/api/runs/{r['id']}").get_json()["position"] for r in waiting] == [1, 2, 3]
    stop(first, waiting[0])
    assert [first.get(f"/api/runs/{r['id']}").get_json()["position"] for r in waiting[1:]] == [1, 2]
    for run in busy + waiting:
        stop(first, run)


# --- headers, errors, escaping -------------------------------------------------------------------


def test_security_headers_on_every_kind_of_response(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    responses = {
        "page": client.get("/"),
        "run page": client.get(f"/runs/{run_id}"),
        "missing page": client.get("/nowhere"),
        "json": client.get(f"/api/runs/{run_id}"),
        "json error": client.get("/api/runs/AAAAAAAAAAAA"),
        "405": client.delete("/api/runs"),
        "events": client.get(f"/api/runs/{run_id}/events"),
        "csv": client.get(f"/api/runs/{run_id}/metrics.csv"),
        "static": client.get("/static/css/playground.css", headers={"Accept-Encoding": "gzip"}),
        "healthz": client.get("/healthz"),
        "openapi": client.get("/api/openapi.json"),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["X-Frame-Options"] == "DENY", name
        response.close()
    assert (
        "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
        and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    )


def test_no_traceback_reaches_a_client(make_app, monkeypatch):
    app = make_app(TESTING=False, DEBUG=False)
    client = app.test_client()
    store = app.extensions["playground"].store

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail /etc/passwd at line 42")

    monkeypatch.setattr(store, "get_run", broken)
    for path in ("/api/runs/AAAAAAAAAAAA", "/api/runs/AAAAAAAAAAAA/events", "/runs/AAAAAAAAAAAA"):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 500, path
        assert "secret" not in text and "Traceback" not in text and "RuntimeError" not in text, path
        if path.startswith("/api/"):
            assert response.get_json()["error"].startswith("Something went wrong in the server")
        else:
            assert response.mimetype == "text/html" and "Something went wrong" in text
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_user_text_on_pages_is_escaped(app, client):
    page = client.get(f"/?dataset=spiral&hidden={quote(HOSTILE)}&{quote(HOSTILE)}={quote(HOSTILE)}")
    assert page.status_code == 200
    assert_no_markup(page.get_data(as_text=True))

    store = app.extensions["playground"].store
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    sql(
        store.url,
        "UPDATE runs SET status = 'failed', reason = :reason WHERE id = :id",
        reason=HOSTILE,
        id=run_id,
    )
    run_page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert_no_markup(run_page)
    data_page = run_page.split('data-page="', 1)[1].split('"', 1)[0]
    assert "<" not in data_page and '"' not in data_page  # the attribute cannot be broken out of
    assert json.loads(html.unescape(data_page))["run"]["reason"] == HOSTILE


def assert_no_markup(html_text: str) -> None:
    assert HOSTILE not in html_text and "<script>alert" not in html_text and "<img src=x" not in html_text
