"""The run store: every run, its epochs and its latest weights, and the point sets people uploaded, in
SQLite or in PostgreSQL.

One code path, SQLAlchemy Core (no ORM), serves both databases:
- SQLite (the default: a file, `PLAYGROUND_DB`) for one host. Every server process opens the same file;
  WAL lets readers (streams) go on while a trainer writes, and the busy timeout makes writers wait for
  each other. Each OS thread keeps a connection of its own: opening the file is cheap, and a shared pool
  would add a check-out to every call. Under gevent the greenlets of a process's event loop share their
  thread's connection: a store call never yields to another greenlet halfway (SQLite's calls are C calls
  that do no gevent I/O), so their calls take turns. The schema is created (migrated) on first start.
- PostgreSQL (`DATABASE_URL`) for any number of hosts. The threads of a process share a small pool of
  connections (a server accepts a limited number). The schema comes from the Alembic migrations
  (`python3 -m server.migrate`, the Procfile's release: line); a database behind them is refused.

Status changes are conditional UPDATEs, so two processes can never both move the same run (say, "stop"
racing "start"). Writes are explicit transactions: BEGIN IMMEDIATE on SQLite (the file's write lock up
front, so no deadlock later), BEGIN on PostgreSQL. Creating a run counts the waiting runs and the
client's own (its fair share, server.fair_share) and inserts under one queue lock, so the limits hold
across processes: on SQLite the write lock itself; on PostgreSQL a transaction-level advisory lock
(pg_advisory_xact_lock), since SELECT ... FOR UPDATE locks only rows that exist and could not stop two
processes from each inserting one more run.

When the database cannot answer (SQLite: the file locked past the busy timeout, read-only, disk trouble;
PostgreSQL: unreachable, restarting, a lock or the pool waited on too long), every statement raises
StoreUnavailable with a sentence saying so; the server answers it with a 503. A failed write is rolled
back whole, so nothing is ever half-written.

The two calls an event stream makes at every wake-up, status() and events_after(), run statements
compiled once on the driver's own connection: SQLAlchemy's work per call would cost several times the
query itself on SQLite (bench/store_calls.py).
"""

from __future__ import annotations

import json
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from server.green import thread_local


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
# The runs a new run of the same config may answer with (its numbers are or will be the same); a run
# that ended stopped, failed or interrupted is not one.
REUSABLE = (Status.DONE, *ACTIVE)

BUSY_TIMEOUT_SECONDS = 10.0  # how long a statement waits for a lock (or a pooled connection)
CACHE_KB = 64  # SQLite page cache per connection
POOL_SIZE, POOL_OVERFLOW = 4, 4  # PostgreSQL connections per process: kept open, and more at busy moments
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL: how long to try reaching the server
OUTAGE_SECONDS = 60.0  # how long a trainer's write waits for the store to come back (patiently())

BUSY_MESSAGE = "The run store is busy; try again in a moment."
READ_ONLY_MESSAGE = "The run store is read-only at the moment: runs can be viewed, but nothing new is saved."
BROKEN_MESSAGE = "The run store cannot be reached at the moment; try again later."
FULL_MESSAGE = (
    "The server's storage is full: runs can be viewed, but nothing new is saved until space is freed;"
    " try again later."
)
FULL_RETRY_AFTER_SECONDS = 60  # a full disk frees up as old runs expire (server.store_budget), not at once

# PostgreSQL's error codes (SQLSTATE) that mean "busy": lock_not_available (lock_timeout),
# query_canceled (statement_timeout), deadlock_detected, serialization_failure, too_many_connections.
BUSY_STATES = {"55P03", "57014", "40P01", "40001", "53300"}
READ_ONLY_STATE = "25006"  # read_only_sql_transaction (a standby, default_transaction_read_only)
FULL_STATES = {"53100"}  # disk_full ("could not extend file": no space left on device)


class StoreUnavailable(Exception):
    """The database cannot answer for now (busy, read-only, unreachable); `message` says so in a sentence
    for whoever asked (the web server answers it with a 503 and Retry-After, see server.errors)."""

    retry_after = 2  # seconds: when asking again may work

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreFull(StoreUnavailable):
    """The disk (or the database's size limit) is full: nothing can be written until space is freed."""

    retry_after = FULL_RETRY_AFTER_SECONDS

    def __init__(self) -> None:
        super().__init__(FULL_MESSAGE)


class SchemaOutOfDate(Exception):
    """The PostgreSQL database's schema is not the one this code expects; the message says what to run."""


def unavailable(error: BaseException) -> StoreUnavailable | None:
    """The StoreUnavailable for a database error that means "try again later", or None for any other
    error (a bug, which must surface as one). `error` is SQLAlchemy's or the driver's exception."""
    if isinstance(error, sa.exc.TimeoutError):  # every pooled connection stayed busy
        return StoreUnavailable(BUSY_MESSAGE)
    driver_error = getattr(error, "orig", None) or error
    state = getattr(driver_error, "sqlstate", None) or ""  # psycopg's; sqlite3's errors have none
    if state in BUSY_STATES:
        return StoreUnavailable(BUSY_MESSAGE)
    if state in FULL_STATES or "database or disk is full" in str(driver_error).lower():  # SQLITE_FULL
        return StoreFull()
    if state == READ_ONLY_STATE:
        return StoreUnavailable(READ_ONLY_MESSAGE)
    if getattr(error, "connection_invalidated", False):  # SQLAlchemy saw the connection die
        return StoreUnavailable(BROKEN_MESSAGE)
    if not isinstance(error, sa.exc.OperationalError) and state[:2] not in ("08", "57"):
        return None  # 08: connection exceptions; 57: the server shutting down or starting up
    # SQLite says it in words: 'database is locked', 'attempt to write a readonly database',
    # 'disk I/O error', 'unable to open database file'; PostgreSQL's connection failures have no code.
    text = str(driver_error).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(BUSY_MESSAGE)
    if "readonly" in text or "read-only" in text:
        return StoreUnavailable(READ_ONLY_MESSAGE)
    return StoreUnavailable(BROKEN_MESSAGE)


