"""The two pages: the playground (/) and one run (/runs/<id>), and the 404 page.

Both render a template with one variable, `page`, that the template writes into the body's
data-page attribute (no inline script); the front-end reads everything from there.

The work of a process's first page view (compiling the templates, the datasets' previews, hashing
Plotly for its fingerprint) is done when the app is made (`_warm_up`), so no visitor waits for it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from core.config import DATASETS, FieldError, defaults_for, parse_query
from server import assets
from server.custom_data import find_data
from server.datasets import datasets_json
from server.errors import not_found_page
from server.green import os_thread
from server.run_json import public_run
from server.store import FINAL
from server.sweep_json import public_sweep
from server.sweeps import config_query, sweep_form, sweep_from_url

log = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)


def config_from_url() -> tuple[dict[str, Any], dict[str, str] | None]:
    """The config a shared URL describes (its `sweep` parameter aside: sweep_from_url), or the defaults
    and the reason it was refused. A custom set's settings without their points (not sent yet when the
    address was taken) are shown without them."""
    query = config_query(request.query_string.decode("utf-8", "replace"))
    try:
        store = current_app.extensions["playground"].store
        config = parse_query(query, current_app.config["LIMITS"], find_data(store), partial=True)
    except FieldError as error:
        dataset = request.args.get("dataset", "mnist")
        fallback = defaults_for(dataset if dataset in DATASETS else "mnist")
        return fallback.to_dict(), {"error": error.message, "field": error.field}
    return config.to_dict(), None


def _datasets() -> dict[str, Any]:
    return datasets_json(current_app.config["LIMITS"])


@bp.get("/")
def index() -> str:
    config, error = config_from_url()
    page = {"config": config, "query_error": error, "run_id": None, "run": None, "datasets": _datasets()}
    page["sweep"] = sweep_from_url(config)
    return render_template("index.html", page=page)


@bp.get("/runs/<run_id:run_id>")
def run_page(run_id: str) -> str | Response:
    store = current_app.extensions["playground"].store
    run = store.get_run(run_id)
    if run is None:
        return not_found_page(
            "Run not found", f"There is no run {run_id} here: check the link you were given, or start one."
        )
    public = public_run(store, run)
    epoch, epoch_error = epoch_from_url(run, len(public["epochs"]))
    page = {
        "config": run["config"],
        "query_error": None,
        "run_id": run_id,
        "run": public,
        "epoch": epoch,
        "epoch_error": epoch_error,
        "datasets": _datasets(),
        "sweep": sweep_form(),  # for the sweep form after a Fork
    }
    return render_template("run.html", page=page)


def epoch_from_url(run: dict[str, Any], recorded: int) -> tuple[int | None, dict[str, str] | None]:
    """The epoch a run's link points at (/runs/<id>?epoch=37: the player opens there), or None and,
    for a bad one, the reason (the page then opens at the latest epoch and says why). A run that ended
    has its recorded epochs; one still going may point at any epoch it will train."""
    values = request.args.getlist("epoch")
    if not values:
        return None, None
    if len(values) > 1:
        return None, {"error": "epoch is given more than once.", "field": "epoch"}
    last = recorded if run["status"] in FINAL else run["total_epochs"]
    if last < 1:
        return None, {"error": "this run recorded no epoch.", "field": "epoch"}
    raw = values[0].strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and 1 <= int(raw) <= last):
        which = "the epochs this run recorded" if run["status"] in FINAL else "the epochs this run trains"
        return None, {"error": f"epoch must be a whole number from 1 to {last}, {which}.", "field": "epoch"}
    return int(raw), None


@bp.get("/sweeps/<run_id:sweep_id>")
def sweep_page(sweep_id: str) -> str | Response:
    store = current_app.extensions["playground"].store
    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        return not_found_page(
            "Sweep not found",
            f"There is no sweep {sweep_id} here: check the link you were given, or start one.",
        )
    page = {"sweep": public_sweep(store, sweep), "axes": sweep_form()["axes"], "datasets": _datasets()}
    return render_template("sweep.html", page=page)


@bp.get("/runs/<path:anything>")
def bad_run_page(anything: str) -> Response:
    """/runs/<something that is not a run id> (a cut-off link, say)."""
    return not_found_page(
        "Run not found", "This is not a run's address: run ids are 12 letters, digits, - or _."
    )


@bp.record_once
def _warm_up(state: BlueprintSetupState) -> None:
    """Do the work of a process's first page view while the app is made: compile the templates, make
    the datasets' previews, hash the static files and Plotly (~0.1 s); gzip them in a thread (~0.25 s).

    Only the gzipping runs beside the app: reading .npz files parses their headers with ast, and on
    Python 3.11 two threads parsing at once can fail ("AST constructor recursion depth mismatch",
    CPython gh-106905) while Flask compiles the app's routes."""
    app = state.app
    try:
        for name in app.jinja_env.list_templates():
            app.jinja_env.get_template(name)
        datasets_json(app.config["LIMITS"])
        assets.warm(compress=False)
    except Exception:  # the first page view then does it (and reports the problem)
        log.exception("warming up the page caches failed")
        return
    os_thread(assets.warm, "gzip")  # an OS thread, also under gevent: compressing never holds the loop
