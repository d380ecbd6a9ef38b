"""Sweeps over HTTP: `POST /api/sweeps` queues a grid of runs (core.sweeps), `GET /api/sweeps/<id>` shows
it, `GET /api/sweeps/<id>/events` streams it, `POST /api/sweeps/<id>/stop` stops its runs.

POST takes {"config": {a run config}, "vary": {axis: [values]}}: the config is validated as POST
/api/runs validates one (400 naming `config.<field>`), then `vary` (400 naming `vary` or
`vary.<axis>`). The sum of the cells' estimated seconds (core.cost) is admitted or refused in one place,
`admit_sweep`, before any cell exists: past PLAYGROUND_SWEEP_SECONDS it is a 400 naming `vary` with the
estimate. Each cell is an ordinary run submitted through the Training seam (server.training), with the
sweep's owner token; a cell whose config was trained already answers with that run (as POST /api/runs
does), so a sweep's runs are the sweep's own only when it created them (runs.sweep). A sweep counts as
one run against the queue's limit (PLAYGROUND_QUEUE): a full queue refuses it with a 429, and if the
queue fills part-way anyway, the runs queued so far are stopped.

A sweep's JSON is server.sweep_json's, its event stream server.sweep_events'; GET /api/sweeps/estimate
and the playground's sweep form (`sweep_from_url`, server.pages) read the sweep's text, `?sweep=`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, jsonify, request

from core.config import FieldError, parse_config, parse_query
from core.cost import estimate_seconds
from core.sweeps import Sweep, axes_json, parse_sweep_query, parse_vary
from server.api import event_stream, no_cache, read_json, too_many
from server.clients import client_key
from server.custom_data import find_data
from server.errors import ApiError
from server.fair_share import Refused, sweep_admission
from server.ownership import OwnershipError, check_owner, new_token
from server.run_json import new_run_id
from server.sse import disconnect_probe
from server.store import Store
from server.sweep_events import parse_cursor, sweep_events
from server.sweep_json import public_sweep
from server.training import QueueFull, Training

bp = Blueprint("sweeps", __name__, url_prefix="/api")


def _store() -> Store:
    return current_app.extensions["playground"].store


def _training() -> Training:
    return current_app.extensions["playground"].training


def admit_sweep(seconds: float) -> None:
    """Admit a sweep whose cells are estimated to train `seconds` in all, or refuse it (400 naming `vary`,
    with the estimate). The one place a sweep is admitted: called once, before any cell is created."""
    cap = current_app.config["SWEEP_SECONDS"]
    if seconds > cap:
        message = (
            f"This sweep's runs would train for about {_seconds(seconds)} seconds in all, more than the "
            f"{_seconds(cap)} seconds a sweep may take: vary fewer values, or make each run smaller."
        )
        raise ApiError(400, message, "vary")


def _seconds(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def parse_request(body: Any) -> Sweep:
    """{"config": {...}, "vary": {...}} -> a Sweep, or a 400 naming the field."""
    if not isinstance(body, dict):
        raise ApiError(
            400, 'The body must be a JSON object: {"config": {...}, "vary": {"lr": [...]}}.', "body"
        )
    for name in body:
        if name not in ("config", "vary"):
            raise ApiError(
                400,
                f"The field {str(name)[:40]!r} is not part of a sweep: send config and vary.",
                str(name)[:40],
            )
    limits = current_app.config["LIMITS"]
    try:
        config = parse_config(body.get("config", {}), limits, find_data(_store()))
    except FieldError as error:
        field = "config" if error.field == "body" else f"config.{error.field}"
        raise ApiError(400, error.message, field) from None
    if "vary" not in body:
        raise ApiError(
            400,
            'A sweep needs vary: the settings to vary and their values, such as {"lr": [0.01, 0.1]}.',
            "vary",
        )
    try:
        return parse_vary(body["vary"], config, limits)
    except FieldError as error:
        raise ApiError(400, error.message, error.field) from None


def config_query(query: str) -> str:
    """A page's query string without its `sweep` parameter: the config's part."""
    return "&".join(part for part in query.split("&") if part.split("=", 1)[0] != "sweep")


def sweep_query_of(query: str) -> str | None:
    """The `sweep` parameter of a query string (None without one)."""
    values = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "sweep"]
    if len(values) > 1:
        raise FieldError("sweep", "sweep is given more than once.")
    return values[0] if values else None


def sweep_form() -> dict[str, Any]:
    """What the page's sweep form needs: the axis table (core.sweeps) and the cap."""
    limits = current_app.config["LIMITS"]
    return {"axes": axes_json(limits), "cap_seconds": current_app.config["SWEEP_SECONDS"]}


def sweep_from_url(config: dict[str, Any]) -> dict[str, Any]:
    """The sweep form for the playground page: the axis table, and the sweep its URL's `sweep` parameter
    describes ({"vary", "order": its axes in order, "query"}), or the reason it was refused ({"error",
    "field"})."""
    form = sweep_form()
    try:
        text = sweep_query_of(request.query_string.decode("utf-8", "replace"))
        if text is not None:
            given = {name: value for name, value in config.items() if value is not None}
            base = parse_config(given, current_app.config["LIMITS"], find_data(_store()), partial=True)
            sweep = parse_sweep_query(text, base, current_app.config["LIMITS"])
            form.update(vary=sweep.vary_dict(), order=list(sweep.vary_dict()), query=sweep.to_query())
    except FieldError as error:
        form["error"] = {"error": error.message, "field": error.field}
    return form


