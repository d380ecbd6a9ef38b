"""Hand-written hostile input: each gets the right 4xx, as JSON with a sentence naming the field at fault,
and nothing is started or served that should not be."""

from __future__ import annotations

import json

import pytest

from tests.server.helpers import FAST_2D, start, wait_for

# Input checks happen before the store is reached: on SQLite only.
pytestmark = pytest.mark.stores("sqlite")


def refused(response, status: int, field: str | None) -> str:
    """Assert a JSON error with a sentence (and the field); returns the sentence."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json, response.headers["Content-Type"]
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"].endswith(".") and len(body["error"]) > 15
    assert body.get("field") == field, body
    assert "Traceback" not in body["error"]
    return body["error"]


def post_raw(client, data: bytes | str, content_type: str = "application/json"):
    return client.post("/api/runs", data=data, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"dataset": "spiral", "epochs": "ten"}, "epochs"),
        ({"dataset": "spiral", "epochs": 2.5}, "epochs"),
        ({"dataset": "spiral", "lr": True}, "lr"),
        ({"dataset": "spiral", "hidden": {"layers": 2}}, "hidden"),
        ({"dataset": "spiral", "hidden": [8, "wide"]}, "hidden"),
        ({"dataset": "spiral", "seed": None}, "seed"),
        ({"dataset": 7}, "dataset"),
        ({"dataset": "imagenet"}, "dataset"),
        ({"dataset": "spiral", "init": ["he"]}, "init"),
    ],
)
def test_wrong_types(client, config, field):
    refused(client.post("/api/runs", json=config), 400, field)


@pytest.mark.parametrize("body", ["[1, 2]", '"spiral"', "42", "null", "true"])
def test_a_body_that_is_not_an_object(client, body):
    assert "JSON object" in refused(post_raw(client, body), 400, "body")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(client, constant):
    message = refused(post_raw(client, f'{{"dataset": "spiral", "lr": {constant}}}'), 400, "body")
    assert constant in message


def test_a_number_that_overflows_to_infinity(client):
    assert "finite" in refused(post_raw(client, '{"dataset": "spiral", "lr": 1e999}'), 400, "lr")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "spiral", "epochs": 10**30}, "epochs"),
        ({"dataset": "spiral", "seed": 10**400}, "seed"),
        ({"dataset": "spiral", "hidden": [10**18]}, "hidden"),
        ({"dataset": "spiral", "points": 1e308}, "points"),
        ({"dataset": "spiral", "batch_size": 2**63}, "batch_size"),
    ],
)
def test_huge_numbers(client, body, field):
    refused(client.post("/api/runs", json=body), 400, field)


def test_a_number_with_thousands_of_digits(client):
    refused(post_raw(client, '{"dataset": "spiral", "epochs": 1' + "0" * 5000 + "}"), 400, "body")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "spiral", "hidden": [-8]}, "hidden"),
        ({"dataset": "spiral", "hidden": [0]}, "hidden"),
        ({"dataset": "spiral", "hidden": []}, "hidden"),
        ({"dataset": "spiral", "batch_size": -5}, "batch_size"),
        ({"dataset": "spiral", "epochs": 0}, "epochs"),
        ({"dataset": "spiral", "points": -100}, "points"),
        ({"dataset": "spiral", "lr": -0.1}, "lr"),
        ({"dataset": "blobs", "classes": -3}, "classes"),
    ],
)
def test_negative_and_zero_sizes(client, body, field):
    refused(client.post("/api/runs", json=body), 400, field)


@pytest.mark.parametrize("body", [b"", b"   ", b"\n"])
def test_an_empty_body(client, body):
    assert "empty" in refused(post_raw(client, body), 400, "body")


def test_a_10_mb_body_is_413(client):
    body = json.dumps({"dataset": "spiral", "pad": "x" * 10_000_000}).encode()
    message = refused(post_raw(client, body), 413, "body")
    assert "1000000 bytes" in message
    big_predict = b'{"points": [' + b"[0.5, 0.5], " * 900_000 + b"[0, 0]]}"
    run_id = start(client, FAST_2D)["id"]
    refused(
        client.post(f"/api/runs/{run_id}/predict", data=big_predict, content_type="application/json"),
        413,
        "body",
    )
    wait_for(client, run_id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset": "spiral", "colour": "red"}, "colour"),
        ({"dataset": "mnist", "noise": 0.2}, "noise"),
        ({"dataset": "spiral", "__proto__": {"admin": True}}, "__proto__"),
    ],
)
def test_unknown_fields(client, body, field):
    refused(client.post("/api/runs", json=body), 400, field)


def test_non_utf8_bytes(client):
    assert "UTF-8" in refused(post_raw(client, b'{"dataset": "spir\xff\xfeal"}'), 400, "body")
    assert "UTF-8" in refused(post_raw(client, '{"dataset": "spiral"}'.encode("utf-16")), 400, "body")


def test_a_lone_surrogate_escape_is_just_a_wrong_value(client):
    refused(post_raw(client, '{"dataset": "\\ud800"}'), 400, "dataset")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("dataset=spiral&epochs=5", "application/x-www-form-urlencoded"),
        (
            "--x\r\nContent-Disposition: form-data; name=dataset\r\n\r\nspiral\r\n--x--",
            "multipart/form-data; boundary=x",
        ),
        ("<config><dataset>spiral</dataset></config>", "application/xml"),
    ],
)
def test_a_body_in_another_format(client, data, content_type):
    assert "not valid JSON" in refused(post_raw(client, data, content_type), 400, "body")


def test_json_sent_with_the_wrong_content_type_is_read_as_json(client):
    """curl -d sends JSON as form data unless told otherwise: the body decides, not the header."""
    response = post_raw(client, json.dumps(FAST_2D), "text/plain")
    assert response.status_code == 201
    wait_for(client, response.get_json()["id"])


def test_deeply_nested_json(client):
    refused(post_raw(client, "[" * 100_000 + "]" * 100_000), 400, "body")


# --- run ids: path traversal and friends ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/../../etc/passwd",
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/%2e%2e/%2e%2e/server/api.py",
        "/api/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/events",
        "/api/runs/....//....//etc/passwd",
        "/api/runs/%252e%252e%252fetc",
        "/api/runs/AAAAAAAAAAA%00/weights.npz",
        "/api/runs/AAAA\\..\\AAAAAA/metrics.csv",
        "/api/runs/" + "A" * 5000,
        "/api/runs/AAAAAAAAAAAA/../../../etc/passwd",
    ],
)
def test_path_traversal_in_run_ids_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.is_json, path
    assert response.get_json()["error"].endswith(".")
    assert "root:" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../server/api.py",
        "/static/..%2fserver%2fapi.py",
        "/static/%2e%2e/server/api.py",
        "/vendor/..%2f..%2fetc%2fpasswd",
        "/runs/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_on_pages_and_files_serves_nothing(client, path):
    response = client.get(path)
    assert response.status_code == 404, path
    text = response.get_data(as_text=True)
    assert "def " not in text and "root:" not in text


def test_a_run_id_with_traversal_in_a_post(client):
    response = client.post("/api/runs/..%2F..%2Fetc/stop")
    assert response.status_code == 404 and response.is_json


# --- Last-Event-ID -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "-5", "99999999999999999999", "1e3", "0x10", "3.0", "٣", "1; DROP TABLE"]
)
def test_a_garbage_last_event_id_is_400_naming_it(client, value):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.get(
        f"/api/runs/{run_id}/events", headers={"Last-Event-ID": value.encode().decode("latin-1")}
    )
    assert "epoch number" in refused(response, 400, "Last-Event-ID")
    response = client.get(f"/api/runs/{run_id}/events?last_event_id={value}")
    refused(response, 400, "Last-Event-ID")


def test_an_empty_last_event_id_means_from_the_start(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    response = client.get(f"/api/runs/{run_id}/events", headers={"Last-Event-ID": "  "})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.count("event: epoch") == FAST_2D["epochs"] and "event: done" in text


# --- other routes --------------------------------------------------------------------------------


def test_bad_predict_inputs_name_the_field(client):
    run_id = start(client, FAST_2D)["id"]
    wait_for(client, run_id)
    url = f"/api/runs/{run_id}/predict"
    refused(client.post(url, json={"points": [[0, "x"]]}), 400, "points")
    refused(
        client.post(url, data=b'{"points": [[1e999, 0]]}', content_type="application/json"), 400, "points"
    )
    refused(client.post(url, json={"pixels": [[0] * 784]}), 400, "pixels")
    refused(client.post(url, json={"points": []}), 400, "points")
    refused(client.post(url, data=b'{"points": [[NaN, 0]]}', content_type="application/json"), 400, "body")
    refused(client.post(url, data=b"", content_type="application/json"), 400, "body")


def test_methods_and_routes_that_do_not_exist(client):
    refused(client.put("/api/runs", json=FAST_2D), 405, None)
    refused(client.get("/api/nothing-here"), 404, None)
    refused(client.delete("/api/runs/AAAAAAAAAAAA"), 405, None)
