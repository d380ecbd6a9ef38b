"""Run ownership: POST /api/runs answers an owner token once; stopping a run requires it."""

from __future__ import annotations

import hashlib
import hmac

from server import ownership
from tests.server.helpers import SLOW_2D, is_sqlite, owner, sql, start, stop, wait_for


def test_a_new_run_answers_an_unguessable_owner_token_once(client):
    created = start(client, SLOW_2D)
    token = created["owner_token"]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits
    assert token != start(client, SLOW_2D)["owner_token"]
    shown = client.get(f"/api/runs/{created['id']}").get_json()
    assert token not in str(shown) and "token" not in " ".join(shown)
    stop(client, created)


def test_the_store_keeps_only_the_tokens_hash(client, database, tmp_path):
    created = start(client, SLOW_2D)
    stop(client, created)
    rows = sql(database, "SELECT token_hash FROM runs WHERE id = :id", id=created["id"])
    assert rows == [(hashlib.sha256(created["owner_token"].encode()).hexdigest(),)]
    plain = sql(database, "SELECT COUNT(*) FROM runs WHERE token_hash = :t", t=created["owner_token"])
    assert plain == [(0,)]
    if is_sqlite(database):  # the database file and its WAL: the token itself is nowhere
        for path in tmp_path.iterdir():
            if path.is_file():
                assert created["owner_token"].encode() not in path.read_bytes()


def test_stop_without_a_token_is_refused_with_a_sentence_and_the_run_goes_on(client):
    created = start(client, SLOW_2D)
    wait_for(client, created["id"], lambda run: len(run["epochs"]) >= 1)
    response = client.post(f"/api/runs/{created['id']}/stop")
    assert response.status_code == 403
    assert response.get_json()["error"].startswith("Only the browser that started this run can stop it")
    assert client.get(f"/api/runs/{created['id']}").get_json()["status"] == "running"
    stop(client, created)


def test_stop_with_a_wrong_token_is_refused_with_a_sentence_and_the_run_goes_on(client):
    created, other = start(client, SLOW_2D), start(client, SLOW_2D)
    wait_for(client, created["id"], lambda run: len(run["epochs"]) >= 1)
    for headers, sentence in [
        (owner(other), "This owner token does not belong to this run, so it cannot stop it."),
        ({"Authorization": "Bearer not-a-token"}, "This owner token does not belong to this run"),
        ({"Authorization": "Basic abc"}, "Only the browser that started this run can stop it"),
    ]:
        response = client.post(f"/api/runs/{created['id']}/stop", headers=headers)
        assert response.status_code == 403
        assert response.get_json()["error"].startswith(sentence), response.get_json()
    assert client.get(f"/api/runs/{created['id']}").get_json()["status"] == "running"
    stop(client, created)
    stop(client, other)


def test_stop_with_the_right_token_stops_the_run(client):
    created = start(client, SLOW_2D)
    wait_for(client, created["id"], lambda run: len(run["epochs"]) >= 1)
    response = client.post(f"/api/runs/{created['id']}/stop", headers=owner(created))
    assert response.status_code == 200
    assert response.get_json()["status"] == "stopped"


def test_the_token_is_compared_by_its_hash_in_constant_time(client, monkeypatch):
    created = start(client, SLOW_2D)
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def recording(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ownership.hmac, "compare_digest", recording)
    wrong = client.post(f"/api/runs/{created['id']}/stop", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
    stop(client, created)
    stored = hashlib.sha256(created["owner_token"].encode()).hexdigest()
    assert compared == [(hashlib.sha256(b"guess").hexdigest(), stored), (stored, stored)]


def test_anyone_with_the_link_may_still_watch_download_and_predict(client):
    created = start(client, {"dataset": "spiral", "epochs": 2, "points": 60})
    wait_for(client, created["id"])
    run_id = created["id"]
    assert client.get(f"/api/runs/{run_id}").status_code == 200
    assert client.get(f"/api/runs/{run_id}/views").status_code == 200
    assert client.get(f"/api/runs/{run_id}/metrics.csv").status_code == 200
    assert client.get(f"/api/runs/{run_id}/weights.npz").status_code == 200
    assert client.post(f"/api/runs/{run_id}/predict", json={"points": [[0, 0]]}).status_code == 200
