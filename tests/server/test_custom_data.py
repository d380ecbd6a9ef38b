"""Your own points over HTTP (server/custom_data.py): POST /api/data stores a CSV file once per content
and answers its hash (each bad row named by its line and column; 413 past the body or row cap; new point
sets rate-limited per client), GET /api/data/<hash> gives the points back, and a run config
{"dataset": "custom", "data": <hash>} trains on them and replays from the store, also after a restart."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from core.config import Limits
from core.custom_data import parse_csv
from tests.custom_points import xor_csv
from tests.server.helpers import sql, start, wait_for

CSV = xor_csv()  # 60 points, two classes
EXPECTED = parse_csv(CSV)


def upload(client, text: str | bytes, content_type: str = "text/csv"):
    return client.post("/api/data", data=text, headers={"Content-Type": content_type})


def stored(client, text: str = CSV) -> str:
    response = upload(client, text)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()["data"]


def refused(response, status: int, field: str, line: int | None) -> str:
    """A JSON error with a sentence, the field (column) and the line at fault; returns the sentence."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"].endswith(".") and len(body["error"]) > 15, body
    assert (body.get("field"), body.get("line")) == (field, line), body
    return body["error"]


def test_a_good_file_is_stored_once_and_its_points_come_back_by_hash(client, database):
    created = upload(client, CSV)
    assert created.status_code == 201
    assert created.get_json() == {"data": EXPECTED.hash, "points": 60, "classes": 2}
    assert created.headers["Location"] == f"/api/data/{EXPECTED.hash}"
    # The same points again, in another order and spelling, without a header, sent as text/plain:
    # the same hash, 200, and still one row in the store.
    rows = CSV.splitlines()[1:]
    respelled = [
        [f"{float(x):.5f}", f"{float(y):+.4f}", f"{label}.0"]
        for x, y, label in (row.split(",") for row in rows)
    ]
    again = "\r\n".join(",".join(cells) for cells in reversed(respelled))
    repeated = upload(client, again, "text/plain; charset=utf-8")
    assert repeated.status_code == 200 and repeated.get_json() == created.get_json()
    assert sql(database, "SELECT hash, points, classes FROM datasets") == [(EXPECTED.hash, 60, 2)]

    shown = client.get(f"/api/data/{EXPECTED.hash}")
    assert shown.status_code == 200 and "immutable" in shown.headers["Cache-Control"]
    body = shown.get_json()
    assert (body["data"], body["points"], body["classes"]) == (EXPECTED.hash, 60, 2)
    assert body["rows"] == EXPECTED.rows()
    assert sorted(map(tuple, body["rows"])) == sorted(
        (float(x), float(y), int(label)) for x, y, label in (row.split(",") for row in rows)
    )


def test_unknown_and_malformed_hashes_are_404_with_a_sentence(client):
    unknown = client.get("/api/data/" + "0" * 20)
    assert unknown.status_code == 404 and "No stored points have the hash 0000" in unknown.get_json()["error"]
    for path in ("/api/data/abc", "/api/data/" + "G" * 20, "/api/data/../runs"):
        response = client.get(path)
        assert response.status_code == 404 and response.is_json, path


GOOD_ROWS = CSV.splitlines()[1:11]  # lines 2 to 11 after the header


@pytest.mark.parametrize(
    "bad_row, field, sentence",
    [
        ("0.5,0.5,9", "label", "Line 7: label 9 is not a class (0-5)."),
        ("0.5,oops,1", "y", "Line 7: y is 'oops', not a number."),
        ("1e9,0.5,1", "x", "Line 7: x is 1e+09, outside -1000 to 1000."),
        ("0.5,0.5", "body", "Line 7: expected 3 values (x,y,label), found 2."),
    ],
)
@pytest.mark.stores("sqlite")
def test_a_bad_row_is_refused_naming_its_line_and_column_and_nothing_is_stored(
    client, database, bad_row, field, sentence
):
    text = "\n".join(["x,y,label", *GOOD_ROWS[:5], bad_row, *GOOD_ROWS[5:]])
    assert refused(upload(client, text), 400, field, 7) == sentence
    assert sql(database, "SELECT count(*) FROM datasets") == [(0,)]


@pytest.mark.parametrize(
    "body, content_type, starts",
    [
        ("", "text/csv", "The body is empty"),
        ("x,y,label\n", "text/csv", "The file has no points"),
        ("x,y,label\n0,0,0\n1,1,1\n", "text/csv", "The file has 2 points: at least 10"),
        ("\n".join(row[:-1] + "1" for row in GOOD_ROWS), "text/csv", "Every point is of class 1"),
        (b"0,0,0\n\xff\xfe,1,1\n", "text/csv", "The body is not UTF-8"),
        ("a=1&b=2", "application/x-www-form-urlencoded", "Send the CSV text itself"),
    ],
)
@pytest.mark.stores("sqlite")
def test_a_file_that_is_wrong_as_a_whole_is_refused_naming_the_body(client, body, content_type, starts):
    assert refused(upload(client, body, content_type), 400, "body", None).startswith(starts)


@pytest.mark.stores("sqlite")
def test_past_the_row_cap_or_the_body_cap_is_413(make_app):
    client = make_app(LIMITS=Limits(max_points=30), MAX_CONTENT_LENGTH=4096).test_client()
    many = xor_csv(40)
    assert refused(upload(client, many), 413, "body", 32) == (
        "The file has more than 30 points: the limit is 30."
    )
    assert stored(client, xor_csv(30))  # exactly the cap
    big = xor_csv(30) + " " * 5000
    message = refused(upload(client, big), 413, "body", None)
    assert message == "The request body is too large: the limit is 4096 bytes."


