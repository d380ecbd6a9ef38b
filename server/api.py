"""The JSON API under /api: start, watch, stop and inspect runs; list the datasets.

Run ids in URLs are matched by a strict pattern (the `run_id` converter), so anything else is a 404
before it can reach the store.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from core.config import FieldError, parse_config, parse_query
from core.cost import estimate
from core.training import METRICS
from server import run_views
from server.clients import client_key
from server.compression import accepts_gzip, gzip_stream
from server.custom_data import find_data
from server.datasets import datasets_json
from server.errors import ApiError
from server.fair_share import Refused, admission, too_costly
from server.openapi import openapi_spec
from server.ownership import OwnershipError, check_owner, new_token
from server.ratelimit import limiter, reads_per_client
from server.request_body import read_body
from server.run_json import config_from_dict, public_run, urls
from server.sse import disconnect_probe, parse_last_event_id, run_events
from server.store import ACTIVE, Status, Store
from server.store_budget import EXPIRED_MESSAGE
from server.stream_cap import STREAM_RETRY_AFTER_SECONDS
from server.training import RETRY_AFTER_SECONDS, QueueFull, Training

bp = Blueprint("api", __name__, url_prefix="/api")

WEIGHTS_CHUNK = 64 * 1024  # bytes of a weights download read from the store at a time
STOP_WAIT_SECONDS = 3.0  # POST .../stop answers once the run has ended, or after this long
# The metrics.csv columns: every epoch's numbers (core.training.METRICS), then the L2 penalty (runs with
# L2) and the test figures (the last epoch), empty where an epoch has none.
CSV_COLUMNS = (*METRICS, "l2_penalty", "test_loss", "test_acc")


def store() -> Store:
    return current_app.extensions["playground"].store


def training() -> Training:
    return current_app.extensions["playground"].training


def _reject_constant(name: str) -> None:
    raise ApiError(400, f"The body contains {name}, which is not a JSON number; send finite numbers.", "body")


def read_json() -> Any:
    """The request body as JSON: strict UTF-8, no NaN/Infinity, bounded by MAX_CONTENT_LENGTH (413)."""
    raw = read_body()
    if not raw.strip():
        raise ApiError(400, "The body is empty: send a JSON object.", "body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The body is not UTF-8 text; send JSON.", "body") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ApiError(400, "The body's JSON is nested too deeply.", "body") from None
    except ValueError as error:
        where = (
            f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        )
        raise ApiError(400, f"The body is not valid JSON{where}.", "body") from None


def too_many(error: Refused | QueueFull) -> ApiError:
    """The 429 of a run (or sweep) not accepted: the client's fair share, or a full queue; its
    Retry-After is the one its sentence says."""
    if isinstance(error, Refused):
        return ApiError(429, error.message, headers={"Retry-After": str(error.retry_after)})
    message = f"The server is busy: {error} Try again in {RETRY_AFTER_SECONDS} s."
    return ApiError(429, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def get_run(run_id: str) -> dict:
    run = store().get_run(run_id)
    if run is None:
        raise ApiError(404, f"No run with id {run_id}: it never existed or was removed.")
    return run


def require_owner(run: dict, action: str) -> None:
    """403 with a sentence unless the request carries the run's owner token."""
    try:
        check_owner(run["token_hash"], request.headers.get("Authorization"), action)
    except OwnershipError as error:
        raise ApiError(403, str(error)) from None


def no_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/runs")
def start_run() -> tuple[Response, int, dict]:
    """A new run (201), or the stored run of the same config (200, "reused": true) unless `fresh`.
    A config estimated past RUN_COST is a 400; the client's fair share (server.fair_share: runs per
    window, runs going, the hourly budget) is counted in the transaction that stores the run: 429."""
    body = read_json()
    fresh = pop_fresh(body)
    try:
        config = parse_config(body, current_app.config["LIMITS"], find_data(store()))
    except FieldError as error:
        raise ApiError(400, error.message, error.field) from None
    expected = estimate(config)
    refusal = too_costly(config, expected, current_app.config["RUN_COST"])
    if refusal is not None:
        raise ApiError(400, *refusal)
    token, token_hash = new_token()
    try:
        run_id, reused = training().submit(
            config.to_dict(),
            config.to_query(),
            config.epochs,
            token_hash,
            reuse=not fresh,
            admit=admission(current_app.config, client_key(), [expected.seconds]),
        )
    except (Refused, QueueFull) as error:
        raise too_many(error) from None
    links = urls(run_id)
    body = {
        "id": run_id,
        "url": links["url"],
        "events": links["events"],
        "config": config.to_dict(),
        "query": config.to_query(),
        "status": store().status(run_id)[0] if reused else Status.QUEUED,
        "reused": reused,
    }
    if not reused:
        body["owner_token"] = token  # answered this once; the store keeps its hash
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    if reused:  # the caller does not own a run it did not start: no token
        return response, 200, {}
    return response, 201, {"Location": f"/api/runs/{run_id}"}


