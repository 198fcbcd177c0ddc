"""The SQL behind each write op; called in the writer's thread inside its open transaction (blocking calls)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Executable, func, insert, or_, select, tuple_
from sqlalchemy.engine import Connection

from tui_bot.domain.enums import OrderStatus
from tui_bot.store import schema
from tui_bot.store.attribution import attribute_order
from tui_bot.store.booking import book_execution, repair_open_rows
from tui_bot.store.codec import (
    CYCLE_CODEC,
    EXECUTION_CODEC,
    KLINE_CODEC,
    ORDER_CODEC,
    PHANTOM_CODEC,
    RECOMMENDATION_CODEC,
    REJECTED_ORDER_CODEC,
    TRADE_CODEC,
    encode,
)
from tui_bot.store.dialect import insert_or_ignore, upsert
from tui_bot.store.ops import (
    ReconcileOpenTrades,
    RecordExecution,
    RecordRejection,
    SaveCycle,
    SavePhantom,
    SaveRecommendation,
    SaveTrade,
    SetConfig,
    SnapshotPosition,
    UpsertCandle,
    UpsertOrder,
    WriteOp,
)
from tui_bot.store.rows import Trade
from tui_bot.store.trades import TradeLedger

FINAL_RANK = 4  # Filled, Cancelled, Rejected, Deactivated: the order is closed for good

# Within one updatedTime, later lifecycle stages win (Untriggered → Triggered → New → … → closed).
STATUS_RANK = {
    OrderStatus.UNTRIGGERED: 0,
    OrderStatus.TRIGGERED: 1,
    OrderStatus.NEW: 2,
    OrderStatus.PARTIALLY_FILLED: 3,
    OrderStatus.FILLED: FINAL_RANK,
    OrderStatus.CANCELLED: FINAL_RANK,
    OrderStatus.REJECTED: FINAL_RANK,
    OrderStatus.DEACTIVATED: FINAL_RANK,
}

_TAGS = ("bot", "reason")
_SNAPSHOT_COLUMNS = (
    "symbol",
    "side",
    "size",
    "entry",
    "mark",
    "upnl",
    "stop_loss",
    "take_profit",
    "reason",
    "ts_ms",
)


def _order_is_newer(excluded: Any) -> Any:
    """A newer update wins, except that a closed order never reopens (a late or wrongly timed open update is stale)."""
    stored = schema.orders.c
    return (tuple_(excluded.updated_ms, excluded.status_rank) >= tuple_(stored.updated_ms, stored.status_rank)) & or_(
        stored.status_rank < FINAL_RANK, excluded.status_rank == FINAL_RANK
    )


class _Statements:
    """The write statements of one dialect."""

    def __init__(self, dialect: str) -> None:
        self.execution = insert_or_ignore(dialect, schema.executions, ("exec_id",)).returning(schema.executions.c.id)
        self.order = upsert(
            dialect, schema.orders, (*ORDER_CODEC.columns, "status_rank", *_TAGS), ("order_id",), _order_is_newer
        )
        self.config = upsert(dialect, schema.config, ("key", "value", "updated_ms"), ("key",))
        self.candle = upsert(
            dialect,
            schema.candles,
            KLINE_CODEC.columns,
            ("symbol", "interval", "start"),
            lambda excluded: excluded.confirm >= schema.candles.c.confirm,
        )
        self.trade = upsert(dialect, schema.trades, TRADE_CODEC.columns, ("open_exec_id",))
        self.cycle = upsert(dialect, schema.cycles, CYCLE_CODEC.columns, ("id",))
        self.recommendation = upsert(dialect, schema.recommendations, RECOMMENDATION_CODEC.columns, ("id",))
        self.phantom = upsert(dialect, schema.phantoms, PHANTOM_CODEC.columns, ("id",))
        self.mark = insert_or_ignore(dialect, schema.trade_reconciliations, ("open_exec_id",))


@cache
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)


def _sql(conn: Connection) -> _Statements:
    return _statements(conn.dialect.name)


def _run(conn: Connection, stmt: Executable, params: dict[str, object]) -> None:
    conn.execute(stmt, params)


def save_trade(conn: Connection, trade: Trade) -> None:
    """Insert or update a trade row keyed by its opening exec id."""
    _run(conn, _sql(conn).trade, TRADE_CODEC.params(trade))


def _record_execution(conn: Connection, ledger: TradeLedger, op: RecordExecution) -> None:
    execution = op.execution
    whose = ledger.attribute(execution)  # before booking: the exchange's orders act on the trade open until now
    params = {**EXECUTION_CODEC.params(execution), "bot": whose.bot, "reason": whose.reason}
    if (conn.execute(_sql(conn).execution, params)).first() is None:
        return
    for trade in book_execution(conn, ledger, execution):
        save_trade(conn, trade)


def _upsert_order(conn: Connection, ledger: TradeLedger, op: UpsertOrder) -> None:
    order = op.order
    whose = attribute_order(order, ledger.holder)
    params = {**ORDER_CODEC.params(order), "status_rank": STATUS_RANK[order.status], "bot": whose.bot}
    params["reason"] = whose.reason
    _run(conn, _sql(conn).order, params)


def _record_rejection(conn: Connection, _: TradeLedger, op: RecordRejection) -> None:
    _run(conn, insert(schema.rejected_orders), REJECTED_ORDER_CODEC.params(op.rejected))


def _snapshot_position(conn: Connection, _: TradeLedger, op: SnapshotPosition) -> None:
    p = op.position
    values = (
        p.symbol,
        p.side,
        p.size,
        p.entry_price,
        p.mark_price,
        p.unrealised_pnl,
        p.stop_loss,
        p.take_profit,
        op.reason,
        op.ts_ms,
    )
    params = {c: encode(v) for c, v in zip(_SNAPSHOT_COLUMNS, values, strict=True)}
    _run(conn, insert(schema.position_snapshots), params)


def _set_config(conn: Connection, _: TradeLedger, op: SetConfig) -> None:
    _run(conn, _sql(conn).config, {"key": op.key, "value": op.value_json, "updated_ms": op.updated_ms})


def _upsert_candle(conn: Connection, _: TradeLedger, op: UpsertCandle) -> None:
    _run(conn, _sql(conn).candle, KLINE_CODEC.params(op.kline))


def _save_trade(conn: Connection, _: TradeLedger, op: SaveTrade) -> None:
    save_trade(conn, op.trade)


def _save_cycle(conn: Connection, _: TradeLedger, op: SaveCycle) -> None:
    _run(conn, _sql(conn).cycle, CYCLE_CODEC.params(op.cycle))


def _save_recommendation(conn: Connection, _: TradeLedger, op: SaveRecommendation) -> None:
    _run(conn, _sql(conn).recommendation, RECOMMENDATION_CODEC.params(op.recommendation))


def _save_phantom(conn: Connection, _: TradeLedger, op: SavePhantom) -> None:
    _run(conn, _sql(conn).phantom, PHANTOM_CODEC.params(op.phantom))


def _reconcile_open_trades(conn: Connection, ledger: TradeLedger, op: ReconcileOpenTrades) -> None:
    for trade in repair_open_rows(conn, ledger):
        save_trade(conn, trade)
    closed = ledger.reconcile(op.positions, op.ts_ms, op.reason)
    if not closed:
        return
    after_row = (conn.execute(select(func.coalesce(func.max(schema.executions.c.id), 0)))).scalar_one()
    for trade in closed:
        save_trade(conn, trade)
        mark = {
            "open_exec_id": trade.open_exec_id,
            "symbol": trade.symbol,
            "ts_ms": op.ts_ms,
            "reason": op.reason,
            "after_row": after_row,
        }
        _run(conn, _sql(conn).mark, mark)


_HANDLERS: dict[type, Callable[[Connection, TradeLedger, Any], None]] = {
    RecordExecution: _record_execution,
    UpsertOrder: _upsert_order,
    RecordRejection: _record_rejection,
    SnapshotPosition: _snapshot_position,
    SetConfig: _set_config,
    UpsertCandle: _upsert_candle,
    SaveTrade: _save_trade,
    SaveCycle: _save_cycle,
    SaveRecommendation: _save_recommendation,
    SavePhantom: _save_phantom,
    ReconcileOpenTrades: _reconcile_open_trades,
}


def apply_op(conn: Connection, ledger: TradeLedger, op: WriteOp) -> None:
    """Perform one op on conn (inside the caller's transaction)."""
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise TypeError(f"not a store write op: {op!r}")
    handler(conn, ledger, op)
