"""Read queries behind the history screens: closed trades with their entry orders, orders seen and refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, func, select

from tui_bot.domain.models import Execution, Order
from tui_bot.store import schema
from tui_bot.store.codec import EXECUTION_CODEC, ORDER_CODEC, REJECTED_ORDER_CODEC, TRADE_CODEC
from tui_bot.store.db import Database
from tui_bot.store.rows import RejectedOrder, Trade


async def _rows(db: Database, query: Executable) -> list[Any]:
    async with db.connect() as conn:
        return list(await conn.execute(query))


async def closed_trades(db: Database) -> list[Trade]:
    """Every closed trade, the newest close first."""
    t = schema.trades.c
    query = (
        select(*TRADE_CODEC.select_columns())
        .where(t.status == "closed")
        .order_by(func.coalesce(t.exit_time, t.entry_time).desc(), t.id.desc())
    )
    return [TRADE_CODEC.decode(row) for row in await _rows(db, query)]


async def entry_orders(db: Database) -> list[Order]:
    """The stored orders that opened a closed trade (their stop loss gives the trade's initial risk), oldest first."""
    o, t = schema.orders.c, schema.trades.c
    opened = select(t.entry_order_link_id).where(t.status == "closed")
    query = (
        select(*ORDER_CODEC.select_columns())
        .where(o.order_link_id != "", o.order_link_id.in_(opened))
        .order_by(o.updated_ms, o.order_id)
    )
    return [ORDER_CODEC.decode(row) for row in await _rows(db, query)]


async def recent_orders(db: Database, limit: int) -> list[Order]:
    """The newest stored orders (any status), newest first, at most limit."""
    o = schema.orders.c
    query = select(*ORDER_CODEC.select_columns()).order_by(o.created_ms.desc(), o.updated_ms.desc()).limit(limit)
    return [ORDER_CODEC.decode(row) for row in await _rows(db, query)]


async def recent_rejections(db: Database, limit: int) -> list[RejectedOrder]:
    """The newest orders the exchange refused when sent, newest first, at most limit."""
    r = schema.rejected_orders.c
    query = select(*REJECTED_ORDER_CODEC.select_columns()).order_by(r.ts_ms.desc(), r.id.desc()).limit(limit)
    return [REJECTED_ORDER_CODEC.decode(row) for row in await _rows(db, query)]


async def recent_executions(db: Database, limit: int) -> list[Execution]:
    """The newest stored executions, newest first, at most limit."""
    e = schema.executions.c
    query = select(*EXECUTION_CODEC.select_columns()).order_by(e.exec_time.desc(), e.id.desc()).limit(limit)
    return [EXECUTION_CODEC.decode(row) for row in await _rows(db, query)]
