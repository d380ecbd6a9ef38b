"""Sweeps: a sweeps table (a base config, the settings it varies, its cells' runs in grid order) and a
`sweep` column on runs naming the sweep that created a run (what stopping a sweep stops).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("vary", sa.Text(), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text()),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("sweep", sa.Text()))
        runs.create_index("runs_sweep", ["sweep"])


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_index("runs_sweep")
        runs.drop_column("sweep")
    op.drop_table("sweeps")