def _estimate(sweep: Sweep) -> float:
    return sum(estimate_seconds(config) for config in sweep.cells())


@bp.get("/sweeps/estimate")
def estimate() -> Response:
    """How long a sweep's runs would train in all: the config as a query string (as a shared URL
    writes it) and `sweep` (lr:0.01,0.1;hidden:8,16) -> {seconds, cap_seconds, runs}; 400 naming the
    field."""
    query = request.query_string.decode("utf-8", "replace")
    limits = current_app.config["LIMITS"]
    try:
        text = sweep_query_of(query)
        if text is None:
            raise FieldError("sweep", "Give the sweep to estimate, such as sweep=lr:0.01,0.1,1.")
        base = parse_query(config_query(query), limits, find_data(_store()))
        sweep = parse_sweep_query(text, base, limits)
    except FieldError as error:
        raise ApiError(400, error.message, error.field) from None
    body = {
        "seconds": round(_estimate(sweep), 1),
        "cap_seconds": current_app.config["SWEEP_SECONDS"],
        "runs": len(sweep.cell_values()),
        "query": sweep.to_query(),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.post("/sweeps")
def create() -> tuple[Response, int, dict]:
    sweep = parse_request(read_json())
    cells = sweep.cells()
    costs = [estimate_seconds(config) for config in cells]
    seconds = sum(costs)
    admit_sweep(seconds)
    token, token_hash = new_token()
    run_ids, created = _submit(cells, token_hash, costs)
    sweep_id = new_run_id()
    row = {
        "id": sweep_id,
        "config": sweep.base.to_dict(),
        "query": sweep.to_query(),
        "vary": sweep.vary_dict(),
        "cells": run_ids,
        "token_hash": token_hash,
    }
    _store().add_sweep(row, created)
    body = {
        "id": sweep_id,
        "url": f"/sweeps/{sweep_id}",
        "events": f"/api/sweeps/{sweep_id}/events",
        "runs": run_ids,
        "query": sweep.to_query(),
        "vary": sweep.vary_dict(),
        "seconds": round(seconds, 1),
        "owner_token": token,
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 201, {"Location": f"/api/sweeps/{sweep_id}"}


def _submit(cells: list, token_hash: str, costs: list[float]) -> tuple[list[str], list[str]]:
    """Submit every cell: (the cells' run ids, the ids of the runs created, not reused). A sweep counts as
    one run against the queue's limit: its first new run needs a place, the later ones may go past the
    limit by the sweep's runs queued before them. Against the client's fair share (server.fair_share) it
    is one run started and going, and the sum of its cells' estimated seconds. A full queue or a refused
    share stops the runs queued so far (another process may fill the queue in between) and answers 429."""
    run_ids: list[str] = []
    created: list[str] = []
    admit = sweep_admission(current_app.config, client_key(), costs)
    for config, cost in zip(cells, costs, strict=True):
        try:
            run_id, reused = _training().submit(
                config.to_dict(),
                config.to_query(),
                config.epochs,
                token_hash,
                reuse=True,
                beyond=len(created),
                admit=admit.run(cost),
            )
        except (QueueFull, Refused) as error:
            for run_id in created:
                _training().stop(run_id)
            raise too_many(error) from None
        run_ids.append(run_id)
        if not reused:
            created.append(run_id)
    return run_ids, created


def get_sweep(sweep_id: str) -> dict:
    sweep = _store().get_sweep(sweep_id)
    if sweep is None:
        raise ApiError(404, f"No sweep with id {sweep_id}: it never existed or was removed.")
    return sweep


@bp.get("/sweeps/<run_id:sweep_id>")
def show(sweep_id: str) -> Response:
    return no_cache(jsonify(public_sweep(_store(), get_sweep(sweep_id))))


@bp.post("/sweeps/<run_id:sweep_id>/stop")
def stop(sweep_id: str) -> Response:
    """Stop the queued and running runs the sweep created; only its owner may (403)."""
    sweep = get_sweep(sweep_id)
    try:
        check_owner(sweep["token_hash"], request.headers.get("Authorization"), "stop")
    except OwnershipError as error:
        raise ApiError(403, str(error).replace("run", "sweep")) from None
    for run_id in _store().active_sweep_runs(sweep_id):
        _training().stop(run_id)
    return no_cache(jsonify(public_sweep(_store(), sweep)))


@bp.get("/sweeps/<run_id:sweep_id>/events")
def events(sweep_id: str) -> Response:
    sweep = get_sweep(sweep_id)
    raw = request.headers.get("Last-Event-ID", request.args.get("last_event_id"))
    try:
        after = parse_cursor(raw, len(sweep["cells"]))
    except ValueError:
        message = (
            f"Last-Event-ID must be {len(sweep['cells'])} epoch counts joined by dots, as the stream sent it."
        )
        raise ApiError(400, message, "Last-Event-ID") from None
    return event_stream(
        sweep_events(
            _store(),
            sweep,
            after,
            heartbeat=current_app.config["SSE_HEARTBEAT"],
            client_gone=disconnect_probe(request.environ),
            lifetime=current_app.config["STREAM_SECONDS"],
            closing=current_app.extensions["playground"].closing.is_set,
        )
    )
