"""Read helpers for start-up and tests; they never write (the writer task is the only writer)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Executable, func, or_, select

from tui_bot.domain.models import Execution, Kline, Order
from tui_bot.store import schema
from tui_bot.store.codec import (
    CYCLE_CODEC,
    EXECUTION_CODEC,
    KLINE_CODEC,
    ORDER_CODEC,
    PHANTOM_CODEC,
    RECOMMENDATION_CODEC,
    TRADE_CODEC,
)
from tui_bot.store.db import Database
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, Trade
from tui_bot.store.schema import TABLES

log = logging.getLogger(__name__)

_OPEN_STATUSES = ("New", "PartiallyFilled", "Untriggered", "Triggered")


async def _rows(db: Database, query: Executable) -> list[Any]:
    async with db.connect() as conn:
        return list(await conn.execute(query))


async def load_executions(db: Database, symbol: str | None = None) -> list[Execution]:
    """Stored executions (optionally of one symbol) in exec order."""
    e = schema.executions.c
    query = select(*EXECUTION_CODEC.select_columns()).order_by(e.exec_time, e.seq, e.id)
    if symbol:
        query = query.where(e.symbol == symbol)
    return [EXECUTION_CODEC.decode(row) for row in await _rows(db, query)]


async def exec_ids(db: Database) -> set[str]:
    """Every stored exec id."""
    return {row[0] for row in await _rows(db, select(schema.executions.c.exec_id))}


async def exec_times(db: Database, since_ms: int = 0) -> dict[str, int]:
    """Exec id -> exec time (ms) of the stored executions at or after since_ms."""
    e = schema.executions.c
    query = select(e.exec_id, e.exec_time).where(e.exec_time >= since_ms)
    return {row[0]: int(row[1]) for row in await _rows(db, query)}


async def last_execution_time(db: Database) -> int | None:
    """The newest stored exec time (ms), or None when there are none."""
    newest = (await _rows(db, select(func.max(schema.executions.c.exec_time))))[0][0]
    return None if newest is None else int(newest)


async def load_orders(db: Database, open_only: bool = False) -> list[Order]:
    """Stored orders, oldest first; open_only keeps those not closed (New, PartiallyFilled, Untriggered, Triggered)."""
    o = schema.orders.c
    query = select(*ORDER_CODEC.select_columns()).order_by(o.created_ms, o.order_id)
    if open_only:
        query = query.where(o.status.in_(_OPEN_STATUSES))
    return [ORDER_CODEC.decode(row) for row in await _rows(db, query)]


async def load_trades(db: Database, status: str | None = None) -> list[Trade]:
    """Stored trades (optionally only "open" or "closed"), by entry time."""
    t = schema.trades.c
    query = select(*TRADE_CODEC.select_columns()).order_by(t.entry_time, t.id)
    if status:
        query = query.where(t.status == status)
    return [TRADE_CODEC.decode(row) for row in await _rows(db, query)]


async def get_config(db: Database) -> dict[str, Any]:
    """Every config key with its decoded JSON value (a row that is not JSON is left out, with a warning)."""
    c = schema.config.c
    config: dict[str, Any] = {}
    for key, value in await _rows(db, select(c.key, c.value).order_by(c.key)):
        try:
            config[key] = json.loads(value)
        except ValueError:
            log.warning("config row %s is not JSON; ignored", key)
    return config


async def load_candles(db: Database, symbol: str, interval: str, limit: int | None = None) -> list[Kline]:
    """The newest candles of one symbol and interval (all when limit is None), oldest first."""
    k = schema.candles.c
    query = (
        select(*KLINE_CODEC.select_columns())
        .where(k.symbol == symbol, k.interval == interval)
        .order_by(k.start.desc())
        .limit(limit)
    )
    return [KLINE_CODEC.decode(row) for row in reversed(await _rows(db, query))]


async def load_cycles(db: Database) -> list[CycleRow]:
    """Stored analysis cycles by start time."""
    c = schema.cycles.c
    query = select(*CYCLE_CODEC.select_columns()).order_by(c.started_ms, c.id)
    return [CYCLE_CODEC.decode(row) for row in await _rows(db, query)]


async def load_recommendations(db: Database, cycle_id: str | None = None) -> list[RecommendationRow]:
    """Stored recommendations (optionally of one cycle) by creation time."""
    r = schema.recommendations.c
    query = select(*RECOMMENDATION_CODEC.select_columns()).order_by(r.created_ms, r.id)
    if cycle_id:
        query = query.where(r.cycle_id == cycle_id)
    return [RECOMMENDATION_CODEC.decode(row) for row in await _rows(db, query)]


async def load_shown_recommendations(db: Database, newest: int) -> list[RecommendationRow]:
    """Every pending recommendation plus the newest ones (up to newest), oldest first: what a console shows."""
    r = schema.recommendations.c
    latest = select(r.id).order_by(r.created_ms.desc(), r.id.desc()).limit(newest)
    query = (
        select(*RECOMMENDATION_CODEC.select_columns())
        .where(or_(r.status == "pending", r.id.in_(latest.scalar_subquery())))
        .order_by(r.created_ms, r.id)
    )
    return [RECOMMENDATION_CODEC.decode(row) for row in await _rows(db, query)]


async def load_phantoms(db: Database, open_only: bool = False) -> list[PhantomRow]:
    """Stored phantom trades (optionally only those not closed yet) by open time."""
    p = schema.phantoms.c
    query = select(*PHANTOM_CODEC.select_columns()).order_by(p.opened_ms, p.id)
    if open_only:
        query = query.where(p.closed_ms.is_(None))
    return [PHANTOM_CODEC.decode(row) for row in await _rows(db, query)]


async def count(db: Database, table: str) -> int:
    """Number of rows in one of the store's tables."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    rows = await _rows(db, select(func.count()).select_from(schema.metadata.tables[table]))
    return int(rows[0][0])


async def first_snapshot_since(
    db: Database, symbol: str, reason_prefix: str, since_ms: int
) -> tuple[str, str, int] | None:
    """Entry, stop loss (decimal text) and time of symbol's first snapshot whose reason starts with reason_prefix."""
    s = schema.position_snapshots.c
    query = (
        select(s.entry, s.stop_loss, s.ts_ms)
        .where(s.symbol == symbol, s.ts_ms >= since_ms, func.substr(s.reason, 1, len(reason_prefix)) == reason_prefix)
        .order_by(s.ts_ms, s.id)
        .limit(1)
    )
    rows = await _rows(db, query)
    if not rows:
        return None
    entry, stop, ts_ms = rows[0]
    return str(entry), str(stop), int(ts_ms)
