"""Runs keep the hash of their owner token (whoever changes a run must hold the token) and the trainer's
latest progress within an epoch.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("token_hash", sa.Text()))
        runs.add_column(sa.Column("progress", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("progress")
        runs.drop_column("token_hash")
