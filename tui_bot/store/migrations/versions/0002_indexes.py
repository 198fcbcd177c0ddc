"""Lookup indexes.

Revision 0002: the schema an SQLite file made before alembic marked PRAGMA user_version = 2.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = (
    ("executions_symbol_time", "executions", ["symbol", "exec_time"]),
    ("executions_order", "executions", ["order_id"]),
    ("orders_open", "orders", ["status_rank", "symbol"]),
    ("trades_status", "trades", ["status", "symbol"]),
    ("trades_entry_time", "trades", ["entry_time"]),
    ("position_snapshots_symbol_ts", "position_snapshots", ["symbol", "ts_ms"]),
    ("recommendations_cycle", "recommendations", ["cycle_id"]),
    ("phantoms_recommendation", "phantoms", ["recommendation_id"]),
)


def upgrade() -> None:
    """Create the lookup indexes."""
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    """Drop the lookup indexes."""
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
