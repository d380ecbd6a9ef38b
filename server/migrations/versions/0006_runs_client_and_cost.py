"""A fair share per client: each run keeps who started it (the client key), its estimated cost in
seconds and its round in the queue (turn), indexed by (client, created_at) for the count made before a
new run is accepted, and by turn for the round being served.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ALTER TABLE ... ADD COLUMN on both databases: a batch would copy the runs table on SQLite, and
    # dropping the old copy would delete every run's epochs (ON DELETE CASCADE).
    op.add_column("runs", sa.Column("client", sa.Text()))
    op.add_column("runs", sa.Column("cost", sa.Double(), nullable=False, server_default=sa.text("0")))
    op.add_column("runs", sa.Column("turn", sa.Integer()))
    op.create_index("runs_client", "runs", ["client", "created_at"])
    op.create_index("runs_turn", "runs", ["turn"])


def downgrade() -> None:
    op.drop_index("runs_turn", "runs")
    op.drop_index("runs_client", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("turn")
        batch.drop_column("cost")
        batch.drop_column("client")
