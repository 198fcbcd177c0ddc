"""A database file the pre-alembic store made (PRAGMA user_version steps, TEXT decimals) opens without loss."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from enum import Enum
from pathlib import Path

from tests.store.factories import D, fill, link, order, write_session
from tests.store.legacy_schema import MIGRATIONS, create_legacy_database
from tui_bot.domain.enums import OrderStatus, Side
from tui_bot.domain.models import Kline
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.booking import load_marks
from tui_bot.store.codec import EXECUTION_CODEC, KLINE_CODEC, ORDER_CODEC
from tui_bot.store.db import SCHEMA_VERSION, open_database
from tui_bot.store.ops import RecordExecution
from tui_bot.store.repos import get_config, load_candles, load_executions, load_orders, load_trades

ENTRY = fill("e1", Side.BUY, "0.123", "50000.10", fee="0.0615", order_link_id=link(OrderReason.ENTRY), exec_time=10)
FLAT = fill("s1", Side.SELL, "1", "20.5", symbol="SOLUSDT", exec_time=11)
CANDLE = Kline("BTCUSDT", "1", 60_000, D("100.10"), D("110"), D("90.00"), D("105.5"), D("5.000"), D("527.75"), True)


def _old_value(value: object) -> object:
    """A value as the old codec stored it: enums by value, bools as 0/1, Decimal as its text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, object]) -> None:
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", [_old_value(v) for v in row.values()])


def _old_file(path: Path) -> None:
    """A version-3 file with an open trade, a closed flat pair's row, an order, a candle, config and a mark."""
    with create_legacy_database(path) as old:
        for execution, bot, reason in ((ENTRY, "bot1", "entry"), (FLAT, None, None)):
            _insert(old, "executions", {**EXECUTION_CODEC.params(execution), "bot": bot, "reason": reason})
        trade = {"open_exec_id": "e1", "symbol": "BTCUSDT", "side": "Buy", "status": "open", "qty": "0.123"}
        trade |= {"entry_price": "50000.10", "entry_time": 10, "fees": "0.0615", "exit_qty": "0"}
        _insert(old, "trades", {**trade, "entry_order_link_id": ENTRY.order_link_id, "bot": "bot1"})
        flat = {"open_exec_id": "s1", "symbol": "SOLUSDT", "side": "Sell", "status": "closed", "qty": "1"}
        flat |= {"entry_price": "20.5", "fees": "0", "entry_order_link_id": "", "exit_time": 12}
        _insert(old, "trades", {**trade, **flat, "exit_reason": "reconciled"})
        placed = order("o1", OrderStatus.NEW, 5)
        _insert(old, "orders", {**ORDER_CODEC.params(placed), "status_rank": 2, "bot": None, "reason": None})
        _insert(old, "candles", KLINE_CODEC.params(CANDLE))
        _insert(old, "config", {"key": "watchlist", "value": '["BTCUSDT"]', "updated_ms": 1})
        mark = {"open_exec_id": "s1", "symbol": "SOLUSDT", "ts_ms": 12, "reason": "reconciled", "after_row": 2}
        _insert(old, "trade_reconciliations", mark)
        assert old.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_file_at_the_last_user_version_opens_with_every_row_and_keeps_booking(db_path: Path) -> None:
    _old_file(db_path)
    db = await open_database(db_path)
    try:
        assert await db.version() == SCHEMA_VERSION
        assert await load_executions(db) == [ENTRY, FLAT]
        assert [o.order_id for o in await load_orders(db, open_only=True)] == ["o1"]
        assert await load_candles(db, "BTCUSDT", "1") == [CANDLE]
        assert await get_config(db) == {"watchlist": ["BTCUSDT"]}
        assert [m.open_exec_id for m in await load_marks(db)] == ["s1"]
        [open_trade] = await load_trades(db, "open")
        assert (open_trade.open_exec_id, open_trade.qty, open_trade.entry_price) == ("e1", D("0.123"), D("50000.10"))
    finally:
        await db.close()
    exit_fill = fill("x1", Side.SELL, "0.123", "50100.10", order_link_id=link(OrderReason.TAKE_PROFIT), exec_time=20)
    await write_session(db_path, RecordExecution(exit_fill))
    db = await open_database(db_path)
    try:
        closed = {t.open_exec_id: t for t in await load_trades(db, "closed")}
        assert closed["e1"].pnl == D("12.3") - D("0.0615")
        assert closed["e1"].exit_reason == "take_profit"
        assert (closed["s1"].exit_reason, closed["s1"].exit_time) == ("reconciled", 12)
    finally:
        await db.close()
