"""The event stream of one sweep (GET /api/sweeps/<id>/events), read from the store, so any server
process (on any host) can serve any sweep.

It looks at the store every POLL_SECONDS and sends, without ids, a `cell` event whenever a cell's status
changes (server.sweep_json.cell_json without its query; every cell on the first look); with an id, one
`epochs` event per look carrying every cell's new epochs ({cells: {index: {from, val_acc: [...],
val_loss: [...]}}}); and `done` ({status}) once every cell has ended and all its epochs are sent. The id
is the cursor "e0.e1...": the epochs sent of each cell, each only ever growing; a resume with
Last-Event-ID sends the epochs after it (and every cell's status again). If the store cannot answer for
a while, the stream keeps its viewer and looks again at the next poll. Like a run's stream, it ends
after `lifetime` seconds (the browser resumes with Last-Event-ID) and, once the process shuts down
(`closing()`), after one last look.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from core.sweeps import cell_values
from server.sse import RETRY_MS, format_event
from server.store import FINAL, Store, StoreUnavailable
from server.sweep_json import cell_json

POLL_SECONDS = 0.25  # how often a sweep's stream looks at its cells in the store


def parse_cursor(raw: str | None, cells: int) -> list[int]:
    """The epochs a client has of each cell, from Last-Event-ID ("e0.e1..."); none: all zeros.
    ValueError for anything else."""
    if raw is None or not raw.strip():
        return [0] * cells
    parts = raw.strip().split(".")
    if len(parts) != cells or not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
        raise ValueError(raw)
    return [int(part) for part in parts]


def sweep_events(
    store: Store,
    sweep: dict,
    after: list[int],
    heartbeat: float,
    client_gone: Callable[[], bool] = lambda: False,
    poll: float = POLL_SECONDS,
    lifetime: float = float("inf"),
    closing: Callable[[], bool] = lambda: False,
) -> Iterator[str]:
    """The event stream of a sweep, starting after `after` epochs of each cell (see the module docstring)."""
    ends_at = time.monotonic() + lifetime
    yield f"retry: {RETRY_MS}\n\n"
    sent = list(after)
    statuses: list[Any] = [None] * len(sent)
    values = cell_values(list(sweep["vary"].items()))
    last_write = time.monotonic()
    while True:
        try:
            blocks, ended = _look(store, sweep, values, sent, statuses)
        except StoreUnavailable:
            blocks, ended = [], False
        if blocks:
            yield "".join(blocks)
            last_write = time.monotonic()
        if ended:
            yield format_event("done", json.dumps({"status": "done"}))
            return
        if client_gone() or closing() or time.monotonic() >= ends_at:
            return
        if time.monotonic() - last_write >= heartbeat:
            yield ": ping\n\n"
            last_write = time.monotonic()
        time.sleep(poll)


def _look(
    store: Store, sweep: dict, values: list[dict], sent: list[int], statuses: list[Any]
) -> tuple[list[str], bool]:
    """The events the store has that this stream has not sent; updates `sent` and `statuses`. True once
    every cell has ended and all their epochs are sent."""
    run_ids = sweep["cells"]
    states = store.cell_states(run_ids)
    blocks = []
    new: dict[str, dict] = {}
    for i, run_id in enumerate(run_ids):
        state = states.get(run_id)
        if state is not None and state["epochs_done"] > sent[i]:
            metrics = store.metrics_after(run_id, sent[i])
            if metrics:
                new[str(i)] = {
                    "from": sent[i] + 1,
                    "val_acc": [m["val_acc"] for m in metrics],
                    "val_loss": [m["val_loss"] for m in metrics],
                }
                sent[i] += len(metrics)
    if new:
        blocks.append(
            format_event(
                "epochs", json.dumps({"cells": new}, separators=(",", ":")), ".".join(map(str, sent))
            )
        )
    for i, run_id in enumerate(run_ids):
        cell = cell_json(i, run_id, values[i], states.get(run_id))
        if cell["status"] != statuses[i]:
            statuses[i] = cell["status"]
            del cell["query"]
            blocks.append(format_event("cell", json.dumps(cell, separators=(",", ":"))))
    ended = all(status in FINAL for status in statuses)
    return blocks, ended