def pop_fresh(body: Any) -> bool:
    """Take `fresh` out of a POST /api/runs body (it asks for a new run; it is not part of the config):
    true trains anew, false or absent may answer with a stored run of the same config."""
    if not isinstance(body, dict) or "fresh" not in body:
        return False
    fresh = body.pop("fresh")
    if not isinstance(fresh, bool):
        raise ApiError(
            400, "fresh must be true (train anew) or false (answer with a stored identical run).", "fresh"
        )
    return fresh


@bp.get("/runs/<run_id:run_id>")
def show_run(run_id: str) -> Response:
    return no_cache(jsonify(public_run(store(), get_run(run_id))))


@bp.get("/runs/<run_id:run_id>/events")
def events(run_id: str) -> Response:
    get_run(run_id)
    raw = request.headers.get("Last-Event-ID", request.args.get("last_event_id"))
    try:
        after = parse_last_event_id(raw)
    except ValueError:  # browsers only send back the ids we sent: this one is made up
        raise ApiError(
            400, "Last-Event-ID must be an epoch number (a whole number).", "Last-Event-ID"
        ) from None
    pg = current_app.extensions["playground"]
    return event_stream(
        run_events(
            pg.store,
            pg.broadcast,
            run_id,
            after,
            heartbeat=current_app.config["SSE_HEARTBEAT"],
            fallback=current_app.config["SSE_FALLBACK"],
            client_gone=disconnect_probe(request.environ),
            lifetime=current_app.config["STREAM_SECONDS"],
        )
    )


