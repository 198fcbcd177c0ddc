"""Booking stored executions: the ledger replayed from the executions table with the stored force-closures,
late fills rebooked in exchange order, stale open rows repaired (see tui_bot.store.trades for the rules)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import Connection

from tui_bot.domain.models import Execution
from tui_bot.store import schema
from tui_bot.store.attribution import Attribution
from tui_bot.store.codec import EXECUTION_CODEC, TRADE_CODEC
from tui_bot.store.dialect import binary_order
from tui_bot.store.rows import Trade
from tui_bot.store.trades import TradeLedger

if TYPE_CHECKING:
    from tui_bot.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileMark:
    """A stored force-closure: which trade, when, why, and the last executions row id written before it."""

    open_exec_id: str
    symbol: str
    ts_ms: int
    reason: str
    after_row: int


async def load_marks(db: Database) -> list[ReconcileMark]:
    """Every stored force-closure in the order it was made."""
    async with db.connect() as conn:
        return await conn.run_sync(_load_marks)


def _load_marks(conn: Connection) -> list[ReconcileMark]:
    m = schema.trade_reconciliations.c
    rows = conn.execute(select(m.open_exec_id, m.symbol, m.ts_ms, m.reason, m.after_row).order_by(m.after_row, m.ts_ms))
    return [ReconcileMark(str(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4])) for r in rows]


def _replay_query(symbol: str | None) -> Select[Any]:
    """Per symbol: the marks of the symbol written before the row (its epoch), then exchange order."""
    e, m = schema.executions, schema.trade_reconciliations.alias("m")
    epoch = select(func.count()).select_from(m).where(m.c.symbol == e.c.symbol, m.c.after_row < e.c.id)
    query = select(e.c.id, e.c.bot, e.c.reason, *EXECUTION_CODEC.select_columns()).order_by(
        e.c.symbol, epoch.scalar_subquery(), e.c.exec_time, e.c.seq, binary_order(e.c.exec_id)
    )
    return query if symbol is None else query.where(e.c.symbol == symbol)


def _stored_trades_query(symbol: str) -> Select[Any]:
    """The trade rows of symbol that one of its stored executions opened."""
    t, e = schema.trades, schema.executions
    opened = select(e.c.exec_id).where(e.c.symbol == symbol)
    return select(*TRADE_CODEC.select_columns()).where(t.c.symbol == symbol, t.c.open_exec_id.in_(opened))


async def rebuild_ledger(db: Database) -> TradeLedger:
    """A ledger replayed from the executions table in exchange order, with the stored force-closures."""
    async with db.connect() as conn:
        return await conn.run_sync(replay_ledger)


def replay_ledger(conn: Connection) -> TradeLedger:
    """rebuild_ledger() on a blocking connection (the writer's thread)."""
    ledger = TradeLedger()
    _replay(conn, ledger)
    return ledger


def book_execution(conn: Connection, ledger: TradeLedger, execution: Execution) -> list[Trade]:
    """Account one just-stored execution; returns the trades to upsert (a late one rebooks its symbol)."""
    if not ledger.is_late(execution):
        return ledger.apply(execution)
    log.info("fill %s in %s arrived after newer ones: rebooking the symbol", execution.exec_id, execution.symbol)
    return rebook(conn, ledger, execution.symbol)


def rebook(conn: Connection, ledger: TradeLedger, symbol: str) -> list[Trade]:
    """Replay symbol from the stored executions into ledger, delete its trade rows the replay no longer
    makes, and return the trades whose rows must change (inside the writer's transaction)."""
    replayed = TradeLedger()
    moved: dict[int, Attribution] = {}
    made = _replay(conn, replayed, symbol, moved)
    ledger.adopt(symbol, replayed)
    executions = schema.executions
    for row_id, whose in moved.items():  # the exchange's orders act on the trade open in exchange order
        conn.execute(update(executions).where(executions.c.id == row_id).values(bot=whose.bot, reason=whose.reason))
    rows = conn.execute(_stored_trades_query(symbol))
    stored = {trade.open_exec_id: trade for trade in map(TRADE_CODEC.decode, rows)}
    gone = stored.keys() - made.keys()
    if gone:
        conn.execute(delete(schema.trades).where(schema.trades.c.open_exec_id.in_(sorted(gone))))
    return [trade for key, trade in made.items() if stored.get(key) != trade]


def repair_open_rows(conn: Connection, ledger: TradeLedger) -> list[Trade]:
    """Rebook every symbol with a stored open trade the ledger does not hold open (rows an older
    booking order left behind); returns the trades to upsert."""
    t = schema.trades.c
    query = select(t.open_exec_id, t.symbol).where(
        t.status == "open", t.open_exec_id.in_(select(schema.executions.c.exec_id))
    )
    held = {trade.open_exec_id for trade in ledger.open_trades()}
    symbols = sorted({str(r[1]) for r in conn.execute(query) if r[0] not in held})
    return [trade for symbol in symbols for trade in rebook(conn, ledger, symbol)]


def _replay(
    conn: Connection, ledger: TradeLedger, symbol: str | None = None, moved: dict[int, Attribution] | None = None
) -> dict[str, Trade]:
    """Apply the stored executions (all, or one symbol's) in exchange order with the stored force-closures,
    each after the rows written before it; returns the trades made, by opening exec id, and puts into moved the
    rows whose stored attribution the replay's differs from (by row id)."""
    marks: dict[str, deque[ReconcileMark]] = {}
    for mark in _load_marks(conn):
        if symbol is None or mark.symbol == symbol:
            marks.setdefault(mark.symbol, deque()).append(mark)
    made: dict[str, Trade] = {}
    for row in conn.execute(_replay_query(symbol)):
        execution = EXECUTION_CODEC.decode(row)
        pending = marks.get(execution.symbol)
        while pending and pending[0].after_row < row[0]:
            made.update(_close_marked(ledger, pending.popleft()))
        if moved is not None and (whose := ledger.attribute(execution)) != Attribution(row.bot, row.reason):
            moved[row.id] = whose
        made.update((trade.open_exec_id, trade) for trade in ledger.apply(execution))
    for pending in marks.values():
        for mark in pending:
            made.update(_close_marked(ledger, mark))
    return made


def _close_marked(ledger: TradeLedger, mark: ReconcileMark) -> dict[str, Trade]:
    """Replay one stored force-closure (a no-op when that trade is not the open one); the trade it closed."""
    trade = ledger.force_close(mark.symbol, mark.ts_ms, mark.reason, mark.open_exec_id)
    return {} if trade is None else {trade.open_exec_id: trade}
