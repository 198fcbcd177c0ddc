"""Orders the exchange refused when sent.

Revision 0004: the schema an SQLite file made before alembic marked PRAGMA user_version = 4.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tui_bot.store.dialect import ROW_ID, Money

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create rejected_orders and its time index."""
    op.create_table(
        "rejected_orders",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("order_link_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("price", Money(), nullable=True),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("rejected_orders_ts", "rejected_orders", ["ts_ms"])


def downgrade() -> None:
    """Drop rejected_orders."""
    op.drop_index("rejected_orders_ts", table_name="rejected_orders")
    op.drop_table("rejected_orders")
