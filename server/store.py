"""The run store: SQLite holds every run, its epochs and its latest weights.

Every server process (each gunicorn worker) opens the same file, so any process can answer for any
run. WAL mode lets readers (streams) go on while a trainer writes; the busy timeout makes writers wait
for each other instead of failing. Each thread gets its own connection (sqlite3 connections must not
be shared between threads). Status changes are conditional UPDATEs, so two processes can never both
move the same run (for example "stop" racing "start").

When SQLite cannot answer (the file stays locked longer than the busy timeout, or it is read-only),
every statement on the store's connections raises StoreUnavailable, a plain exception carrying a
sentence that says so (the web server maps it to a 503, never a trace). A failed write is rolled
back whole, so the file is never left half-written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any


class Status(StrEnum):
    """A run's status: queued, then running, then one of the final ones."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


ACTIVE = (Status.QUEUED, Status.RUNNING)
FINAL = tuple(status for status in Status if status not in ACTIVE)
# The active statuses as an SQL list, written into the statements: SQLite uses the partial index
# runs_active only when a query's IN list matches it literally (not with ? parameters).
ACTIVE_SQL = "(" + ", ".join(f"'{status}'" for status in ACTIVE) + ")"
BUSY_TIMEOUT_SECONDS = 10.0
CACHE_KB = 256  # SQLite page cache per connection

BUSY_MESSAGE = "The run store is busy; try again in a moment."
READ_ONLY_MESSAGE = "The run store is read-only at the moment: runs can be viewed, but nothing new is saved."
BROKEN_MESSAGE = "The run store cannot be reached at the moment; try again later."


