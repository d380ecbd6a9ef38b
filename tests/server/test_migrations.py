"""The schema's migrations (server/migrations, Alembic): what they create is exactly the schema the store
expects, on SQLite and on PostgreSQL; they go down and up again; `python3 -m server.migrate` (the
Procfile's release: line) is how a PostgreSQL database gets them, and the store refuses one without."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from server import migrate
from server.store import SchemaOutOfDate, Store, engine_url, metadata
from tests.procfile import ROOT
from tests.services import Postgres

TABLES = {"runs", "epochs", "weights", "owners", "datasets", "views", "sweeps"}


def differences(database: str) -> list:
    """What Alembic's comparison finds between the database and the store's tables (nothing, we hope)."""
    engine = sa.create_engine(engine_url(database), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()


def tables(database: str) -> set[str]:
    engine = sa.create_engine(engine_url(database), poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def run_command(args: list[str], database_url: str | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    if database_url is not None:
        env["DATABASE_URL"] = database_url.replace(
            "postgresql+psycopg://", "postgres://"
        )  # as Heroku says it
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_release_command_gives_an_empty_postgres_database_the_stores_schema(postgres_server: Postgres):
    url = postgres_server.create_database()
    try:
        with pytest.raises(SchemaOutOfDate, match=r"none \(an empty database\).*python3 -m server\.migrate"):
            Store(url)
        release = run_command([sys.executable, "-m", "server.migrate"], url)
        assert f"at revision {migrate.head()} (was None)" in release.stdout
        assert differences(url) == []
        Store(url).close()  # accepted now

        # Alembic's own command line (alembic.ini) takes it down to nothing and up again.
        run_command([sys.executable, "-m", "alembic", "downgrade", "base"], url)
        assert tables(url) == set()
        run_command([sys.executable, "-m", "alembic", "upgrade", "head"], url)
        assert tables(url) == TABLES and differences(url) == []
    finally:
        postgres_server.drop_database(url)


def test_a_new_sqlite_file_gets_the_stores_schema_on_first_start_and_migrates_down_and_up(tmp_path):
    path = str(tmp_path / "playground.sqlite3")
    Store(path).close()
    assert differences(path) == [] and tables(path) == TABLES
    engine = sa.create_engine(engine_url(path), poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "base")
    assert tables(path) == set()
    with engine.begin() as connection:
        migrate.upgrade(connection)
    engine.dispose()
    assert differences(path) == [] and tables(path) == TABLES


# The schema as the server created it before migrations existed (CREATE TABLE IF NOT EXISTS at start).
SCHEMA_BEFORE_MIGRATIONS = """
CREATE TABLE runs (id TEXT PRIMARY KEY, config TEXT NOT NULL, query TEXT NOT NULL, status TEXT NOT NULL,
    owner TEXT NOT NULL, total_epochs INTEGER NOT NULL, epochs_done INTEGER NOT NULL DEFAULT 0,
    stop_requested INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, started_at REAL, finished_at REAL,
    reason TEXT, test_loss REAL, test_acc REAL);
CREATE INDEX runs_active ON runs (status, owner) WHERE status IN ('queued', 'running');
CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    metrics TEXT NOT NULL, event BLOB NOT NULL, PRIMARY KEY (run_id, epoch));
CREATE TABLE weights (run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    npz BLOB NOT NULL);
CREATE TABLE owners (owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
    heartbeat REAL NOT NULL);
INSERT INTO runs (id, config, query, status, owner, total_epochs, epochs_done, created_at, finished_at)
    VALUES ('oldrun123456', '{"dataset": "xor"}', 'dataset=xor', 'done', 'gone', 1, 1, 1.7e9, 1.7e9);
INSERT INTO epochs VALUES ('oldrun123456', 1, '{"epoch": 1}', x'789c4b4e2c2a0600040a01aa');
"""


def test_a_sqlite_file_from_before_migrations_keeps_its_runs_and_is_migrated(tmp_path):
    path = tmp_path / "playground.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA_BEFORE_MIGRATIONS)
    store = Store(path)
    try:
        assert store.get_run("oldrun123456")["status"] == "done"
        assert store.events_after("oldrun123456", 0) == [(1, "cars")]
    finally:
        store.close()
    # Same tables, columns and indexes (the old DDL's spellings, REAL for DOUBLE and the like, remain).
    structural = ("add_table", "remove_table", "add_column", "remove_column", "add_index", "remove_index")
    assert [change for change in differences(str(path)) if change[0] in structural] == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(migrate.head(),)]


def test_migrate_without_database_url_says_there_is_nothing_to_do():
    result = run_command([sys.executable, "-m", "server.migrate"], None)
    assert "DATABASE_URL is not set: nothing to migrate" in result.stdout
