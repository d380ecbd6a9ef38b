"""The run store's tables as the server created them before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("total_epochs", sa.Integer(), nullable=False),
        sa.Column("epochs_done", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("stop_requested", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("started_at", sa.Double()),
        sa.Column("finished_at", sa.Double()),
        sa.Column("reason", sa.Text()),
        sa.Column("test_loss", sa.Double()),
        sa.Column("test_acc", sa.Double()),
    )
    # The statuses of that time, frozen here: a migration never changes once released.
    active = sa.text("status IN ('queued', 'running')")
    op.create_index("runs_active", "runs", ["status", "owner"], sqlite_where=active, postgresql_where=active)
    op.create_table(
        "epochs",
        sa.Column("run_id", sa.Text(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer(), primary_key=True),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("event", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "weights",
        sa.Column("run_id", sa.Text(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("npz", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "owners",
        sa.Column("owner", sa.Text(), primary_key=True),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("heartbeat", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("owners")
    op.drop_table("weights")
    op.drop_table("epochs")
    op.drop_index("runs_active", "runs")
    op.drop_table("runs")