class StoreUnavailable(Exception):
    """SQLite could not answer (busy, read-only, disk trouble) for now; `message` says so in a sentence
    for whoever asked (the web server answers it with a 503 and Retry-After, see server.errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unavailable(error: sqlite3.OperationalError) -> StoreUnavailable:
    """The sentence for what SQLite said (its messages: 'database is locked', 'attempt to write a
    readonly database', 'disk I/O error', 'unable to open database file', ...)."""
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(BUSY_MESSAGE)
    if "readonly" in text or "read-only" in text:
        return StoreUnavailable(READ_ONLY_MESSAGE)
    return StoreUnavailable(BROKEN_MESSAGE)


class _Connection(sqlite3.Connection):
    """A connection whose failing statements raise StoreUnavailable (also for code outside Store)."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as error:
            raise unavailable(error) from error


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,              -- normalised config, JSON
    query TEXT NOT NULL,               -- its canonical query string
    status TEXT NOT NULL,              -- a Status
    owner TEXT NOT NULL,               -- the process that trains it (see server.recovery)
    total_epochs INTEGER NOT NULL,
    epochs_done INTEGER NOT NULL DEFAULT 0,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    reason TEXT,                       -- why it failed, stopped or was interrupted
    test_loss REAL,
    test_acc REAL,
    token_hash TEXT,                   -- SHA-256 of the run's owner token (server.ownership)
    progress TEXT                      -- the trainer's latest progress within an epoch, JSON
);
CREATE INDEX IF NOT EXISTS runs_active ON runs (status, owner) WHERE status IN {ACTIVE_SQL};
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL,             -- the numbers, JSON
    event BLOB NOT NULL,               -- the SSE epoch event's data (numbers + view), zlib'd JSON
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS weights (  -- the latest weights of each run, overwritten every epoch
    run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    npz BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS owners (   -- one row per server process, with its last heartbeat
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat REAL NOT NULL
);
"""

# Columns added after the first release: (name, SQL type), added to older files when they are opened.
ADDED_COLUMNS = (("token_hash", "TEXT"), ("progress", "TEXT"))


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._connections_lock = threading.Lock()
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()

    # --- connections ---------------------------------------------------------------------------

    def db(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT_SECONDS,
                    isolation_level=None,
                    check_same_thread=False,
                    factory=_Connection,
                )
            except sqlite3.OperationalError as error:
                raise unavailable(error) from error
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a process crash
            # A small page cache per connection: a process may have a hundred threads, each with its
            # connection, and SQLite's default (2 MB each) would grow with the file; the OS caches it.
            connection.execute(f"PRAGMA cache_size = -{CACHE_KB}")
            self._local.connection = connection
            with self._connections_lock:  # close the connections of threads that have ended
                alive = []
                for thread, other in self._connections:
                    if thread.is_alive():
                        alive.append((thread, other))
                    else:
                        other.close()
                self._connections = alive + [(threading.current_thread(), connection)]
        return connection

    def close(self) -> None:
        """Close every connection this store opened (at shutdown, once its threads are done)."""
        with self._connections_lock:
            for _, connection in self._connections:
                connection.close()
            self._connections = []
        self._local = threading.local()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; BEGIN IMMEDIATE takes the write lock up front (no deadlock later)."""
        db = self.db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # all or nothing, also when COMMIT itself failed
                db.execute("ROLLBACK")
            raise

    def _create_schema(self) -> None:
        db = self.db()
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:  # two workers booting at once may both try to switch to WAL
            try:
                db.execute("PRAGMA journal_mode = WAL")
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self._write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            present = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
            for name, sql_type in ADDED_COLUMNS:
                if name not in present:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {name} {sql_type}")

    # --- runs ----------------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        config: dict,
        query: str,
        owner: str,
        total_epochs: int,
        places: int | None = None,
        token_hash: str | None = None,
    ) -> bool:
        """Store a new queued run, unless `places` runs already wait; True if stored. The count and the
        insert share one write lock, so the limit holds across processes. `token_hash` is the hash of
        the run's owner token (server.ownership); get_run() returns it, the API never shows it."""
        with self._write() as db:
            if places is not None:
                count = f"SELECT COUNT(*) FROM runs WHERE status = '{Status.QUEUED}'"
                waiting = db.execute(count).fetchone()[0]
                if waiting >= places:
                    return False
            row = (
                run_id,
                json.dumps(config),
                query,
                Status.QUEUED,
                owner,
                total_epochs,
                time.time(),
                token_hash,
            )
            db.execute(
                "INSERT INTO runs (id, config, query, status, owner, total_epochs, created_at, token_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        return True

    def claim(self, queue_owner: str, owner: str) -> tuple[str | None, int]:
        """Move the oldest run waiting under `queue_owner` to `running` under `owner`: (its id or None,
        runs still waiting). The UPDATE is conditional, so of two processes claiming at once one wins."""
        db = self.db()
        while True:
            row = db.execute(
                f"SELECT id, (SELECT COUNT(*) FROM runs WHERE status = '{Status.QUEUED}' AND owner = ?) "
                f"FROM runs WHERE status = '{Status.QUEUED}' AND owner = ? ORDER BY rowid LIMIT 1",
                (queue_owner, queue_owner),
            ).fetchone()
            if row is None:
                return None, 0
            cursor = db.execute(
                f"UPDATE runs SET status = '{Status.RUNNING}', owner = ?, started_at = ? "
                f"WHERE id = ? AND status = '{Status.QUEUED}'",
                (owner, time.time(), row[0]),
            )
            if cursor.rowcount == 1:
                return row[0], row[1] - 1
            # another process took it (or it was stopped) a moment ago: look again

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        row = self.db().execute("SELECT rowid AS seq, * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return None
        run = dict(row)
        run["config"] = json.loads(run["config"])
        return run

    def status(self, run_id: str) -> tuple[str, int] | None:
        """(status, epochs_done): the cheap question a stream asks every poll."""
        row = self.db().execute("SELECT status, epochs_done FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    def states(self, run_ids: list[str]) -> dict[str, tuple]:
        """(status, epochs_done, queue position or None, progress) of many runs in one query: what
        streams wait for."""
        states: dict[str, tuple] = {}
        for start in range(0, len(run_ids), 500):  # SQLite caps the number of ? parameters
            chunk = run_ids[start : start + 500]
            rows = self.db().execute(
                f"SELECT this.id, this.status, this.epochs_done, CASE WHEN this.status = '{Status.QUEUED}' "
                f"THEN (SELECT COUNT(*) FROM runs AS other WHERE other.status = '{Status.QUEUED}' "
                "AND other.owner = this.owner AND other.rowid <= this.rowid) END, this.progress "
                f"FROM runs AS this WHERE this.id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            states.update((row[0], tuple(row[1:])) for row in rows)
        return states

    def queue_position(self, run_id: str) -> int | None:
        """1 = next to start, counting the queued runs of the same process created before it."""
        row = (
            self.db()
            .execute(
                "SELECT COUNT(*) FROM runs AS other, runs AS this "
                f"WHERE this.id = ? AND this.status = '{Status.QUEUED}' AND other.status = '{Status.QUEUED}' "
                "AND other.owner = this.owner AND other.rowid <= this.rowid",
                (run_id,),
            )
            .fetchone()
        )
        return row[0] or None

    def finish(
        self,
        run_id: str,
        status: Status,
        reason: str | None = None,
        test_loss: float | None = None,
        test_acc: float | None = None,
    ) -> bool:
        """queued/running -> a final status; False if the run had already ended."""
        assert status in FINAL, status
        with self._write() as db:
            cursor = db.execute(
                "UPDATE runs SET status = ?, reason = ?, test_loss = ?, test_acc = ?, finished_at = ? "
                f"WHERE id = ? AND status IN {ACTIVE_SQL}",
                (status, reason, test_loss, test_acc, time.time(), run_id),
            )
        return cursor.rowcount == 1

    def stop_queued(self, run_id: str, reason: str) -> bool:
        """queued -> stopped, whichever process queued it; False if it is not queued (any more)."""
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE runs SET status = '{Status.STOPPED}', reason = ?, finished_at = ? "
                f"WHERE id = ? AND status = '{Status.QUEUED}'",
                (reason, time.time(), run_id),
            )
        return cursor.rowcount == 1

    def request_stop(self, run_id: str) -> None:
        """Ask the owner to stop a running run (the owner may be another process)."""
        with self._write() as db:
            db.execute(
                f"UPDATE runs SET stop_requested = 1 WHERE id = ? AND status = '{Status.RUNNING}'", (run_id,)
            )

    def should_stop(self, run_id: str) -> bool:
        """True when a stop was requested, or the run is no longer running (say, marked interrupted)."""
        row = self.db().execute("SELECT stop_requested, status FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row is None or bool(row[0]) or row[1] != Status.RUNNING

    # --- progress within an epoch (server.broadcast_local.ProgressBoard) -----------------------------

    def set_progress(self, run_id: str, progress: str) -> None:
        """Overwrite a running run's latest progress (JSON text); never part of its epochs."""
        with self._write() as db:
            db.execute(
                f"UPDATE runs SET progress = ? WHERE id = ? AND status = '{Status.RUNNING}'",
                (progress, run_id),
            )

    def progress(self, run_id: str) -> str | None:
        row = self.db().execute("SELECT progress FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else row[0]

    def active_runs(self) -> list[tuple[str, str, str]]:
        """(id, status, owner) of every queued or running run."""
        rows = (
            self.db()
            .execute(f"SELECT id, status, owner FROM runs WHERE status IN {ACTIVE_SQL} ORDER BY rowid")
            .fetchall()
        )
        return [tuple(row) for row in rows]

    # --- epochs and weights --------------------------------------------------------------------

    def add_epoch(self, run_id: str, epoch: int, metrics: dict, event: str, weights: bytes) -> None:
        """One transaction: the epoch's numbers, its SSE event and the weights after it."""
        with self._write() as db:
            db.execute(
                "INSERT INTO epochs (run_id, epoch, metrics, event) VALUES (?, ?, ?, ?)",
                (run_id, epoch, json.dumps(metrics), zlib.compress(event.encode(), 1)),
            )
            db.execute(
                "INSERT OR REPLACE INTO weights (run_id, epoch, npz) VALUES (?, ?, ?)",
                (run_id, epoch, weights),
            )
            db.execute("UPDATE runs SET epochs_done = ? WHERE id = ?", (epoch, run_id))

    def metrics(self, run_id: str) -> list[dict]:
        rows = (
            self.db()
            .execute("SELECT metrics FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
            .fetchall()
        )
        return [json.loads(row[0]) for row in rows]

    def events_after(self, run_id: str, epoch: int) -> list[tuple[int, str]]:
        """(epoch, event data) of every epoch after `epoch`, in order: exactly what a stream missed."""
        rows = (
            self.db()
            .execute(
                "SELECT epoch, event FROM epochs WHERE run_id = ? AND epoch > ? ORDER BY epoch",
                (run_id, epoch),
            )
            .fetchall()
        )
        return [(row[0], zlib.decompress(row[1]).decode()) for row in rows]

    def weights(self, run_id: str) -> tuple[int, bytes] | None:
        """(epoch, .npz bytes) of the latest weights, or None before the first epoch."""
        row = self.db().execute("SELECT epoch, npz FROM weights WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else (row[0], bytes(row[1]))

    def weights_epoch(self, run_id: str) -> int | None:
        row = self.db().execute("SELECT epoch FROM weights WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else row[0]

    # --- owners (server processes) ------------------------------------------------------------

    def beat(self, owner: str, host: str, pid: int) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO owners (owner, host, pid, heartbeat) VALUES (?, ?, ?, ?)",
                (owner, host, pid, time.time()),
            )

    def owners(self) -> dict[str, dict[str, Any]]:
        rows = self.db().execute("SELECT * FROM owners").fetchall()
        return {row["owner"]: dict(row) for row in rows}

    def forget_owner(self, owner: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM owners WHERE owner = ?", (owner,))

    def interrupt(self, owner: str, reason: str) -> list[str]:
        """Mark the queued and running runs of a dead process `interrupted`; their epochs stay."""
        with self._write() as db:
            ids = [
                row[0]
                for row in db.execute(
                    f"SELECT id FROM runs WHERE owner = ? AND status IN {ACTIVE_SQL}", (owner,)
                )
            ]
            db.execute(
                f"UPDATE runs SET status = '{Status.INTERRUPTED}', reason = ?, finished_at = ? "
                f"WHERE owner = ? AND status IN {ACTIVE_SQL}",
                (reason, time.time(), owner),
            )
            db.execute("DELETE FROM owners WHERE owner = ?", (owner,))
        return ids
