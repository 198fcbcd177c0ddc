"""Read helpers for start-up and tests; they never write (the writer task is the only writer)."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiosqlite

from tui_bot.domain.models import Execution, Kline, Order
from tui_bot.store.codec import (
    CYCLE_CODEC,
    EXECUTION_CODEC,
    KLINE_CODEC,
    ORDER_CODEC,
    PHANTOM_CODEC,
    RECOMMENDATION_CODEC,
    TRADE_CODEC,
)
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, Trade
from tui_bot.store.schema import TABLES

log = logging.getLogger(__name__)


async def _rows(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
    return list(await conn.execute_fetchall(sql, params))


async def load_executions(conn: aiosqlite.Connection, symbol: str | None = None) -> list[Execution]:
    """Stored executions (optionally of one symbol) in exec order."""
    where, params = ("WHERE symbol = ?", (symbol,)) if symbol else ("", ())
    sql = f"SELECT {EXECUTION_CODEC.select_list()} FROM executions {where} ORDER BY exec_time, seq, id"
    return [EXECUTION_CODEC.decode(row) for row in await _rows(conn, sql, params)]


async def exec_ids(conn: aiosqlite.Connection) -> set[str]:
    """Every stored exec id."""
    return {row[0] for row in await _rows(conn, "SELECT exec_id FROM executions")}


async def exec_times(conn: aiosqlite.Connection, since_ms: int = 0) -> dict[str, int]:
    """Exec id -> exec time (ms) of the stored executions at or after since_ms."""
    sql = "SELECT exec_id, exec_time FROM executions WHERE exec_time >= ?"
    return {row[0]: int(row[1]) for row in await _rows(conn, sql, (since_ms,))}


async def last_execution_time(conn: aiosqlite.Connection) -> int | None:
    """The newest stored exec time (ms), or None when there are none."""
    rows = await _rows(conn, "SELECT MAX(exec_time) FROM executions")
    newest = rows[0][0]
    return None if newest is None else int(newest)


async def load_orders(conn: aiosqlite.Connection, open_only: bool = False) -> list[Order]:
    """Stored orders, oldest first; open_only keeps those not closed (New, PartiallyFilled, Untriggered, Triggered)."""
    where = "WHERE status IN ('New', 'PartiallyFilled', 'Untriggered', 'Triggered')" if open_only else ""
    sql = f"SELECT {ORDER_CODEC.select_list()} FROM orders {where} ORDER BY created_ms, order_id"
    return [ORDER_CODEC.decode(row) for row in await _rows(conn, sql)]


async def load_trades(conn: aiosqlite.Connection, status: str | None = None) -> list[Trade]:
    """Stored trades (optionally only "open" or "closed"), by entry time."""
    where, params = ("WHERE status = ?", (status,)) if status else ("", ())
    sql = f"SELECT {TRADE_CODEC.select_list()} FROM trades {where} ORDER BY entry_time, id"
    return [TRADE_CODEC.decode(row) for row in await _rows(conn, sql, params)]


async def get_config(conn: aiosqlite.Connection) -> dict[str, Any]:
    """Every config key with its decoded JSON value (a row that is not JSON is left out, with a warning)."""
    config: dict[str, Any] = {}
    for key, value in await _rows(conn, "SELECT key, value FROM config ORDER BY key"):
        try:
            config[key] = json.loads(value)
        except ValueError:
            log.warning("config row %s is not JSON; ignored", key)
    return config


async def load_candles(conn: aiosqlite.Connection, symbol: str, interval: str, limit: int | None = None) -> list[Kline]:
    """The newest candles of one symbol and interval (all when limit is None), oldest first."""
    sql = (
        f"SELECT {KLINE_CODEC.select_list()} FROM candles WHERE symbol = ? AND interval = ? ORDER BY start DESC LIMIT ?"
    )
    rows = await _rows(conn, sql, (symbol, interval, -1 if limit is None else limit))
    return [KLINE_CODEC.decode(row) for row in reversed(rows)]


async def load_cycles(conn: aiosqlite.Connection) -> list[CycleRow]:
    """Stored analysis cycles by start time."""
    sql = f"SELECT {CYCLE_CODEC.select_list()} FROM cycles ORDER BY started_ms, id"
    return [CYCLE_CODEC.decode(row) for row in await _rows(conn, sql)]


async def load_recommendations(conn: aiosqlite.Connection, cycle_id: str | None = None) -> list[RecommendationRow]:
    """Stored recommendations (optionally of one cycle) by creation time."""
    where, params = ("WHERE cycle_id = ?", (cycle_id,)) if cycle_id else ("", ())
    sql = f"SELECT {RECOMMENDATION_CODEC.select_list()} FROM recommendations {where} ORDER BY created_ms, id"
    return [RECOMMENDATION_CODEC.decode(row) for row in await _rows(conn, sql, params)]


async def load_shown_recommendations(conn: aiosqlite.Connection, newest: int) -> list[RecommendationRow]:
    """Every pending recommendation plus the newest ones (up to newest), oldest first: what a console shows."""
    sql = (
        f"SELECT {RECOMMENDATION_CODEC.select_list()} FROM recommendations WHERE status = 'pending' OR id IN "
        "(SELECT id FROM recommendations ORDER BY created_ms DESC, id DESC LIMIT ?) ORDER BY created_ms, id"
    )
    return [RECOMMENDATION_CODEC.decode(row) for row in await _rows(conn, sql, (newest,))]


async def load_phantoms(conn: aiosqlite.Connection, open_only: bool = False) -> list[PhantomRow]:
    """Stored phantom trades (optionally only those not closed yet) by open time."""
    where = "WHERE closed_ms IS NULL" if open_only else ""
    sql = f"SELECT {PHANTOM_CODEC.select_list()} FROM phantoms {where} ORDER BY opened_ms, id"
    return [PHANTOM_CODEC.decode(row) for row in await _rows(conn, sql)]


async def count(conn: aiosqlite.Connection, table: str) -> int:
    """Number of rows in one of the store's tables."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    rows = await _rows(conn, f"SELECT COUNT(*) FROM {table}")
    return int(rows[0][0])


async def first_snapshot_since(
    conn: aiosqlite.Connection, symbol: str, reason_prefix: str, since_ms: int
) -> tuple[str, str, int] | None:
    """Entry, stop loss (decimal text) and time of symbol's first snapshot whose reason starts with reason_prefix."""
    sql = (
        "SELECT entry, stop_loss, ts_ms FROM position_snapshots WHERE symbol = ? AND ts_ms >= ? "
        "AND substr(reason, 1, ?) = ? ORDER BY ts_ms, id LIMIT 1"
    )
    rows = await _rows(conn, sql, (symbol, since_ms, len(reason_prefix), reason_prefix))
    if not rows:
        return None
    entry, stop, ts_ms = rows[0]
    return str(entry), str(stop), int(ts_ms)
