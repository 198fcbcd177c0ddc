"""Read queries behind the history screens: closed trades with their entry orders, orders seen and refused."""

from __future__ import annotations

import aiosqlite

from tui_bot.domain.models import Order
from tui_bot.store.codec import ORDER_CODEC, REJECTED_ORDER_CODEC, TRADE_CODEC
from tui_bot.store.rows import RejectedOrder, Trade


async def closed_trades(conn: aiosqlite.Connection) -> list[Trade]:
    """Every closed trade, the newest close first."""
    sql = (
        f"SELECT {TRADE_CODEC.select_list()} FROM trades WHERE status = 'closed'"
        " ORDER BY COALESCE(exit_time, entry_time) DESC, id DESC"
    )
    return [TRADE_CODEC.decode(row) for row in await conn.execute_fetchall(sql)]


async def entry_orders(conn: aiosqlite.Connection) -> list[Order]:
    """The stored orders that opened a closed trade (their stop loss gives the trade's initial risk), oldest first."""
    sql = (
        f"SELECT {ORDER_CODEC.select_list()} FROM orders WHERE order_link_id != '' AND order_link_id IN"
        " (SELECT entry_order_link_id FROM trades WHERE status = 'closed') ORDER BY updated_ms, order_id"
    )
    return [ORDER_CODEC.decode(row) for row in await conn.execute_fetchall(sql)]


async def recent_orders(conn: aiosqlite.Connection, limit: int) -> list[Order]:
    """The newest stored orders (any status), newest first, at most limit."""
    sql = f"SELECT {ORDER_CODEC.select_list()} FROM orders ORDER BY created_ms DESC, updated_ms DESC LIMIT ?"
    return [ORDER_CODEC.decode(row) for row in await conn.execute_fetchall(sql, (limit,))]


async def recent_rejections(conn: aiosqlite.Connection, limit: int) -> list[RejectedOrder]:
    """The newest orders the exchange refused when sent, newest first, at most limit."""
    sql = f"SELECT {REJECTED_ORDER_CODEC.select_list()} FROM rejected_orders ORDER BY ts_ms DESC, id DESC LIMIT ?"
    return [REJECTED_ORDER_CODEC.decode(row) for row in await conn.execute_fetchall(sql, (limit,))]
