"""Property-based fuzzing of the whole API from its own OpenAPI description (schemathesis).

For every operation schemathesis generates requests that fit the description (valid configs, run
ids, inputs) and requests that break it (wrong types, out-of-range numbers, unknown fields, bad
headers), and the app answers them in-process. Every answer must be: no 5xx, a status and content type
the description lists, a body that fits the described schema, and every 4xx JSON with a sentence.

The app has tiny limits and a stopped runner, so valid configs are accepted and wait in the queue
(then 429) instead of training for minutes; the known runs were trained before the runner stopped.
POST /api/data takes CSV text: besides what schemathesis makes of its string schema, half of its valid
requests carry rows drawn here (good ones, and some past the row cap or with a bad label); the real
points' hash stands in for a generated one half the time, like the real runs' ids.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.config import Limits
from tests.custom_points import xor_csv
from tests.server.helpers import start, wait_for

# The API's answers to bad input do not depend on the store: fuzzed on SQLite only.
pytestmark = pytest.mark.stores("sqlite")

# Requests per operation and mode (valid, invalid); predict's 784-pixel bodies are slow to generate.
EXAMPLES = 130
EXAMPLES_PREDICT = 60
TINY = Limits(
    max_hidden_layers=2,
    max_units=4,
    max_epochs=1,
    max_epochs_2d=2,
    max_batch_size=64,
    max_points=60,
    max_classes=3,
)


def error_is_a_json_sentence(ctx, response, case) -> None:
    """Every 4xx answer is JSON {"error": a sentence, "field"?: a name}."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.text
        body = response.json()
        assert isinstance(body.get("error"), str) and len(body["error"]) >= 10, body
        assert body["error"].rstrip()[-1] in ".?!", body
        assert "Traceback" not in response.text
        assert set(body) <= {"error", "field", "line"}, body


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_is_a_json_sentence,
]


def test_generated_requests_never_break_the_api(make_app):
    app = make_app(LIMITS=TINY, WORKERS=1, QUEUE_SIZE=3, TESTING=False)
    client = app.test_client()
    points = client.post("/api/data", data=xor_csv(40), content_type="text/csv").get_json()["data"]
    created = [
        start(client, {"dataset": "spiral", "epochs": 2, "points": 60, "hidden": [4]}),
        start(client, {"dataset": "mnist", "epochs": 1, "hidden": [4], "batch_size": 64}),
        start(client, {"dataset": "custom", "data": points, "epochs": 2, "hidden": [4]}),
    ]
    known = {run["id"]: run["owner_token"] for run in created}
    for run_id in known:
        assert wait_for(client, run_id)["status"] == "done"
    sweep = client.post(
        "/api/sweeps",
        json={"config": {"dataset": "xor", "epochs": 1, "points": 60}, "vary": {"lr": [0.1, 1]}},
    ).get_json()
    for run_id in sweep["runs"]:
        assert wait_for(client, run_id)["status"] == "done"
    known_sweeps = {sweep["id"]: sweep["owner_token"]}
    app.extensions["playground"].training.shutdown()  # from now on new runs only wait (or get 429)

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 19, [op.label for op in operations]  # all but the description itself
    sent = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            began = time.monotonic()
            statuses: Counter[int] = Counter()
            owned = known_sweeps if "{sweep_id}" in operation.path else known
            count = fuzz(operation, mode, owned, points, statuses)
            seconds = time.monotonic() - began
            print(f"{operation.label} {mode}: {count} requests in {seconds:.1f} s, statuses {dict(statuses)}")
            sent += count
            if operation.path.endswith("/stop") and mode is GenerationMode.POSITIVE:
                assert statuses[200] and statuses[403], statuses  # owners stopped, others were refused

    print(f"\n{sent} generated requests")
    assert sent >= 2000


# CSV rows: coordinates within the limit, labels mostly within TINY's classes (one in 60 is not a class),
# from too few to past its row cap.
LABELS = st.sampled_from((0, 1, 2) * 20 + (9,))
ROW = st.tuples(st.floats(-1000, 1000, allow_nan=False), st.floats(-1000, 1000, allow_nan=False), LABELS)
CSV_BODIES = st.none() | st.lists(ROW, min_size=8, max_size=TINY.max_points + 3).map(
    lambda rows: "x,y,label\n" + "".join(f"{x!r},{y!r},{label}\n" for x, y, label in rows)
)


# Sweep texts within TINY's limits (and some past them), for GET /api/sweeps/estimate's `sweep`.
SWEEP_TEXTS = st.none() | st.sampled_from(
    (
        "lr:0.1,1",
        "hidden:1,2,4;lr:0.01,3",
        "layers:1,2;activation:relu,tanh",
        "batch_size:8,64",
        "l2:0,0.5",
        "hidden:9",
    )
)


def fuzz(operation, mode: GenerationMode, known: dict[str, str], points: str, statuses: Counter[int]) -> int:
    """Send up to EXAMPLES generated requests to one operation, counting the answers' statuses; returns
    how many were sent. `known`: the ids of real runs (or sweeps, for the sweeps' operations) and their
    owner tokens; `points`: a real hash."""
    sent = 0
    run_ids = st.sampled_from(sorted(known)) | st.from_regex(r"\A[A-Za-z0-9_-]{12}\Z")
    hashes = st.just(points) | st.from_regex(r"\A[0-9a-f]{20}\Z")

    @settings(
        max_examples=EXAMPLES_PREDICT if operation.path.endswith("/predict") else EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every time: a failure is reproducible
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        run_id=run_ids,
        owner=st.booleans(),
        data_hash=hashes,
        csv=CSV_BODIES,
        sweep=SWEEP_TEXTS,
    )
    def one_request(case, run_id, owner, data_hash, csv, sweep):
        nonlocal sent
        parameter = next(
            (name for name in ("run_id", "sweep_id") if name in (case.path_parameters or {})), None
        )
        if parameter and mode is GenerationMode.POSITIVE:
            case.path_parameters[parameter] = run_id  # often a real run (or sweep): the 200 paths too
            if owner and run_id in known and operation.path.endswith("/stop"):  # its owner, half the time
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {known[run_id]}"}
        if "data_hash" in (case.path_parameters or {}) and mode is GenerationMode.POSITIVE:
            case.path_parameters["data_hash"] = data_hash  # often real points
        if operation.path == "/api/data" and mode is GenerationMode.POSITIVE and csv is not None:
            case.body = csv  # rows of points, good and bad
        if operation.path == "/api/sweeps/estimate" and mode is GenerationMode.POSITIVE and sweep is not None:
            case.query = {"dataset": "xor", **(case.query or {}), "sweep": sweep}  # sweeps that fit, often
        response = case.call(headers={"Accept-Encoding": "identity"})  # plain bodies to check
        sent += 1
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        one_request()
    except Unsatisfiable:  # nothing to break (no parameters, no body): nothing to send
        assert mode is GenerationMode.NEGATIVE and sent == 0
    return sent
