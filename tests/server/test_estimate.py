"""GET /api/estimate: a config's expected run time (core.cost) and what the wall-clock cap lets it
reach, validated like a shared URL."""

from __future__ import annotations

from core.config import parse_query
from core.cost import estimate

SLOWEST = "dataset=mnist&hidden=512,512,512,512&batch_size=1&epochs=100"


def test_a_config_that_fits_the_cap(client):
    response = client.get("/api/estimate?dataset=spiral&epochs=200")
    assert response.status_code == 200
    body = response.get_json()
    expected = estimate(parse_query("dataset=spiral&epochs=200")).seconds
    assert body == {
        "seconds": round(expected, 1),
        "cap_seconds": 900.0,
        "epochs": 200,
        "epochs_within_cap": 200,
        "cost_limit": 300.0,
        "refusal": None,
    }


def test_a_config_past_the_cap_says_where_it_would_stop(make_app):
    client = make_app(RUN_SECONDS=600).test_client()
    body = client.get(f"/api/estimate?{SLOWEST}").get_json()
    assert body["seconds"] > 600 and body["cap_seconds"] == 600
    assert body["epochs_within_cap"] == estimate(parse_query(SLOWEST)).epochs_within(600)
    assert 0 < body["epochs_within_cap"] < 100


def test_fields_left_out_take_the_defaults(client):
    assert client.get("/api/estimate").get_json() == client.get("/api/estimate?dataset=mnist").get_json()


def test_a_bad_field_answers_400_naming_it(client):
    for query, field in [
        ("dataset=mnist&epochs=101", "epochs"),
        ("dataset=spiral&lr=fast", "lr"),
        ("dataset=mnist&noise=0.1", "noise"),
        ("hidden=1,2,3,4,5", "hidden"),
    ]:
        response = client.get(f"/api/estimate?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["field"] == field
        assert response.get_json()["error"].endswith(".")
