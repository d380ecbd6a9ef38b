"""Index runs on (query, created_at): a new run looks for a run of the same config to answer with.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("runs_query", "runs", ["query", "created_at"])


def downgrade() -> None:
    op.drop_index("runs_query", "runs")
