"""Alembic's environment: the database to migrate and the tables the store expects.

The database is the connection the caller hands in (server.migrate, and the store for a SQLite file at
start-up), or else the PostgreSQL database at DATABASE_URL (`alembic upgrade head`).
"""

import os

import sqlalchemy as sa
from alembic import context

from server.store import database_url, metadata


def run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: run them against the database.")
connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    if not os.environ.get("DATABASE_URL", "").strip():
        raise SystemExit("DATABASE_URL is not set: say which PostgreSQL database to migrate.")
    engine = sa.create_engine(database_url(os.environ["DATABASE_URL"]), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        run(connection)
    engine.dispose()
