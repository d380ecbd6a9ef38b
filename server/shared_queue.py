"""One queue for all server processes, kept in the store.

A new run waits as `queued` with the owner QUEUE_OWNER instead of the process that accepted it, so:
- the queue limit counts every waiting run, whichever gunicorn worker took the POST;
- queue positions (store.queue_position and store.states count the queued runs of one owner) are
  positions in the one global queue;
- any process with a free training thread claims the oldest waiting run with a conditional UPDATE
  (only one process can move a run out of `queued`), so no run waits behind a busy worker while
  another is idle.

The queue is kept alive like a process: every process writes a heartbeat for QUEUE_OWNER under a host
name no process has (so server.owners judges it by its heartbeat alone). When every process is gone
for longer than the staleness limit, the next process to start interrupts the waiting runs, as it
does the runs of any dead process.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from server.store import Store, unavailable

QUEUE_OWNER = "queue:shared"
QUEUE_HOST = "(every process)"


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """SQLite busy or read-only: the store's StoreUnavailable (a 503 with a sentence), as in Store."""

    @wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except sqlite3.OperationalError as error:
            raise unavailable(error) from error

    return guarded


@_guarded
def enqueue(store: Store, run_id: str, config: dict, query: str, total_epochs: int, places: int) -> bool:
    """Store a new queued run unless `places` runs already wait; atomic across processes."""
    db = store.db()
    db.execute("BEGIN IMMEDIATE")  # the write lock: no other process counts or inserts meanwhile
    try:
        waiting = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'queued'").fetchone()[0]
        if waiting >= places:
            db.execute("ROLLBACK")
            return False
        db.execute(
            "INSERT INTO runs (id, config, query, status, owner, total_epochs, created_at) "
            "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
            (run_id, json.dumps(config), query, QUEUE_OWNER, total_epochs, time.time()),
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return True


@_guarded
def claim(store: Store, owner: str) -> tuple[str | None, int]:
    """Move the oldest waiting run to `running` under `owner`; (its id or None, runs still waiting)."""
    db = store.db()
    while True:
        row = db.execute(
            "SELECT id, (SELECT COUNT(*) FROM runs WHERE status = 'queued' AND owner = ?) FROM runs "
            "WHERE status = 'queued' AND owner = ? ORDER BY rowid LIMIT 1",
            (QUEUE_OWNER, QUEUE_OWNER),
        ).fetchone()
        if row is None:
            return None, 0
        cursor = db.execute(
            "UPDATE runs SET status = 'running', owner = ?, started_at = ? "
            "WHERE id = ? AND status = 'queued'",
            (owner, time.time(), row[0]),
        )
        if cursor.rowcount == 1:
            return row[0], row[1] - 1
        # another process took it (or it was stopped) a moment ago: look again


@_guarded
def waiting(store: Store) -> int:
    return store.db().execute("SELECT COUNT(*) FROM runs WHERE status = 'queued'").fetchone()[0]


def keep_alive(store: Store) -> None:
    store.beat(QUEUE_OWNER, QUEUE_HOST, 0)
