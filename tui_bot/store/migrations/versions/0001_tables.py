"""The nine tables.

Revision 0001: the schema an SQLite file made before alembic marked PRAGMA user_version = 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tui_bot.store.dialect import ROW_ID, Money

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the nine tables."""
    op.create_table(
        "config",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.Column("timeframe", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Integer(), server_default="0", nullable=False),
        sa.Column("approved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("slots_at_start", sa.Integer(), nullable=True),
        sa.Column("positions_at_start", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("cycle_id", sa.Text(), nullable=True),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("confidence", Money(), nullable=False),
        sa.Column("entry", Money(), nullable=False),
        sa.Column("stop_loss", Money(), nullable=False),
        sa.Column("take_profit", Money(), nullable=False),
        sa.Column("rr", Money(), nullable=True),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("strategy_version", sa.Text(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("fate", sa.Text(), nullable=True),
        sa.Column("order_link_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "phantoms",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("recommendation_id", sa.Text(), nullable=True),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("entry", Money(), nullable=False),
        sa.Column("sl", Money(), nullable=False),
        sa.Column("tp", Money(), nullable=False),
        sa.Column("opened_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("exit_price", Money(), nullable=True),
        sa.Column("max_favourable", Money(), nullable=False),
        sa.Column("max_adverse", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("order_link_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("time_in_force", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("status_rank", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("create_type", sa.Text(), nullable=False),
        sa.Column("cancel_type", sa.Text(), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("avg_price", Money(), nullable=False),
        sa.Column("cum_exec_qty", Money(), nullable=False),
        sa.Column("cum_exec_value", Money(), nullable=False),
        sa.Column("cum_exec_fee", Money(), nullable=False),
        sa.Column("closed_pnl", Money(), nullable=False),
        sa.Column("stop_order_type", sa.Text(), nullable=False),
        sa.Column("trigger_price", Money(), nullable=False),
        sa.Column("trigger_by", sa.Text(), nullable=True),
        sa.Column("trigger_direction", sa.Integer(), nullable=False),
        sa.Column("take_profit", Money(), nullable=False),
        sa.Column("stop_loss", Money(), nullable=False),
        sa.Column("tp_trigger_by", sa.Text(), nullable=True),
        sa.Column("sl_trigger_by", sa.Text(), nullable=True),
        sa.Column("tpsl_mode", sa.Text(), nullable=True),
        sa.Column("tp_limit_price", Money(), nullable=False),
        sa.Column("sl_limit_price", Money(), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("close_on_trigger", sa.Boolean(), nullable=False),
        sa.Column("position_idx", sa.Integer(), nullable=False),
        sa.Column("parent_order_link_id", sa.Text(), nullable=False),
        sa.Column("last_price_on_created", Money(), nullable=False),
        sa.Column("trailing_distance", Money(), nullable=False),
        sa.Column("trailing_active_price", Money(), nullable=False),
        sa.Column("bot", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "executions",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("exec_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("order_link_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("exec_type", sa.Text(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("value", Money(), nullable=False),
        sa.Column("fee", Money(), nullable=False),
        sa.Column("fee_rate", Money(), nullable=False),
        sa.Column("exec_time", sa.BigInteger(), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=True),
        sa.Column("order_price", Money(), nullable=False),
        sa.Column("order_qty", Money(), nullable=False),
        sa.Column("leaves_qty", Money(), nullable=False),
        sa.Column("closed_size", Money(), nullable=False),
        sa.Column("exec_pnl", Money(), nullable=False),
        sa.Column("mark_price", Money(), nullable=False),
        sa.Column("index_price", Money(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("create_type", sa.Text(), nullable=False),
        sa.Column("stop_order_type", sa.Text(), nullable=False),
        sa.Column("bot", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exec_id"),
    )
    op.create_table(
        "trades",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("open_exec_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("qty", Money(), nullable=False),
        sa.Column("entry_price", Money(), nullable=False),
        sa.Column("entry_time", sa.BigInteger(), nullable=False),
        sa.Column("fees", Money(), nullable=False),
        sa.Column("exit_qty", Money(), nullable=False),
        sa.Column("exit_price", Money(), nullable=True),
        sa.Column("exit_time", sa.BigInteger(), nullable=True),
        sa.Column("pnl", Money(), nullable=True),
        sa.Column("pnl_pct", Money(), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("entry_order_link_id", sa.Text(), nullable=False),
        sa.Column("exit_order_link_id", sa.Text(), nullable=True),
        sa.Column("bot", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="trades_status_check"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_exec_id"),
    )
    op.create_table(
        "position_snapshots",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=True),
        sa.Column("size", Money(), nullable=False),
        sa.Column("entry", Money(), nullable=False),
        sa.Column("mark", Money(), nullable=False),
        sa.Column("upnl", Money(), nullable=False),
        sa.Column("stop_loss", Money(), nullable=False),
        sa.Column("take_profit", Money(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "candles",
        sa.Column("id", ROW_ID, nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("interval", sa.Text(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("open", Money(), nullable=False),
        sa.Column("high", Money(), nullable=False),
        sa.Column("low", Money(), nullable=False),
        sa.Column("close", Money(), nullable=False),
        sa.Column("volume", Money(), nullable=False),
        sa.Column("turnover", Money(), nullable=False),
        sa.Column("confirm", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("symbol", "interval", "start"),
    )


def downgrade() -> None:
    """Drop the nine tables."""
    op.drop_table("candles")
    op.drop_table("position_snapshots")
    op.drop_table("trades")
    op.drop_table("executions")
    op.drop_table("orders")
    op.drop_table("phantoms")
    op.drop_table("recommendations")
    op.drop_table("cycles")
    op.drop_table("config")
