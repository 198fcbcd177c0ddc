"""The store's tables, defined once for SQLite and PostgreSQL (the migrations in store/migrations build them).

Money, prices and quantities are Money (NUMERIC on PostgreSQL, TEXT decimals on SQLite); times are
BIGINT ms UTC; flags are booleans (INTEGER 0/1 on SQLite).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from tui_bot.store.dialect import ROW_ID, Money

metadata = MetaData()


def _text(name: str, nullable: bool = False) -> Column[str]:
    return Column(name, Text, nullable=nullable)


def _money(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, Money, nullable=nullable)


def _ms(name: str, nullable: bool = False) -> Column[int]:
    return Column(name, BigInteger, nullable=nullable)


config = Table(
    "config",
    metadata,
    Column("key", Text, primary_key=True),
    _text("value"),
    _ms("updated_ms"),
)

cycles = Table(
    "cycles",
    metadata,
    Column("id", Text, primary_key=True),
    _ms("started_ms"),
    _ms("finished_ms", True),
    _text("timeframe"),
    _text("status"),
    Column("recommendations", Integer, nullable=False, server_default="0"),
    Column("approved", Integer, nullable=False, server_default="0"),
    Column("rejected", Integer, nullable=False, server_default="0"),
    _text("skip_reason", True),
    Column("slots_at_start", Integer),
    Column("positions_at_start", Integer),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("cycle_id", Text, ForeignKey("cycles.id")),
    _text("symbol"),
    _text("side"),
    _money("confidence"),
    _money("entry"),
    _money("stop_loss"),
    _money("take_profit"),
    _money("rr", True),
    _text("strategy"),
    _text("strategy_version"),
    _text("reasoning"),
    _text("status"),
    _ms("created_ms"),
    _ms("updated_ms"),
    _text("fate", True),
    _text("order_link_id", True),
    _text("prompt_name", True),
    _text("prompt_version", True),
    _text("model_name", True),
    _text("raw_response", True),
    _text("chart_path", True),
    _text("features", True),
    Column("ml_score", Float, nullable=True),
    _text("ml_model_version", True),
    Column("ml_train_size", Integer, nullable=True),
    Column("ml_auc", Float, nullable=True),
    Column("ml_brier", Float, nullable=True),
    Index("recommendations_cycle", "cycle_id"),
)

phantoms = Table(
    "phantoms",
    metadata,
    Column("id", Text, primary_key=True),
    Column("recommendation_id", Text, ForeignKey("recommendations.id")),
    _text("symbol"),
    _text("side"),
    _money("entry"),
    _money("sl"),
    _money("tp"),
    _ms("opened_ms"),
    _ms("closed_ms", True),
    _text("outcome", True),
    _money("exit_price", True),
    _money("max_favourable"),
    _money("max_adverse"),
    _text("features", True),
    Index("phantoms_recommendation", "recommendation_id"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    _text("order_link_id"),
    _text("symbol"),
    _text("side"),
    _text("order_type"),
    _money("qty"),
    _money("price"),
    _text("time_in_force"),
    _text("status"),
    Column("status_rank", Integer, nullable=False),
    _ms("created_ms"),
    _ms("updated_ms"),
    _text("create_type"),
    _text("cancel_type"),
    _text("reject_reason"),
    _money("avg_price"),
    _money("cum_exec_qty"),
    _money("cum_exec_value"),
    _money("cum_exec_fee"),
    _money("closed_pnl"),
    _text("stop_order_type"),
    _money("trigger_price"),
    _text("trigger_by", True),
    Column("trigger_direction", Integer, nullable=False),
    _money("take_profit"),
    _money("stop_loss"),
    _text("tp_trigger_by", True),
    _text("sl_trigger_by", True),
    _text("tpsl_mode", True),
    _money("tp_limit_price"),
    _money("sl_limit_price"),
    Column("reduce_only", Boolean, nullable=False),
    Column("close_on_trigger", Boolean, nullable=False),
    Column("position_idx", Integer, nullable=False),
    _text("parent_order_link_id"),
    _money("last_price_on_created"),
    _money("trailing_distance"),
    _money("trailing_active_price"),
    _text("bot", True),
    _text("reason", True),
    Index("orders_open", "status_rank", "symbol"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("exec_id", Text, nullable=False, unique=True),
    _text("order_id"),
    _text("order_link_id"),
    _text("symbol"),
    _text("side"),
    _text("exec_type"),
    _money("price"),
    _money("qty"),
    _money("value"),
    _money("fee"),
    _money("fee_rate"),
    _ms("exec_time"),
    Column("is_maker", Boolean, nullable=False),
    _text("order_type", True),
    _money("order_price"),
    _money("order_qty"),
    _money("leaves_qty"),
    _money("closed_size"),
    _money("exec_pnl"),
    _money("mark_price"),
    _money("index_price"),
    Column("seq", BigInteger, nullable=False),
    _text("create_type"),
    _text("stop_order_type"),
    _text("bot", True),
    _text("reason", True),
    Index("executions_symbol_time", "symbol", "exec_time"),
    Index("executions_order", "order_id"),
    Index("executions_bot_time", "bot", "exec_time"),
    Index("executions_reason_time", "reason", "exec_time"),
    Index("executions_time", "exec_time"),
)

trades = Table(
    "trades",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    Column("open_exec_id", Text, nullable=False, unique=True),
    _text("symbol"),
    _text("side"),
    _text("status"),
    _money("qty"),
    _money("entry_price"),
    _ms("entry_time"),
    _money("fees"),
    _money("exit_qty"),
    _money("exit_price", True),
    _ms("exit_time", True),
    _money("pnl", True),
    _money("pnl_pct", True),
    _text("exit_reason", True),
    _text("entry_order_link_id"),
    _text("exit_order_link_id", True),
    _text("bot", True),
    CheckConstraint("status IN ('open', 'closed')", name="trades_status_check"),
    Index("trades_status", "status", "symbol"),
    Index("trades_entry_time", "entry_time"),
    Index("trades_bot_reason", "bot", "exit_reason"),
    Index("trades_exit_reason", "exit_reason"),
    Index("trades_exit_time", "exit_time"),
)

position_snapshots = Table(
    "position_snapshots",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    _text("symbol"),
    _text("side", True),
    _money("size"),
    _money("entry"),
    _money("mark"),
    _money("upnl"),
    _money("stop_loss"),
    _money("take_profit"),
    _text("reason"),
    _ms("ts_ms"),
    Index("position_snapshots_symbol_ts", "symbol", "ts_ms"),
)

candles = Table(
    "candles",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    _text("symbol"),
    _text("interval"),
    _ms("start"),
    _money("open"),
    _money("high"),
    _money("low"),
    _money("close"),
    _money("volume"),
    _money("turnover"),
    Column("confirm", Boolean, nullable=False),
    UniqueConstraint("symbol", "interval", "start"),
    Index("candles_start", "start"),
)

trade_reconciliations = Table(
    "trade_reconciliations",
    metadata,
    Column("open_exec_id", Text, primary_key=True),
    _text("symbol"),
    _ms("ts_ms"),
    _text("reason"),
    Column("after_row", BigInteger, nullable=False),
)

rejected_orders = Table(
    "rejected_orders",
    metadata,
    Column("id", ROW_ID, primary_key=True),
    _text("order_link_id"),
    _text("symbol"),
    _text("side"),
    _text("order_type"),
    _money("qty"),
    _money("price", True),
    Column("reduce_only", Boolean, nullable=False),
    Column("code", Integer, nullable=False),
    _text("message"),
    _ms("ts_ms"),
    Index("rejected_orders_ts", "ts_ms"),
)

TABLES: tuple[str, ...] = tuple(metadata.tables)

# -- the operators' views (revision 0006 creates them; kept out of `metadata`, which holds the tables) ----------

views = MetaData()
"""The read-only views, described for typed reads (money back as Decimal); created by SQL in revision 0006."""

fills = Table(
    "fills",
    views,
    Column("id", ROW_ID),
    _text("exec_id"),
    _text("bot", True),
    _text("reason", True),
    _ms("exec_time"),
    _text("symbol"),
    _text("side"),
    _money("qty"),
    _money("price"),
    _money("fee"),
    _text("exec_type"),
    _text("order_id"),
    _text("order_link_id"),
    _text("close_reason", True),
)

trades_pnl = Table(
    "trades_pnl",
    views,
    Column("id", ROW_ID),
    _text("bot", True),
    _text("symbol"),
    _text("side"),
    _text("close_reason", True),
    _money("net_pnl"),
    _money("fees"),
    _money("qty"),
    _money("exit_qty"),
    _money("entry_price"),
    _money("exit_price", True),
    _ms("entry_time"),
    _ms("exit_time", True),
    _ms("duration_ms", True),
    Column("win", Integer, nullable=False),
    _money("r", True),
)

VIEWS: tuple[str, ...] = tuple(views.tables)