T = TypeVar("T")


def patiently(call: Callable[[], T], limit: float = OUTAGE_SECONDS) -> T:
    """call(), and again every half second while the store is unavailable, for up to `limit` seconds:
    what a training run writes rides out a database restart or fail-over instead of being lost.
    A full store (StoreFull) is not waited for: space comes back only as old runs expire.
    """
    deadline = time.monotonic() + limit
    while True:
        try:
            return call()
        except StoreUnavailable as error:
            if isinstance(error, StoreFull) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def database_url(value: str) -> sa.URL:
    """The SQLAlchemy URL of a PostgreSQL URL as hosting platforms hand them out (postgres://,
    postgresql://) or as SQLAlchemy writes them; ValueError for anything else."""
    try:
        url = sa.make_url(value.strip())
    except sa.exc.ArgumentError:
        raise ValueError(f"{value!r} is not a database URL") from None
    if url.drivername not in ("postgres", "postgresql", "postgresql+psycopg") or not url.host:
        raise ValueError(f"{url.drivername}:// is not a PostgreSQL URL")
    return url.set(drivername="postgresql+psycopg")


def engine_url(database: str | Path | sa.URL) -> sa.URL:
    """The SQLAlchemy URL of what a Store opens: a SQLite file's path, or a PostgreSQL URL."""
    if isinstance(database, sa.URL):
        return database
    if isinstance(database, Path) or "://" not in database:
        return sa.URL.create("sqlite", database=str(Path(database).resolve()))
    return database_url(database)