def event_stream(stream: Iterable[str]) -> Response:
    """An event-stream response that holds one of the client's stream places (server.stream_cap) until
    it ends; 429 with a sentence when the client holds its cap already. Every SSE route answers so."""
    cap = current_app.extensions["playground"].stream_cap
    held = cap.open(client_key(), stream)
    if held is None:
        close = getattr(stream, "close", None)
        if close is not None:
            close()  # never started: nothing to give back
        raise ApiError(
            429,
            f"This client has {cap.limit} event streams open already, the most one client may"
            f" hold; close one (a tab) or try again in {STREAM_RETRY_AFTER_SECONDS} s.",
            headers={"Retry-After": str(STREAM_RETRY_AFTER_SECONDS)},
        )
    response = Response(held, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx and friends: do not hold events back
    return response


@bp.get("/runs/<run_id:run_id>/timeline")
def timeline(run_id: str) -> Response:
    """Every recorded epoch of a run in one JSON answer, {"epochs": [...]}, each exactly the data of its
    `epoch` event on the stream (metrics, layers, the grid or confusion matrix, neurons): what the
    page's player needs to scrub a recorded run, in one gzipped request instead of a stream replay.
    Streamed from the store a page of epochs at a time (gzipped as it goes), so a long run's timeline
    never sits whole in memory. Revalidates by ETag (the run's status and epoch count)."""
    state = store().status(run_id)
    if state is None:
        get_run(run_id)  # the 404
    status, count = state
    etag = f"{run_id}-{count}-{status}"
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = streamed(_timeline_chunks(store().event_pages(run_id, 0)), "application/json")
    response.set_etag(etag, weak=True)  # weak: the same for its gzipped form
    return no_cache(response)


def streamed(chunks: Iterator[bytes], mimetype: str) -> Response:
    """A generator response, gzipped as it goes for clients that take it (server.compression)."""
    zipped = accepts_gzip()
    response = Response(gzip_stream(chunks) if zipped else chunks, mimetype=mimetype)
    if zipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def _timeline_chunks(pages: Iterator[list[tuple[int, str]]]) -> Iterator[bytes]:
    yield b'{"epochs":['
    separator = ""
    for page in pages:
        yield (separator + ",".join(data for _, data in page)).encode()
        separator = ","
    yield b"]}"


@bp.post("/runs/<run_id:run_id>/stop")
def stop_run(run_id: str) -> Response:
    """Stop a queued or running run; for a run that already ended, a no-op. Answers with the run.
    Only its owner may: the request carries the run's owner token (server.ownership), else 403."""
    run = get_run(run_id)
    require_owner(run, "stop")
    if run["status"] in ACTIVE:
        training().stop(run_id)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while store().status(run_id)[0] in ACTIVE and time.monotonic() < deadline:
            time.sleep(0.02)
        run = get_run(run_id)
    return no_cache(jsonify(public_run(store(), run)))


@bp.post("/runs/<run_id:run_id>/predict")
@limiter.shared_limit(reads_per_client, scope="reads")
def predict(run_id: str) -> Response:
    run = get_run(run_id)
    config = config_from_dict(run["config"], store())
    try:
        x = run_views.parse_inputs(read_json(), config)
    except FieldError as error:
        raise ApiError(400, error.message, error.field) from None
    refuse_expired(run)
    epoch = store().weights_epoch(run_id)
    if epoch is None:
        raise ApiError(409, "This run has no weights yet: it can predict once its first epoch is done.")
    net = run_views.network(run_id, epoch, lambda: store().weights(run_id)[1])
    return jsonify({**run_views.predict(net, config, x), "epoch": epoch})


@bp.get("/runs/<run_id:run_id>/views")
@limiter.shared_limit(reads_per_client, scope="reads")
def views(run_id: str) -> Response:
    """The run's views: read from the store once it ended (computed once, server.run_views), computed
    at most once per epoch per process while it trains."""
    run = get_run(run_id)
    refuse_expired(run)
    response = Response(run_views.views_json(store(), run), mimetype="application/json")
    return no_cache(response)


def refuse_expired(run: dict) -> None:
    """410 with the sentence the page shows when the run's weights (and what is drawn from them) expired
    under the store budget (server.store_budget)."""
    if run["expired_at"] is not None:
        raise ApiError(410, EXPIRED_MESSAGE)


@bp.get("/runs/<run_id:run_id>/weights.npz")
def weights(run_id: str) -> Response:
    """The latest weights, streamed from the store WEIGHTS_CHUNK bytes at a time (each read when the
    one before was sent). A run still training may replace them mid-download (a new epoch): the
    download then ends short of its Content-Length, and the client sees it cut off."""
    refuse_expired(get_run(run_id))
    stored = store().weights_size(run_id)
    if stored is None:
        raise ApiError(409, "This run has no weights yet: they are saved after its first epoch.")
    epoch, size = stored
    runs = store()  # the generator runs outside the app context
    first = runs.weights_chunk(run_id, epoch, 0, WEIGHTS_CHUNK)
    if first is None:  # replaced (or expired) a moment ago
        raise ApiError(409, "This run's weights changed while they were read; download them again.")

    def chunks() -> Iterator[bytes]:
        yield first
        for start in range(WEIGHTS_CHUNK, size, WEIGHTS_CHUNK):
            chunk = runs.weights_chunk(run_id, epoch, start, WEIGHTS_CHUNK)
            if chunk is None:
                return
            yield chunk

    response = Response(chunks(), mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="run-{run_id}-epoch-{epoch}.npz"'
    return no_cache(response)


@bp.get("/runs/<run_id:run_id>/metrics.csv")
def metrics_csv(run_id: str) -> Response:
    """Every epoch's numbers as CSV, streamed a page of epochs at a time."""
    get_run(run_id)
    pages = store().metrics_pages(run_id)

    def rows() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for page in pages:
            writer.writerows(page)
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
        if out.tell():
            yield out.getvalue().encode()

    response = streamed(rows(), "text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="run-{run_id}-metrics.csv"'
    return no_cache(response)


@bp.get("/estimate")
def estimate_run() -> Response:
    """How long the config in the query string would train (core.cost), what the wall-clock cap
    (RUN_SECONDS) lets it reach, and POST /api/runs's refusal when it is past what one run may cost
    (RUN_COST): {seconds, cap_seconds, epochs, epochs_within_cap, cost_limit, refusal}. The page asks
    as its controls change; the query is validated like a shared URL (400 naming the field)."""
    try:
        query = request.query_string.decode("utf-8", "replace")
        config = parse_query(query, current_app.config["LIMITS"], find_data(store()))
    except FieldError as error:
        raise ApiError(400, error.message, error.field) from None
    expected = estimate(config)
    cap = current_app.config["RUN_SECONDS"]
    refusal = too_costly(config, expected, current_app.config["RUN_COST"])
    body = {
        "seconds": round(expected.seconds, 1),
        "cap_seconds": cap,
        "epochs": config.epochs,
        "epochs_within_cap": expected.epochs_within(cap),
        "cost_limit": current_app.config["RUN_COST"],
        "refusal": refusal and {"error": refusal[0], "field": refusal[1]},
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API, with the bounds this server enforces."""
    response = jsonify(openapi_spec(current_app.config["LIMITS"], current_app.config["MAX_CONTENT_LENGTH"]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/datasets")
def datasets() -> Response:
    response = jsonify(datasets_json(current_app.config["LIMITS"]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
