"""Trade reconciliation marks.

Revision 0003: the schema an SQLite file made before alembic marked PRAGMA user_version = 3.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create trade_reconciliations."""
    op.create_table(
        "trade_reconciliations",
        sa.Column("open_exec_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("after_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("open_exec_id"),
    )


def downgrade() -> None:
    """Drop trade_reconciliations."""
    op.drop_table("trade_reconciliations")