# --- the schema (server/migrations creates it; tests/server/test_migrations.py keeps the two equal) ---

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("config", sa.Text, nullable=False),  # normalised config, JSON
    sa.Column("query", sa.Text, nullable=False),  # its canonical query string
    sa.Column("status", sa.Text, nullable=False),  # a Status
    sa.Column("owner", sa.Text, nullable=False),  # the process that trains it (see server.recovery)
    sa.Column("total_epochs", sa.Integer, nullable=False),
    sa.Column("epochs_done", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("stop_requested", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("created_at", sa.Double, nullable=False),  # unix seconds; with id, the queue's order
    sa.Column("started_at", sa.Double),
    sa.Column("finished_at", sa.Double),
    sa.Column("reason", sa.Text),  # why it failed, stopped or was interrupted
    sa.Column("test_loss", sa.Double),
    sa.Column("test_acc", sa.Double),
    sa.Column("token_hash", sa.Text),  # SHA-256 of the run's owner token (server.ownership)
    sa.Column("progress", sa.Text),  # the trainer's latest progress within an epoch, JSON
    sa.Column("client", sa.Text),  # who started it (server.clients): its fair share and its queue turn
    sa.Column("cost", sa.Double, nullable=False, server_default=sa.text("0")),  # estimated seconds
    sa.Column("turn", sa.Integer),  # its round in the queue (queue_places); NULL: before round-robin
    sa.Column("expired_at", sa.Double),  # when its heavy parts expired (server.store_budget), or null
    sa.Column("sweep", sa.Text),  # the sweep that created it, if one did
    sa.Index("runs_status", "status", "owner"),
    sa.Index("runs_query", "query", "created_at"),  # the runs of one config, newest last (reusable_run)
    sa.Index("runs_client", "client", "created_at"),  # one client's recent runs (create_run's admit)
    sa.Index("runs_turn", "turn"),  # the round being served (_next_turn)
    sa.Index("runs_sweep", "sweep"),
)

epochs = sa.Table(
    "epochs",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("metrics", sa.Text, nullable=False),  # the numbers, JSON
    sa.Column(
        "event", sa.LargeBinary, nullable=False
    ),  # the SSE epoch event's data (numbers + view), zlib'd JSON
)

weights = sa.Table(  # the latest weights of each run, overwritten every epoch
    "weights",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("npz", sa.LargeBinary, nullable=False),
)

views = sa.Table(  # the views of a run that ended (server.run_views), computed once
    "views",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("epoch", sa.Integer),  # the epoch of the weights they were drawn from (null: none)
    sa.Column("data", sa.LargeBinary, nullable=False),  # the JSON answer of GET .../views, zlib'd
)

datasets = sa.Table(  # your own points (core.custom_data), stored once per content: runs name them by hash
    "datasets",
    metadata,
    sa.Column("hash", sa.Text, primary_key=True),  # of the canonical CSV
    sa.Column("csv", sa.Text, nullable=False),  # the canonical CSV: x,y,label rows
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("classes", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
)

sweeps = sa.Table(  # a grid of runs varying one or two settings of a base config (core.sweeps)
    "sweeps",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("config", sa.Text, nullable=False),  # the base config, JSON
    sa.Column("query", sa.Text, nullable=False),  # the canonical sweep query (core.sweeps.Sweep.to_query)
    sa.Column("vary", sa.Text, nullable=False),  # {axis: [values]}, JSON
    sa.Column("cells", sa.Text, nullable=False),  # the cells' run ids in grid order, JSON
    sa.Column("token_hash", sa.Text),  # SHA-256 of the sweep's owner token (server.ownership)
    sa.Column("created_at", sa.Double, nullable=False),
)

owners = sa.Table(  # one row per server process, with its last heartbeat
    "owners",
    metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("heartbeat", sa.Double, nullable=False),
)


QUEUE_ORDER = (runs.c.created_at, runs.c.id)


def queue_places() -> sa.Subquery:
    """(id, owner, place) of every waiting run: its place in its owner's queue (1 = next to start),
    by round (`turn`, see Store._next_turn), then age. Clients take turns: a client's first waiting
    run is behind at most one run of each other client, however many runs those clients queued."""
    place = sa.func.row_number().over(
        partition_by=runs.c.owner, order_by=(sa.func.coalesce(runs.c.turn, 0), *QUEUE_ORDER)
    )
    waiting = sa.select(runs.c.id, runs.c.owner, place.label("place")).where(runs.c.status == Status.QUEUED)
    return waiting.subquery("places")


class ClientRun(NamedTuple):
    """One run of a client, as its fair share counts it (server.fair_share)."""

    created_at: float
    cost: float
    status: Status
    started_at: float | None
    finished_at: float | None
    sweep: str | None  # the sweep that created it: a sweep's runs count as one run started and going


class Admission(Protocol):
    """Decides inside create_run's transaction whether a client may start a run (server.fair_share)."""

    client: str  # who asks (server.clients)
    cost: float  # the new run's estimated seconds
    lookback: float  # seconds of the client's past runs it reads (and every run still going)

    def __call__(self, runs: list[ClientRun]) -> None:
        """Raise to refuse: the transaction rolls back and nothing is stored."""
        ...


STATUS = sa.select(runs.c.status, runs.c.epochs_done).where(runs.c.id == sa.bindparam("run_id"))
EVENTS_AFTER = (
    sa.select(epochs.c.epoch, epochs.c.event)
    .where(epochs.c.run_id == sa.bindparam("run_id"), epochs.c.epoch > sa.bindparam("epoch"))
    .order_by(epochs.c.epoch)
)
TURN_MEMORY_SECONDS = 86400.0  # a client's runs older than this were served long ago (_next_turn)
# OFFSET as a parameter too (always 0): SQLite's compiler adds one to every LIMIT.
EVENT_PAGE = EVENTS_AFTER.limit(sa.bindparam("page", type_=sa.Integer)).offset(
    sa.bindparam("skip", type_=sa.Integer)
)
PAGE_EPOCHS = 20  # epochs read at a time by a replay, a timeline or a CSV download (bounded memory)
QUEUE_LOCK_KEY = 0x706C6179  # PostgreSQL advisory lock held while a run is counted into the queue


class _Compiled:
    """A statement compiled once for one database, run on the driver's connection without SQLAlchemy's
    per-call work (a hot path's cost stays the query's own)."""

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.order = compiled.positiontup if dialect.positional else None

    def rows(self, driver_connection: Any, params: dict[str, Any]) -> list[tuple]:
        values = params if self.order is None else [params[name] for name in self.order]
        return driver_connection.execute(self.sql, values).fetchall()  # sqlite3's and psycopg's shortcut


class Store:
    def __init__(self, database: str | Path | sa.URL) -> None:
        """`database`: a SQLite file's path, or a PostgreSQL URL (see database_url())."""
        self.url = url = engine_url(database)
        self.sqlite = url.get_backend_name() == "sqlite"
        if self.sqlite:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = _sqlite_engine(url) if self.sqlite else _postgres_engine(url)
        # Every statement's (and connection's) failure that means "try again later" -> StoreUnavailable.
        sa.event.listen(
            self.engine,
            "handle_error",
            lambda context: unavailable(context.sqlalchemy_exception or context.original_exception),
        )
        self._insert = sqlite.insert if self.sqlite else postgresql.insert  # both have ON CONFLICT
        self._status = _Compiled(STATUS, self.engine.dialect)
        self._events_after = _Compiled(EVENTS_AFTER, self.engine.dialect)
        self._event_page = _Compiled(EVENT_PAGE, self.engine.dialect)
        self._local = thread_local()  # an OS thread's own, also under gevent
        self._connections: list[tuple[weakref.ref, sa.Connection]] = []
        self._connections_lock = threading.Lock()
        self._prepare_schema()

    # --- connections ---------------------------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A connection for one call: SQLite, this thread's own (kept open); PostgreSQL, one of the pool's."""
        if self.sqlite:
            yield self._thread_connection()
            return
        try:
            connection = self.engine.connect()
        except sa.exc.TimeoutError as error:
            raise unavailable(error) from error
        with connection:
            yield connection

    def _thread_connection(self) -> sa.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # The thread's token lives in its thread-local namespace, which goes when the thread ends
            # (also an OS thread under gevent, which threading.Thread objects do not track).
            token = self._local.token = _ThreadToken()
            connection = self._local.connection = self.engine.connect()
            with self._connections_lock:  # close the connections of threads that have ended
                alive = []
                for thread, other in self._connections:
                    if thread() is not None:
                        alive.append((thread, other))
                    else:
                        other.close()
                self._connections = alive + [(weakref.ref(token), connection)]
        return connection

    def close(self) -> None:
        """Close every connection this store opened (at shutdown, once its threads are done)."""
        with self._connections_lock:
            for _, connection in self._connections:
                connection.close()
            self._connections = []
        self._local = thread_local()
        self.engine.dispose()

    @contextmanager
    def _write(self, queue_lock: bool = False) -> Iterator[sa.Connection]:
        """A write transaction, all or nothing; `queue_lock` serialises it with every other process's
        queue changes (SQLite's BEGIN IMMEDIATE serialises every write anyway)."""
        with self.connection() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
            try:
                if queue_lock and not self.sqlite:
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(QUEUE_LOCK_KEY)))
                yield connection
                connection.exec_driver_sql("COMMIT")
            except BaseException:
                try:  # also when COMMIT itself failed; a no-op (or an error) when nothing is open
                    connection.exec_driver_sql("ROLLBACK")
                except Exception:
                    pass
                raise

    def _fast(self, statement: _Compiled, **params: Any) -> list[tuple]:
        """Rows of a precompiled statement, straight from the driver (errors mapped as SQLAlchemy would)."""
        if self.sqlite:  # this thread's connection, without a context manager's cost
            return self._fast_on(self._thread_connection(), statement, params)
        with self.connection() as connection:
            return self._fast_on(connection, statement, params)

    def _fast_on(
        self, connection: sa.Connection, statement: _Compiled, params: dict[str, Any]
    ) -> list[tuple]:
        driver = connection.connection.driver_connection
        try:
            return statement.rows(driver, params)
        except self.engine.dialect.loaded_dbapi.Error as error:
            lost = self.engine.dialect.is_disconnect(error, driver, None)
            if lost:
                connection.invalidate(error)  # never handed out again
            wrapped = sa.exc.DBAPIError.instance(
                statement.sql,
                params,
                error,
                self.engine.dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
            )
            raise (unavailable(wrapped) or wrapped) from error

    def _prepare_schema(self) -> None:
        """SQLite: switch to WAL and migrate to the current schema (one process at a time, in one
        transaction). PostgreSQL: refuse a database whose schema is not the current one."""
        from server import migrate  # Alembic, only at start-up

        if not self.sqlite:
            with self.connection() as connection:
                migrate.check(connection)
            return
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:  # two workers booting at once may both try to switch to WAL
            try:
                with self.connection() as connection:
                    # A new file gives freed pages back (Store.give_back_space); an existing one ignores it.
                    connection.exec_driver_sql("PRAGMA auto_vacuum = INCREMENTAL")
                    connection.exec_driver_sql("PRAGMA journal_mode = WAL")
                break
            except StoreUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self._write() as connection:
            migrate.upgrade(connection)

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
        reuse: bool = False,
        admit: Admission | None = None,
    ) -> str | None:
        """Store a new queued run, unless `places` runs already wait: the id of the run that answers the
        request (`run_id` once stored; None when the queue is full). With `reuse`, a run of the same
        `query` that is done, queued or running answers instead (reusable_run) and nothing is stored.
        `admit` (server.fair_share) names the run's client and estimated cost, is shown that client's
        runs (_client_runs) and may refuse by raising, before anything is stored.
        The look-up, the counts and the insert happen under the queue lock, so the limits hold across
        processes and two identical requests at once make one run, not two. `token_hash` is the hash of
        the run's owner token (server.ownership); get_run() returns it, the API never shows it."""
        with self._write(queue_lock=True) as db:
            if reuse and (existing := self._reusable_run(db, query)) is not None:
                return existing
            client, cost = (admit.client, admit.cost) if admit is not None else (None, 0.0)
            if admit is not None:
                admit(self._client_runs(db, client, time.time() - admit.lookback))
            if places is not None:
                waiting = db.execute(
                    sa.select(sa.func.count()).select_from(runs).where(runs.c.status == Status.QUEUED)
                ).scalar_one()
                if waiting >= places:
                    return None
            db.execute(
                runs.insert().values(
                    id=run_id,
                    config=json.dumps(config),
                    query=query,
                    status=Status.QUEUED,
                    owner=owner,
                    total_epochs=total_epochs,
                    created_at=time.time(),
                    token_hash=token_hash,
                    client=client,
                    cost=cost,
                    turn=self._next_turn(db, client),
                )
            )
        return run_id

    @staticmethod
    def _next_turn(db: sa.Connection, client: str | None) -> int:
        """The round a new run of `client` waits for: the round being served (that of the latest run
        to start), or the round after the client's latest run if that is later. So each client has
        one run in each round, and rounds are served in order (fair queueing with one unit per run)."""
        served = (  # read from the top of the index runs_turn: the first started run there
            sa.select(runs.c.turn)
            .where(runs.c.started_at.is_not(None), runs.c.turn.is_not(None))
            .order_by(runs.c.turn.desc())
            .limit(1)
        )
        latest = sa.select(sa.func.max(runs.c.turn)).where(
            runs.c.client == client, runs.c.created_at > time.time() - TURN_MEMORY_SECONDS
        )
        return max(db.execute(served).scalar() or 0, (db.execute(latest).scalar() or 0) + 1)

    @staticmethod
    def _client_runs(db: sa.Connection, client: str | None, since: float) -> list[ClientRun]:
        """The client's runs created since `since`, and every one of them still going."""
        columns = (runs.c.created_at, runs.c.cost, runs.c.status, runs.c.started_at, runs.c.finished_at)
        query = sa.select(*columns, runs.c.sweep).where(
            runs.c.client == client, (runs.c.created_at > since) | runs.c.status.in_(ACTIVE)
        )
        return [ClientRun(row[0], row[1], Status(row[2]), *row[3:]) for row in db.execute(query)]

    def reusable_run(self, query: str) -> str | None:
        """The run a new run of this config can answer with: the newest one that finished `done`, else
        the newest queued or running one; None if there is none."""
        with self.connection() as db:
            return self._reusable_run(db, query)

    @staticmethod
    def _reusable_run(db: sa.Connection, query: str) -> str | None:
        done_first = sa.case((runs.c.status == Status.DONE, 0), else_=1)
        newest = (
            sa.select(runs.c.id)
            .where(runs.c.query == query, runs.c.status.in_(REUSABLE), runs.c.expired_at.is_(None))
            .order_by(done_first, runs.c.created_at.desc())
            .limit(1)
        )
        return db.execute(newest).scalar()

    def claim(self, queue_owner: str, owner: str) -> tuple[str | None, int]:
        """Move the next run waiting under `queue_owner` (place 1, queue_places: clients take turns) to
        `running` under `owner`: (its id or None, runs still waiting). The UPDATE is conditional, so of
        two processes claiming at once one wins."""
        places = queue_places()
        waiting = places.c.owner == queue_owner
        count = sa.select(sa.func.count()).select_from(places).where(waiting).scalar_subquery()
        oldest = sa.select(places.c.id, count).where(waiting).order_by(places.c.place).limit(1)
        with self.connection() as db:
            while True:
                row = db.execute(oldest).first()
                if row is None:
                    return None, 0
                claimed = db.execute(
                    runs.update()
                    .where(runs.c.id == row[0], runs.c.status == Status.QUEUED)
                    .values(status=Status.RUNNING, owner=owner, started_at=time.time())
                )
                if claimed.rowcount == 1:
                    return row[0], row[1] - 1
                # another process took it (or it was stopped) a moment ago: look again

    def claim_run(self, run_id: str, owner: str) -> bool:
        """Move one waiting run to `running` under `owner`; False if it is not waiting (any more)."""
        return self._leave_queue(run_id, status=Status.RUNNING, owner=owner, started_at=time.time())

    def waiting(self, owner: str) -> list[tuple[str, float]]:
        """(id, created_at) of the runs waiting under `owner`, oldest first."""
        query = sa.select(runs.c.id, runs.c.created_at).where(
            runs.c.status == Status.QUEUED, runs.c.owner == owner
        )
        with self.connection() as db:
            return [(row[0], row[1]) for row in db.execute(query.order_by(*QUEUE_ORDER))]

    def delete_waiting(self, run_id: str) -> None:
        """Remove a run that never left the queue (its job could not be queued); no-op otherwise."""
        with self._write() as db:
            db.execute(runs.delete().where(runs.c.id == run_id, runs.c.status == Status.QUEUED))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.connection() as db:
            row = db.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            return None
        run = dict(row._mapping)
        run["config"] = json.loads(run["config"])
        run["status"] = Status(run["status"])
        return run

    def status(self, run_id: str) -> tuple[Status, int] | None:
        """(status, epochs_done): the cheap question a stream asks every poll."""
        rows = self._fast(self._status, run_id=run_id)
        return (Status(rows[0][0]), rows[0][1]) if rows else None

    def states(self, run_ids: list[str]) -> dict[str, tuple]:
        """(status, epochs_done, queue position or None, progress) of many runs in one query: what
        streams wait for."""
        places = queue_places()
        columns = (runs.c.id, runs.c.status, runs.c.epochs_done, places.c.place, runs.c.progress)
        with_places = runs.outerjoin(places, places.c.id == runs.c.id)
        states: dict[str, tuple] = {}
        with self.connection() as db:
            for start in range(0, len(run_ids), 500):  # SQLite caps the number of parameters
                chunk = run_ids[start : start + 500]
                rows = db.execute(sa.select(*columns).select_from(with_places).where(runs.c.id.in_(chunk)))
                states.update((row[0], (Status(row[1]), *row[2:])) for row in rows)
        return states

    def queue_position(self, run_id: str) -> int | None:
        """1 = next to start: the run's place in its queue, clients taking turns (queue_places)."""
        places = queue_places()
        query = sa.select(places.c.place).where(places.c.id == run_id)
        with self.connection() as db:
            return db.execute(query).scalar() or None

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
        ended = dict(
            status=status, reason=reason, test_loss=test_loss, test_acc=test_acc, finished_at=time.time()
        )
        with self._write() as db:
            result = db.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status.in_(ACTIVE)).values(**ended)
            )
        return result.rowcount == 1

    def stop_queued(self, run_id: str, reason: str) -> bool:
        """queued -> stopped, whichever process queued it; False if it is not queued (any more)."""
        return self._leave_queue(run_id, status=Status.STOPPED, reason=reason, finished_at=time.time())

    def _leave_queue(self, run_id: str, **values: Any) -> bool:
        """A conditional UPDATE of a waiting run: of two processes moving it at once, one wins."""
        with self._write() as db:
            result = db.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status == Status.QUEUED).values(**values)
            )
        return result.rowcount == 1

    def request_stop(self, run_id: str) -> None:
        """Ask the owner to stop a running run (the owner may be another process)."""
        with self._write() as db:
            db.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == Status.RUNNING)
                .values(stop_requested=1)
            )

    def should_stop(self, run_id: str) -> bool:
        """True when a stop was requested, or the run is no longer running (say, marked interrupted)."""
        with self.connection() as db:
            row = db.execute(
                sa.select(runs.c.stop_requested, runs.c.status).where(runs.c.id == run_id)
            ).first()
        return row is None or bool(row[0]) or row[1] != Status.RUNNING

    # --- progress within an epoch (server.broadcast_local: how it reaches other processes) -------------

    def set_progress(self, run_id: str, progress: str) -> None:
        """Overwrite a running run's latest progress (JSON text; states() reads it); never part of its
        epochs."""
        with self._write() as db:
            db.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status == Status.RUNNING)
                .values(progress=progress)
            )

    def active_runs(self) -> list[tuple[str, Status, str]]:
        """(id, status, owner) of every queued or running run."""
        query = sa.select(runs.c.id, runs.c.status, runs.c.owner).where(runs.c.status.in_(ACTIVE))
        with self.connection() as db:
            rows = db.execute(query.order_by(*QUEUE_ORDER)).all()
        return [(row[0], Status(row[1]), row[2]) for row in rows]

    # --- epochs and weights --------------------------------------------------------------------

    def add_epoch(self, run_id: str, epoch: int, metrics: dict, event: str, weights_npz: bytes) -> None:
        """One transaction: the epoch's numbers, its SSE event and the weights after it. Storing an epoch
        again changes nothing (a retry after a COMMIT whose answer was lost with the connection)."""
        latest = self._insert(weights).values(run_id=run_id, epoch=epoch, npz=weights_npz)
        latest = latest.on_conflict_do_update(
            index_elements=[weights.c.run_id], set_=dict(epoch=epoch, npz=weights_npz)
        )
        stored = self._insert(epochs).values(
            run_id=run_id, epoch=epoch, metrics=json.dumps(metrics), event=zlib.compress(event.encode(), 1)
        )
        with self._write() as db:
            db.execute(stored.on_conflict_do_nothing())
            db.execute(latest)
            db.execute(runs.update().where(runs.c.id == run_id).values(epochs_done=epoch))

    def metrics(self, run_id: str) -> list[dict]:
        query = sa.select(epochs.c.metrics).where(epochs.c.run_id == run_id).order_by(epochs.c.epoch)
        with self.connection() as db:
            return [json.loads(text) for text in db.execute(query).scalars()]

    def events_after(self, run_id: str, epoch: int) -> list[tuple[int, str]]:
        """(epoch, event data) of every epoch after `epoch`, in order: exactly what a stream missed."""
        rows = self._fast(self._events_after, run_id=run_id, epoch=epoch)
        return [(number, zlib.decompress(data).decode()) for number, data in rows]

    def weights(self, run_id: str) -> tuple[int, bytes] | None:
        """(epoch, .npz bytes) of the latest weights, or None before the first epoch."""
        with self.connection() as db:
            row = db.execute(
                sa.select(weights.c.epoch, weights.c.npz).where(weights.c.run_id == run_id)
            ).first()
        return None if row is None else (row[0], bytes(row[1]))

    def weights_epoch(self, run_id: str) -> int | None:
        with self.connection() as db:
            return db.execute(sa.select(weights.c.epoch).where(weights.c.run_id == run_id)).scalar()

    # --- your own points (datasets) ------------------------------------------------------------

    def add_dataset(self, digest: str, csv: str, points: int, classes: int) -> bool:
        """Store points under the hash of their canonical CSV; False when that content is stored already."""
        row = dict(hash=digest, csv=csv, points=points, classes=classes, created_at=time.time())
        with self._write() as db:
            insert = self._insert(datasets).values(**row).on_conflict_do_nothing()
            return db.execute(insert.returning(datasets.c.hash)).first() is not None

    def dataset(self, digest: str) -> str | None:
        """The canonical CSV stored under a hash, or None."""
        with self.connection() as db:
            return db.execute(sa.select(datasets.c.csv).where(datasets.c.hash == digest)).scalar()

    # --- bounded reads, stored views, the store's size and expiry (server.store_budget) ----------

    def event_pages(
        self, run_id: str, after: int, page: int = PAGE_EPOCHS
    ) -> Iterator[list[tuple[int, str]]]:
        """events_after() a page of `page` epochs at a time, each page read when the one before has been
        used: a replay of any length holds one page in memory (one short query each, no transaction
        held open between pages)."""
        while True:
            rows = self._fast(self._event_page, run_id=run_id, epoch=after, page=page, skip=0)
            if not rows:
                return
            yield [(number, zlib.decompress(data).decode()) for number, data in rows]
            if len(rows) < page:
                return
            after = rows[-1][0]

    def metrics_pages(self, run_id: str, page: int = PAGE_EPOCHS) -> Iterator[list[dict]]:
        """metrics() a page of epochs at a time (see event_pages)."""
        after = 0
        while True:
            query = (
                sa.select(epochs.c.epoch, epochs.c.metrics)
                .where(epochs.c.run_id == run_id, epochs.c.epoch > after)
                .order_by(epochs.c.epoch)
                .limit(page)
            )
            with self.connection() as db:
                rows = db.execute(query).all()
            if not rows:
                return
            yield [json.loads(row[1]) for row in rows]
            if len(rows) < page:
                return
            after = rows[-1][0]

    def weights_size(self, run_id: str) -> tuple[int, int] | None:
        """(epoch, size in bytes) of the latest weights, or None before the first epoch."""
        with self.connection() as db:
            row = db.execute(
                sa.select(weights.c.epoch, sa.func.length(weights.c.npz)).where(weights.c.run_id == run_id)
            ).first()
        return None if row is None else (row[0], row[1])

    def weights_chunk(self, run_id: str, epoch: int, start: int, size: int) -> bytes | None:
        """`size` bytes of the latest weights from byte `start`, if they are still those of `epoch` (None
        once a newer epoch replaced them, or they expired). Only the chunk is read: SQLite's blob I/O,
        PostgreSQL's substr() of a column stored uncompressed (migration 0007)."""
        if self.sqlite:
            connection = self._thread_connection().connection.driver_connection
            try:
                connection.execute("BEGIN")  # one snapshot: the row found is the row read
                try:
                    row = connection.execute(
                        "SELECT rowid FROM weights WHERE run_id = ? AND epoch = ?", (run_id, epoch)
                    ).fetchone()
                    if row is None:
                        return None
                    with connection.blobopen("weights", "npz", row[0], readonly=True) as blob:
                        blob.seek(start)
                        return blob.read(size)
                finally:
                    connection.execute("COMMIT")
            except self.engine.dialect.loaded_dbapi.Error as error:
                raise (unavailable(error) or error) from error
        query = sa.select(sa.func.substr(weights.c.npz, start + 1, size)).where(
            weights.c.run_id == run_id, weights.c.epoch == epoch
        )
        with self.connection() as db:
            chunk = db.execute(query).scalar()
        return None if chunk is None else bytes(chunk)

    def stored_views(self, run_id: str) -> str | None:
        """The JSON of a run's stored views (GET .../views), or None if none are stored."""
        with self.connection() as db:
            data = db.execute(sa.select(views.c.data).where(views.c.run_id == run_id)).scalar()
        return None if data is None else zlib.decompress(data).decode()

    def store_views(self, run_id: str, epoch: int | None, text: str) -> None:
        """Keep a run's views (JSON text) for good: computed once, read by every request after. Nothing
        is stored for a run whose heavy parts expired meanwhile."""
        insert = self._insert(views).values(run_id=run_id, epoch=epoch, data=zlib.compress(text.encode(), 6))
        with self._write() as db:
            expired = db.execute(sa.select(runs.c.expired_at).where(runs.c.id == run_id)).scalar()
            if expired is None:
                db.execute(insert.on_conflict_do_nothing())

    def size_bytes(self) -> int:
        """What the store takes on disk now. SQLite: the pages in use (page_count - freelist_count, times
        the page size): free pages are reused, and given back to the file system by incremental vacuum.
        PostgreSQL: the stored size of every row's values (pg_column_size, after compression) plus the
        runs table and its indexes; unlike the table files (which shrink only at VACUUM FULL), it falls
        as parts expire, and autovacuum lets new rows reuse the space."""
        with self.connection() as db:
            if self.sqlite:
                pages = db.exec_driver_sql("PRAGMA page_count").scalar()
                free = db.exec_driver_sql("PRAGMA freelist_count").scalar()
                return (pages - free) * db.exec_driver_sql("PRAGMA page_size").scalar()
            heavy = [
                sa.select(sa.func.coalesce(sa.func.sum(sa.func.pg_column_size(column)), 0))
                for column in (epochs.c.event, epochs.c.metrics, weights.c.npz, views.c.data, datasets.c.csv)
            ]
            total = sum(db.execute(query).scalar() for query in heavy)
            return total + db.execute(sa.select(sa.func.pg_total_relation_size("runs"))).scalar()

    def expirable_runs(self, limit: int) -> list[str]:
        """The oldest ended runs whose heavy parts have not expired, oldest first (at most `limit`)."""
        query = (
            sa.select(runs.c.id)
            .where(runs.c.status.in_(FINAL), runs.c.expired_at.is_(None))
            .order_by(runs.c.finished_at, runs.c.id)
            .limit(limit)
        )
        with self.connection() as db:
            return list(db.execute(query).scalars())

    def expire(self, run_id: str) -> bool:
        """Drop an ended run's heavy parts: its weights, its stored views and each epoch event's views
        (the decision grid or confusion matrix, the diagram's neurons); its curves (every epoch's numbers),
        config and page stay. False if it had expired already (or is not ended)."""
        select = sa.select(epochs.c.epoch, epochs.c.metrics, epochs.c.event).where(epochs.c.run_id == run_id)
        with self._write() as db:
            marked = db.execute(
                runs.update()
                .where(runs.c.id == run_id, runs.c.status.in_(FINAL), runs.c.expired_at.is_(None))
                .values(expired_at=time.time())
            )
            if marked.rowcount != 1:
                return False
            db.execute(weights.delete().where(weights.c.run_id == run_id))
            db.execute(views.delete().where(views.c.run_id == run_id))
            rows = []
            for number, metrics, event in db.execute(select).all():
                recorded = json.loads(zlib.decompress(event)).get("recorded_at")
                light = json.dumps({**json.loads(metrics), "recorded_at": recorded})
                rows.append(
                    dict(run_id=run_id, epoch=number, metrics=metrics, event=zlib.compress(light.encode(), 1))
                )
            # Deleted and inserted again, not updated: the smaller rows are packed into fresh pages (an
            # UPDATE leaves each page as empty as its row shrank), so the space really comes free.
            db.execute(epochs.delete().where(epochs.c.run_id == run_id))
            if rows:
                db.execute(epochs.insert(), rows)
        return True

    def give_back_space(self) -> None:
        """SQLite: return free pages to the file system (a file made with auto_vacuum = INCREMENTAL; an
        older file keeps them and reuses them). PostgreSQL: nothing (autovacuum does its part)."""
        if self.sqlite:
            with self.connection() as db:
                db.connection.driver_connection.execute(
                    "PRAGMA incremental_vacuum"
                ).fetchall()  # a page a step

    # --- sweeps ------------------------------------------------------------------------------------

    def add_sweep(self, sweep: dict[str, Any], created: list[str]) -> None:
        """Store a sweep (id, config, query, vary, cells, token_hash) and mark the runs it `created` (not
        the stored runs some cells answer with) as its own, in one transaction."""
        row = {**sweep, "config": json.dumps(sweep["config"]), "vary": json.dumps(sweep["vary"])}
        row["cells"] = json.dumps(sweep["cells"])
        with self._write() as db:
            db.execute(sweeps.insert().values(**row, created_at=time.time()))
            if created:
                db.execute(runs.update().where(runs.c.id.in_(created)).values(sweep=sweep["id"]))

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        with self.connection() as db:
            row = db.execute(sa.select(sweeps).where(sweeps.c.id == sweep_id)).first()
        if row is None:
            return None
        sweep = dict(row._mapping)
        for name in ("config", "vary", "cells"):
            sweep[name] = json.loads(sweep[name])
        return sweep

    def cell_states(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        """{status, epochs_done, query, metrics: the latest epoch's or None} of many runs, in one query."""
        latest = sa.and_(epochs.c.run_id == runs.c.id, epochs.c.epoch == runs.c.epochs_done)
        query = (
            sa.select(runs.c.id, runs.c.status, runs.c.epochs_done, runs.c.query, epochs.c.metrics)
            .select_from(runs.outerjoin(epochs, latest))
            .where(runs.c.id.in_(run_ids))
        )
        with self.connection() as db:
            rows = db.execute(query).all()
        return {
            row[0]: {
                "status": Status(row[1]),
                "epochs_done": row[2],
                "query": row[3],
                "metrics": json.loads(row[4]) if row[4] else None,
            }
            for row in rows
        }

    def metrics_after(self, run_id: str, epoch: int) -> list[dict]:
        """The metrics of every epoch after `epoch`, in order (a sweep's stream sends these)."""
        query = (
            sa.select(epochs.c.metrics)
            .where(epochs.c.run_id == run_id, epochs.c.epoch > epoch)
            .order_by(epochs.c.epoch)
        )
        with self.connection() as db:
            return [json.loads(text) for text in db.execute(query).scalars()]

    def active_sweep_runs(self, sweep_id: str) -> list[str]:
        """The queued or running runs a sweep created."""
        query = sa.select(runs.c.id).where(runs.c.sweep == sweep_id, runs.c.status.in_(ACTIVE))
        with self.connection() as db:
            return list(db.execute(query).scalars())

    # --- owners (server processes) ------------------------------------------------------------

    def beat(self, owner: str, host: str, pid: int) -> None:
        row = dict(owner=owner, host=host, pid=pid, heartbeat=time.time())
        upsert = self._insert(owners).values(**row)
        upsert = upsert.on_conflict_do_update(index_elements=[owners.c.owner], set_=row)
        with self._write() as db:
            db.execute(upsert)

    def owners(self) -> dict[str, dict[str, Any]]:
        with self.connection() as db:
            rows = db.execute(sa.select(owners)).all()
        return {row.owner: dict(row._mapping) for row in rows}

    def forget_owner(self, owner: str) -> None:
        with self._write() as db:
            db.execute(owners.delete().where(owners.c.owner == owner))

    def interrupt(self, owner: str, reason: str) -> list[str]:
        """Mark the queued and running runs of a dead process `interrupted`; their epochs stay."""
        with self._write() as db:
            ids = db.execute(
                runs.update()
                .where(runs.c.owner == owner, runs.c.status.in_(ACTIVE))
                .values(status=Status.INTERRUPTED, reason=reason, finished_at=time.time())
                .returning(runs.c.id)
            ).scalars()
            ids = list(ids)
            db.execute(owners.delete().where(owners.c.owner == owner))
        return ids


class _ThreadToken:
    """Alive as long as the thread whose thread-local namespace holds it (Store._thread_connection)."""


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    """No pool: each thread opens the file once and keeps that connection (Store._thread_connection)."""
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        isolation_level="AUTOCOMMIT",  # transactions are the store's own BEGIN IMMEDIATE ... COMMIT
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def pragmas(driver_connection: Any, _record: Any) -> None:
        driver_connection.execute("PRAGMA foreign_keys = ON")
        driver_connection.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across a process crash
        # A small page cache per connection: a process may have a hundred threads, each with its
        # connection, and SQLite's default (2 MB each) would grow with the file; the OS caches it.
        driver_connection.execute(f"PRAGMA cache_size = -{CACHE_KB}")

    return engine


def _postgres_engine(url: sa.URL) -> sa.Engine:
    """A pool of POOL_SIZE connections (POOL_OVERFLOW more while busy), recycled every few minutes
    (platforms' proxies drop idle ones); a dead one (the server restarted) is replaced on first use."""
    engine = sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=BUSY_TIMEOUT_SECONDS,
        pool_recycle=300,
        isolation_level="AUTOCOMMIT",  # reads are single statements; writes are BEGIN ... COMMIT
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )

    @sa.event.listens_for(engine, "connect")
    def lock_timeout(driver_connection: Any, _record: Any) -> None:
        cursor = driver_connection.cursor()
        cursor.execute(f"SET lock_timeout = '{int(BUSY_TIMEOUT_SECONDS * 1000)}ms'")
        cursor.close()
        driver_connection.commit()

    return engine
