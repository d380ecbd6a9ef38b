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
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("client", sa.Text()))
        batch.add_column(sa.Column("cost", sa.Double(), nullable=False, server_default=sa.text("0")))
        batch.add_column(sa.Column("turn", sa.Integer()))
    op.create_index("runs_client", "runs", ["client", "created_at"])
    op.create_index("runs_turn", "runs", ["turn"])


def downgrade() -> None:
    op.drop_index("runs_turn", "runs")
    op.drop_index("runs_client", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("turn")
        batch.drop_column("cost")
        batch.drop_column("client")
