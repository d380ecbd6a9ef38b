"""Index runs on (status, owner) whatever the status.

The partial index of 0001 served only queries that spell the active statuses as literals; the store
binds statuses as parameters, which a partial index cannot be proven to cover.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("runs_active", "runs")
    op.create_index("runs_status", "runs", ["status", "owner"])


def downgrade() -> None:
    op.drop_index("runs_status", "runs")
    active = sa.text("status IN ('queued', 'running')")
    op.create_index("runs_active", "runs", ["status", "owner"], sqlite_where=active, postgresql_where=active)