@pytest.mark.stores("sqlite")
def test_new_point_sets_are_rate_limited_per_client_but_stored_ones_and_bad_files_are_not(make_app):
    client = make_app(DATA_RATE_LIMIT="2 per minute").test_client()
    for _ in range(3):
        assert upload(client, "0,0,7\n").status_code == 400  # refused files take no space: not counted
    assert upload(client, xor_csv(seed=11)).status_code == 201
    for _ in range(3):
        assert upload(client, xor_csv(seed=11)).status_code == 200  # stored already: not counted
    assert upload(client, xor_csv(seed=12)).status_code == 201
    third = upload(client, xor_csv(seed=13))
    assert third.status_code == 429 and 0 < int(third.headers["Retry-After"]) <= 60
    assert third.get_json()["error"].startswith(
        "You have uploaded too many new point sets: the limit is 2 per 1 minute"
    )
    other = client.post("/api/data", data=xor_csv(seed=13), environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 201  # another address has its own budget
    assert start(client, {"dataset": "spiral", "epochs": 1})  # the runs' budget is another one


# --- runs of the custom dataset --------------------------------------------------------------------


def test_a_custom_run_trains_on_the_points_and_replays_them(client):
    digest = stored(client)
    run = start(client, {"dataset": "custom", "data": digest, "hidden": [8, 8], "epochs": 40, "seed": 3})
    assert run["config"]["data"] == digest and run["config"]["dataset"] == "custom"
    assert run["query"].startswith(f"dataset=custom&data={digest}&hidden=8,8&")
    assert "noise" not in run["config"] and "points" not in run["config"] and "classes" not in run["config"]
    done = wait_for(client, run["id"])
    assert done["status"] == "done" and done["sizes"] == [2, 8, 8, 2]
    assert done["test_acc"] == done["epochs"][-1]["val_acc"]  # the validation points are the test set
    views = client.get(f"/api/runs/{run['id']}/views").get_json()
    train, val = views["points"]["train"], views["points"]["val"]
    assert (len(train), len(val)) == (42, 18) and views["points"]["test"] == val
    assert sorted(map(tuple, train + val)) == sorted(map(tuple, EXPECTED.rows()))
    predicted = client.post(f"/api/runs/{run['id']}/predict", json={"points": [[0.5, 0.5], [-0.5, 0.5]]})
    assert predicted.status_code == 200 and predicted.get_json()["classes"] == ["0", "1"]
    page = client.get(f"/?{run['query']}")
    assert page.status_code == 200 and digest.encode() in page.data
    estimate = client.get(f"/api/estimate?{run['query']}")
    assert estimate.status_code == 200 and estimate.get_json()["epochs"] == 40


@pytest.mark.parametrize(
    "config, field, part",
    [
        ({"dataset": "custom"}, "data", "The custom dataset needs data"),
        ({"dataset": "custom", "data": "0" * 20}, "data", "No stored points have the hash 00000"),
        ({"dataset": "custom", "data": "not-a-hash"}, "data", "data must be the hash of stored points"),
        ({"dataset": "custom", "data": 12345}, "data", "data must be the hash of stored points"),
        ({"dataset": "spiral", "data": "0" * 20}, "data", "does not apply to spiral"),
        ({"dataset": "custom", "data": EXPECTED.hash, "noise": 0.2}, "noise", "does not apply to custom"),
        ({"dataset": "custom", "data": EXPECTED.hash, "classes": 3}, "classes", "does not apply to custom"),
    ],
)
@pytest.mark.stores("sqlite")
def test_a_custom_config_without_stored_points_is_refused_naming_the_field(client, config, field, part):
    stored(client)
    response = client.post("/api/runs", json=config)
    assert response.status_code == 400 and response.get_json()["field"] == field
    assert part in response.get_json()["error"]
    query = "&".join(f"{name}={value}" for name, value in config.items())
    estimate = client.get(f"/api/estimate?{query}")
    assert estimate.status_code == 400 and estimate.get_json()["field"] == field


def test_a_custom_run_replays_on_a_restarted_server_with_an_empty_cache(make_app, database):
    first = make_app()
    client = first.test_client()
    digest = stored(client, xor_csv(seed=21))
    run = start(client, {"dataset": "custom", "data": digest, "epochs": 5})
    assert wait_for(client, run["id"])["status"] == "done"
    first.extensions["playground"].close()
    from server import custom_data

    custom_data._points = type(custom_data._points)(32)  # this process forgets the points it read
    client = make_app().test_client()
    replayed = client.get(f"/api/runs/{run['id']}").get_json()
    assert replayed["status"] == "done" and len(replayed["epochs"]) == 5 and replayed["sizes"][-1] == 2
    with client.get(f"/api/runs/{run['id']}/events") as stream:
        events = stream.get_data(as_text=True)
    assert events.count("event: epoch") == 5 and "event: done" in events
    assert client.get(f"/api/data/{digest}").get_json()["points"] == 60


@pytest.mark.stores("sqlite")
def test_the_procfile_server_stores_points_and_refuses_a_large_body_with_413(procfile_server):
    server = procfile_server(env={"PLAYGROUND_MAX_BODY": "4096"})

    def post(body: bytes) -> tuple[int, dict]:
        request = urllib.request.Request(server.url + "/api/data", data=body, method="POST")
        request.add_header("Content-Type", "text/csv")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, body = post(xor_csv(20).encode())
    assert status == 201 and body["points"] == 20
    status, body = post(xor_csv(20).encode() + b"\n" * 100_000)
    assert status == 413 and body == {
        "error": "The request body is too large: the limit is 4096 bytes.",
        "field": "body",
    }
    status, run = server.request("POST", "/api/runs", {"dataset": "custom", "data": body_hash(xor_csv(20))})
    assert status == 201


def body_hash(text: str) -> str:
    return parse_csv(text).hash
