"""The operators' queries over the views of revision 0006: the documented "PnL by close reason per bot" SQL, and the
closed trades a period's statistics are worked out from (exact Decimal sums on both backends)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select

from tui_bot.store import schema
from tui_bot.store.db import Database

PNL_BY_CLOSE_REASON = """\
SELECT bot,
       close_reason,
       COUNT(*)     AS trades,
       SUM(win)     AS wins,
       AVG(win)     AS win_rate,
       SUM(net_pnl) AS total_pnl,
       AVG(net_pnl) AS avg_pnl
FROM trades_pnl
GROUP BY bot, close_reason
ORDER BY bot, close_reason"""
"""PnL by close reason per bot (count, wins, win rate 0-1, total and average net PnL), as the README shows it.

On PostgreSQL the sums are exact NUMERIC; SQLite keeps money as TEXT decimals and sums them as REAL (floating
point), so `tui-bot stats` adds up the rows of trades_pnl in Decimal instead."""


@dataclass(frozen=True, slots=True)
class ClosedTradePnl:
    """One row of trades_pnl: a closed trade's bot, symbol, close reason, net PnL (after both fees), R and times."""

    bot: str | None
    symbol: str
    close_reason: str | None
    net_pnl: Decimal
    r: Decimal | None
    entry_time: int
    exit_time: int | None


def _closed_trades_query(bot: str | None, since_ms: int | None) -> Select[Any]:
    v = schema.trades_pnl.c
    query = select(v.bot, v.symbol, v.close_reason, v.net_pnl, v.r, v.entry_time, v.exit_time)
    if bot is not None:
        query = query.where(v.bot == bot)
    if since_ms is not None:
        query = query.where(v.exit_time >= since_ms)
    return query.order_by(v.exit_time, v.id)


async def closed_trade_pnls(
    db: Database, *, bot: str | None = None, since_ms: int | None = None
) -> list[ClosedTradePnl]:
    """The closed trades of one bot (or all) that closed at or after since_ms (or ever), oldest exit first."""
    async with db.connect() as conn:
        rows = (await conn.execute(_closed_trades_query(bot, since_ms))).all()
    return [ClosedTradePnl(*row) for row in rows]


async def pnl_by_close_reason(db: Database) -> list[dict[str, Any]]:
    """The rows of PNL_BY_CLOSE_REASON, each as column name → value (the driver's numbers, unconverted)."""
    return [dict(row._mapping) for row in await db.fetch(PNL_BY_CLOSE_REASON)]
