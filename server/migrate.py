"""The database schema, versioned with Alembic (server/migrations): bring a database up to date.

    python3 -m server.migrate    # the PostgreSQL database at DATABASE_URL: the Procfile's release: line
    alembic upgrade head         # the same through Alembic's command line (alembic.ini)

A SQLite file needs neither: the store runs the same migrations when a server starts (Store). A
PostgreSQL database is migrated only by this command, once per deploy, never by the web processes;
they refuse a database whose schema is not the one they expect (check()).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import sqlalchemy as sa

from server.settings import SettingsError, from_env
from server.store import SchemaOutOfDate

# Alembic talks at INFO level, from its import on, each time it looks at a database: the server's log
# keeps its warnings only.
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

FOLDER = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"  # the schema of the files made before migrations existed


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's settings without alembic.ini; `connection` is the database to migrate."""
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision: the schema this code expects."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: sa.Connection) -> str | None:
    """The database's revision (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: sa.Connection) -> tuple[str | None, str]:
    """Migrate to the newest revision on `connection`, inside the caller's transaction if it has one:
    (revision before, revision after). A SQLite file from before migrations is first stamped as 0001."""
    before = current(connection)
    if before is None and sa.inspect(connection).has_table("runs"):
        command.stamp(alembic_config(connection), FIRST_REVISION)
    if before != head():
        command.upgrade(alembic_config(connection), "head")
    return before, head()


def check(connection: sa.Connection) -> None:
    """Raise SchemaOutOfDate unless the database is at the newest revision."""
    found, wanted = current(connection), head()
    if found != wanted:
        raise SchemaOutOfDate(
            f"The database's schema is at revision {found or 'none (an empty database)'} and this server "
            f"needs {wanted}: run `python3 -m server.migrate` (the Procfile's release: line runs it on "
            "every deploy)."
        )


def main() -> int:
    try:
        url = from_env()["DATABASE_URL"]
    except SettingsError as error:
        print(error)
        return 2
    if url is None:
        print(
            "DATABASE_URL is not set: nothing to migrate (a SQLite file is migrated when the server starts)."
        )
        return 0
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            before, after = upgrade(connection)
    except sa.exc.OperationalError as error:
        print(f"Could not migrate the database at {url.render_as_string(hide_password=True)}: {error.orig}")
        return 1
    finally:
        engine.dispose()
    print(
        f"Database schema at revision {after}" + (" (already)." if before == after else f" (was {before}).")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
