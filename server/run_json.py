"""A run as the API and the run page show it: run ids, stored configs back into Configs (a custom
dataset's points found by their hash in the store), the public
JSON of a stored run (`public_run`, read from the store it is given) and the warning a finished run's
curves earn (`run_warning`, core.verdict's judgement; the run JSON and the `done` event carry it)."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.config import Config, defaults_for
from core.network import parameter_count
from core.verdict import judge
from server.custom_data import find_data
from server.store import Status, Store
from server.store_budget import EXPIRED_MESSAGE, EXPIRED_PARTS

# secrets.token_urlsafe(9): 72 random bits in 12 URL-safe characters.
RUN_ID = r"[A-Za-z0-9_-]{12}"
RUN_ID_RE = re.compile(RUN_ID)


def new_run_id() -> str:
    return secrets.token_urlsafe(9)


def config_from_dict(data: dict[str, Any], store: Store) -> Config:
    """A stored (already validated and normalised) config back into a Config; a custom dataset's `data`
    hash back into its points, from the store (LookupError if they are gone)."""
    values = {name: tuple(value) if isinstance(value, list) else value for name, value in data.items()}
    if "data" in values:
        points = find_data(store)(values["data"])
        if points is None:
            raise LookupError(f"the points {values['data']} of a stored config are not in the store")
        values["data"] = points
    return replace(defaults_for(values["dataset"]), **values)


def iso(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, e.g. 2025-01-31T12:00:00.123Z."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def urls(run_id: str) -> dict[str, str]:
    return {
        "url": f"/runs/{run_id}",
        "events": f"/api/runs/{run_id}/events",
        "weights_url": f"/api/runs/{run_id}/weights.npz",
        "metrics_url": f"/api/runs/{run_id}/metrics.csv",
    }


def run_warning(run: dict[str, Any], epochs: list[dict], store: Store) -> dict[str, str] | None:
    """{code, message, hint} when a `done` run's curves show it did not learn (core.verdict), else None."""
    if run["status"] != Status.DONE:
        return None
    warning = judge(config_from_dict(run["config"], store), epochs)
    return None if warning is None else warning.to_dict()


def public_run(store: Store, run: dict[str, Any]) -> dict[str, Any]:
    """The public view of a stored run (GET /api/runs/<id>): its row, its epochs, the warning its curves
    earned once done and, while it waits, its place in the queue."""
    config = config_from_dict(run["config"], store)
    sizes = config.layer_sizes
    epochs = store.metrics(run["id"])
    data = {
        "id": run["id"],
        "status": run["status"],
        "warning": run_warning(run, epochs, store),
        "config": run["config"],
        "query": run["query"],
        "epochs": epochs,
        "total_epochs": run["total_epochs"],
        "created_at": iso(run["created_at"]),
        "started_at": iso(run["started_at"]),
        "finished_at": iso(run["finished_at"]),
        "reason": run["reason"],
        "test_acc": run["test_acc"],
        "test_loss": run["test_loss"],
        "sizes": sizes,
        "parameter_count": parameter_count(sizes),
        # Parts dropped under the store budget (server.store_budget): the curves stay.
        "expired": list(EXPIRED_PARTS) if run["expired_at"] is not None else [],
        "expired_message": EXPIRED_MESSAGE if run["expired_at"] is not None else None,
        "sweep": run["sweep"],  # the sweep that created it, if one did
        **urls(run["id"]),
    }
    if run["status"] == Status.QUEUED:
        data["position"] = store.queue_position(run["id"])
    return data
