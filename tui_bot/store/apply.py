"""The SQL behind each write op; called by the writer inside its open transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

from tui_bot.domain.enums import OrderStatus
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
    insert_sql,
    upsert_sql,
)
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
from tui_bot.store.trades import TradeLedger, book_execution, link_tags, repair_open_rows

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
_EXECUTION_SQL = insert_sql("executions", (*EXECUTION_CODEC.columns, *_TAGS), "INSERT OR IGNORE") + " RETURNING id"
# A newer update wins, except that a closed order never reopens (a late or wrongly timed open update is stale).
_ORDER_SQL = upsert_sql(
    "orders",
    (*ORDER_CODEC.columns, "status_rank", *_TAGS),
    ("order_id",),
    "(excluded.updated_ms, excluded.status_rank) >= (orders.updated_ms, orders.status_rank)"
    f" AND (orders.status_rank < {FINAL_RANK} OR excluded.status_rank = {FINAL_RANK})",
)
_REJECTION_SQL = insert_sql("rejected_orders", REJECTED_ORDER_CODEC.columns)
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
_SNAPSHOT_SQL = insert_sql("position_snapshots", _SNAPSHOT_COLUMNS)
_CONFIG_SQL = upsert_sql("config", ("key", "value", "updated_ms"), ("key",))
_CANDLE_SQL = upsert_sql(
    "candles",
    KLINE_CODEC.columns,
    ("symbol", "interval", "start"),
    "excluded.confirm >= candles.confirm",
)
_TRADE_SQL = upsert_sql("trades", TRADE_CODEC.columns, ("open_exec_id",))
_CYCLE_SQL = upsert_sql("cycles", CYCLE_CODEC.columns, ("id",))
_RECOMMENDATION_SQL = upsert_sql("recommendations", RECOMMENDATION_CODEC.columns, ("id",))
_PHANTOM_SQL = upsert_sql("phantoms", PHANTOM_CODEC.columns, ("id",))
_MARK_SQL = insert_sql(
    "trade_reconciliations", ("open_exec_id", "symbol", "ts_ms", "reason", "after_row"), "INSERT OR IGNORE"
)


async def _run(conn: aiosqlite.Connection, sql: str, params: dict[str, object]) -> list[Any]:
    """Execute one statement and return its rows (the cursor is closed in the same call)."""
    return list(await conn.execute_fetchall(sql, params))


async def save_trade(conn: aiosqlite.Connection, trade: Trade) -> None:
    """Insert or update a trade row keyed by its opening exec id."""
    await _run(conn, _TRADE_SQL, TRADE_CODEC.params(trade))


async def _record_execution(conn: aiosqlite.Connection, ledger: TradeLedger, op: RecordExecution) -> None:
    execution = op.execution
    bot, reason = link_tags(execution.order_link_id)
    params = {**EXECUTION_CODEC.params(execution), "bot": bot, "reason": reason}
    if not await _run(conn, _EXECUTION_SQL, params):
        return
    for trade in await book_execution(conn, ledger, execution):
        await save_trade(conn, trade)


async def _upsert_order(conn: aiosqlite.Connection, _: TradeLedger, op: UpsertOrder) -> None:
    order = op.order
    bot, reason = link_tags(order.order_link_id)
    params = {**ORDER_CODEC.params(order), "status_rank": STATUS_RANK[order.status], "bot": bot, "reason": reason}
    await _run(conn, _ORDER_SQL, params)


async def _record_rejection(conn: aiosqlite.Connection, _: TradeLedger, op: RecordRejection) -> None:
    await _run(conn, _REJECTION_SQL, REJECTED_ORDER_CODEC.params(op.rejected))


async def _snapshot_position(conn: aiosqlite.Connection, _: TradeLedger, op: SnapshotPosition) -> None:
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
    await _run(conn, _SNAPSHOT_SQL, {c: encode(v) for c, v in zip(_SNAPSHOT_COLUMNS, values, strict=True)})


async def _set_config(conn: aiosqlite.Connection, _: TradeLedger, op: SetConfig) -> None:
    await _run(conn, _CONFIG_SQL, {"key": op.key, "value": op.value_json, "updated_ms": op.updated_ms})


async def _upsert_candle(conn: aiosqlite.Connection, _: TradeLedger, op: UpsertCandle) -> None:
    await _run(conn, _CANDLE_SQL, KLINE_CODEC.params(op.kline))


async def _save_trade(conn: aiosqlite.Connection, _: TradeLedger, op: SaveTrade) -> None:
    await save_trade(conn, op.trade)


async def _save_cycle(conn: aiosqlite.Connection, _: TradeLedger, op: SaveCycle) -> None:
    await _run(conn, _CYCLE_SQL, CYCLE_CODEC.params(op.cycle))


async def _save_recommendation(conn: aiosqlite.Connection, _: TradeLedger, op: SaveRecommendation) -> None:
    await _run(conn, _RECOMMENDATION_SQL, RECOMMENDATION_CODEC.params(op.recommendation))


async def _save_phantom(conn: aiosqlite.Connection, _: TradeLedger, op: SavePhantom) -> None:
    await _run(conn, _PHANTOM_SQL, PHANTOM_CODEC.params(op.phantom))


async def _reconcile_open_trades(conn: aiosqlite.Connection, ledger: TradeLedger, op: ReconcileOpenTrades) -> None:
    for trade in await repair_open_rows(conn, ledger):
        await save_trade(conn, trade)
    closed = ledger.reconcile(op.positions, op.ts_ms, op.reason)
    if not closed:
        return
    after_row = (await _run(conn, "SELECT COALESCE(MAX(id), 0) FROM executions", {}))[0][0]
    for trade in closed:
        await save_trade(conn, trade)
        mark = {
            "open_exec_id": trade.open_exec_id,
            "symbol": trade.symbol,
            "ts_ms": op.ts_ms,
            "reason": op.reason,
            "after_row": after_row,
        }
        await _run(conn, _MARK_SQL, mark)


_HANDLERS: dict[type, Callable[[aiosqlite.Connection, TradeLedger, Any], Awaitable[None]]] = {
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


async def apply_op(conn: aiosqlite.Connection, ledger: TradeLedger, op: WriteOp) -> None:
    """Perform one op on conn (inside the caller's transaction)."""
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise TypeError(f"not a store write op: {op!r}")
    await handler(conn, ledger, op)
