"""The two pages: the playground (/) and one run (/runs/<id>).

Both render a template with one variable, `page`, that the template writes into the body's
data-page attribute (no inline script); the front-end reads everything from there.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request

from core.config import ConfigError, defaults_for, parse_config, parse_query
from server.api import public_run
from server.catalog import datasets_json
from server.errors import not_found_page

bp = Blueprint("pages", __name__)


def config_from_url() -> tuple[dict[str, Any], dict[str, str] | None]:
    """The config a shared URL describes, or the defaults and the reason it was refused."""
    query = request.query_string.decode("utf-8", "replace")
    try:
        config = parse_config(parse_query(query).to_dict(), current_app.config["LIMITS"])
    except ConfigError as error:
        dataset = request.args.get("dataset", "mnist")
        fallback = defaults_for(
            dataset if dataset in [d["name"] for d in _datasets()["datasets"]] else "mnist"
        )
        return fallback.to_dict(), {"error": error.message, "field": error.field}
    return config.to_dict(), None


def _datasets() -> dict[str, Any]:
    return datasets_json(current_app.config["LIMITS"])


@bp.get("/")
def index() -> str:
    config, error = config_from_url()
    page = {"config": config, "query_error": error, "run_id": None, "run": None, "datasets": _datasets()}
    return render_template("index.html", page=page)


@bp.get("/runs/<run_id:run_id>")
def run_page(run_id: str) -> str | Response:
    run = current_app.extensions["playground"].store.get_run(run_id)
    if run is None:
        return not_found_page("Run not found", "There is no run with this id: check the link you were given.")
    page = {
        "config": run["config"],
        "query_error": None,
        "run_id": run_id,
        "run": public_run(run),
        "datasets": _datasets(),
    }
    return render_template("run.html", page=page)
