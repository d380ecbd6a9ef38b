"""Bounded disk and CPU: a views table (each ended run's views, computed once), runs.expired_at (when a
run's heavy parts expired under the store budget), and PostgreSQL's weights stored uncompressed, so a
download reads them a chunk at a time.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("expired_at", sa.Double()))
    op.create_table(
        "views",
        sa.Column("run_id", sa.Text(), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer()),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # EXTERNAL: out of line, not compressed (.npz of float32 barely compresses), so substr() reads a
        # slice without decompressing the whole value.
        op.execute("ALTER TABLE weights ALTER COLUMN npz SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE weights ALTER COLUMN npz SET STORAGE EXTENDED")
    op.drop_table("views")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("expired_at")
