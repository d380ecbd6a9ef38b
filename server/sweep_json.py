"""A sweep as the API and its page show it: `public_sweep` (GET /api/sweeps/<id>), each cell's values,
run, status and latest validation figures (`cell_json`, which the sweep's stream sends too), read from
the store it is given."""

from __future__ import annotations

from typing import Any

from core.sweeps import cell_values
from server.run_json import config_from_dict
from server.store import ACTIVE, Status, Store


def cell_json(index: int, run_id: str, values: dict, state: dict | None) -> dict[str, Any]:
    """One cell: its values, its run and the run's state (Store.cell_states; None: the run is gone)."""
    metrics = (state or {}).get("metrics") or {}
    return {
        "cell": index,
        "values": values,
        "run": run_id,
        "status": state["status"] if state else Status.FAILED,
        "epochs": state["epochs_done"] if state else 0,
        "val_acc": metrics.get("val_acc"),
        "val_loss": metrics.get("val_loss"),
        "query": state["query"] if state else None,
    }


def sweep_status(cells: list[dict]) -> str:
    """running while any cell is queued or running, then done."""
    return "running" if any(cell["status"] in ACTIVE for cell in cells) else "done"


def public_sweep(store: Store, sweep: dict) -> dict[str, Any]:
    """The public view of a stored sweep (GET /api/sweeps/<id>)."""
    states = store.cell_states(sweep["cells"])
    cells = [
        cell_json(i, run_id, values, states.get(run_id))
        for i, (run_id, values) in enumerate(
            zip(sweep["cells"], cell_values(list(sweep["vary"].items())), strict=True)
        )
    ]
    return {
        "id": sweep["id"],
        "url": f"/sweeps/{sweep['id']}",
        "events": f"/api/sweeps/{sweep['id']}/events",
        "status": sweep_status(cells),
        "config": sweep["config"],
        "query": sweep["query"],
        "address": f"/?{config_from_dict(sweep['config'], store).to_query()}&sweep={sweep['query']}",
        "vary": sweep["vary"],
        "axes": list(sweep["vary"]),
        "cells": cells,
    }
