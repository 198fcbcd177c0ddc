"""Trades built from executions: one open trade per symbol, from the entry fill to the flat fill.

Fills (Trade, BustTrade, AdlTrade) on the open trade's side extend it (VWAP entry); opposite
fills reduce it (VWAP exit) and close it when the size returns to zero; a fill larger than
the open size closes the trade and opens a new one with the remainder (fee split pro rata).
Funding adds its fee to the open trade. The ledger is idempotent by exec id and can take a
checkpoint so the writer can undo a batch that failed to commit.

A trade whose symbol the exchange shows flat (or on the other side) is force-closed as
"reconciled" with an unknown exit price and PnL; each such closure is stored as a mark
(``trade_reconciliations``) holding the last executions row written before it, so a rebuild
replays it at the same point among the executions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

import aiosqlite

from tui_bot.domain.enums import CreateType, ExecType, Side, StopOrderType
from tui_bot.domain.models import Execution
from tui_bot.domain.numbers import ZERO
from tui_bot.domain.order_ids import OrderReason, parse_order_id
from tui_bot.store.codec import EXECUTION_CODEC
from tui_bot.store.rows import Trade

FILL_TYPES = frozenset({ExecType.TRADE, ExecType.BUST_TRADE, ExecType.ADL_TRADE})
RECONCILED = "reconciled"

_BY_CREATE_TYPE = {
    CreateType.BY_TAKE_PROFIT: "take_profit",
    CreateType.BY_PARTIAL_TAKE_PROFIT: "take_profit",
    CreateType.BY_STOP_LOSS: "stop_loss",
    CreateType.BY_PARTIAL_STOP_LOSS: "stop_loss",
    CreateType.BY_TRAILING_STOP: "trailing_stop",
    CreateType.BY_LIQ: "liquidation",
}
_BY_STOP_ORDER_TYPE = {
    StopOrderType.TAKE_PROFIT: "take_profit",
    StopOrderType.PARTIAL_TAKE_PROFIT: "take_profit",
    StopOrderType.STOP_LOSS: "stop_loss",
    StopOrderType.PARTIAL_STOP_LOSS: "stop_loss",
    StopOrderType.TRAILING_STOP: "trailing_stop",
}


def reason_name(reason: OrderReason) -> str:
    """The stored spelling of an order reason ("take_profit", "manual_exit", …)."""
    return reason.name.lower()


def link_tags(order_link_id: str) -> tuple[str | None, str | None]:
    """Bot and reason name carried by one of our orderLinkIds; (None, None) for foreign ids."""
    parsed = parse_order_id(order_link_id)
    if parsed is None:
        return None, None
    return parsed.bot, reason_name(parsed.reason)


def exit_reason(execution: Execution) -> str:
    """Why a reducing fill happened: our id's reason, the exchange's TP/SL/liquidation kind, or "external"."""
    parsed = parse_order_id(execution.order_link_id)
    if parsed is not None:
        return reason_name(parsed.reason)
    if execution.exec_type is ExecType.BUST_TRADE:
        return "liquidation"
    if execution.exec_type is ExecType.ADL_TRADE:
        return "adl"
    by_create = _BY_CREATE_TYPE.get(execution.create_type)
    if by_create is not None:
        return by_create
    return _BY_STOP_ORDER_TYPE.get(execution.stop_order_type, "external")


@dataclass(slots=True)
class _OpenTrade:
    """Running totals of the open trade in one symbol."""

    open_exec_id: str
    symbol: str
    side: Side
    entry_time: int
    entry_link: str
    bot: str | None
    entry_qty: Decimal = ZERO
    entry_value: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    fees: Decimal = ZERO
    exit_time: int | None = None
    exit_link: str | None = None
    exit_reason: str | None = None
    forced: bool = False

    @property
    def size(self) -> Decimal:
        return self.entry_qty - self.exit_qty

    def to_trade(self) -> Trade:
        """The trade as it stands (closed once the size is back to zero or when force-closed)."""
        closed = self.size == 0 or self.forced
        pnl = pnl_pct = None
        if closed and not self.forced:
            pnl = (self.exit_value - self.entry_value) * self.side.sign - self.fees
            pnl_pct = pnl / self.entry_value * 100 if self.entry_value else ZERO
        return Trade(
            open_exec_id=self.open_exec_id, symbol=self.symbol, side=self.side,
            status="closed" if closed else "open", qty=self.entry_qty,
            entry_price=self.entry_value / self.entry_qty, entry_time=self.entry_time,
            fees=self.fees, exit_qty=self.exit_qty,
            exit_price=self.exit_value / self.exit_qty if self.exit_qty and not self.forced else None,
            exit_time=self.exit_time, pnl=pnl, pnl_pct=pnl_pct, exit_reason=self.exit_reason,
            entry_order_link_id=self.entry_link, exit_order_link_id=self.exit_link, bot=self.bot,
        )


class TradeLedger:
    """Pure trade bookkeeping over executions applied in order; idempotent by exec id."""

    def __init__(self) -> None:
        self._open: dict[str, _OpenTrade] = {}
        self._seen: set[str] = set()
        self._saved: dict[str, _OpenTrade] | None = None
        self._journal: list[str] = []

    def __contains__(self, exec_id: object) -> bool:
        return exec_id in self._seen

    @property
    def seen_count(self) -> int:
        return len(self._seen)

    def open_trade(self, symbol: str) -> Trade | None:
        """The open trade in symbol, if any."""
        trade = self._open.get(symbol)
        return None if trade is None else trade.to_trade()

    def open_trades(self) -> list[Trade]:
        """Every open trade, by symbol."""
        return [self._open[symbol].to_trade() for symbol in sorted(self._open)]

    def apply(self, execution: Execution) -> list[Trade]:
        """Account one execution; returns the trades it changed (closed before opened)."""
        if execution.exec_id in self._seen:
            return []
        self._seen.add(execution.exec_id)
        if self._saved is not None:
            self._journal.append(execution.exec_id)
        if execution.exec_type is ExecType.FUNDING:
            return self._funding(execution)
        if execution.exec_type not in FILL_TYPES or execution.exec_qty <= 0:
            return []
        return self._fill(execution)

    def force_close(
        self, symbol: str, ts_ms: int, reason: str = RECONCILED, open_exec_id: str | None = None
    ) -> Trade | None:
        """Close symbol's open trade (only the one opened by open_exec_id, when given) with unknown exit and PnL."""
        trade = self._open.get(symbol)
        if trade is None or (open_exec_id is not None and trade.open_exec_id != open_exec_id):
            return None
        trade.forced = True
        trade.exit_time = ts_ms
        trade.exit_reason = reason
        trade.exit_link = None
        del self._open[symbol]
        return trade.to_trade()

    def reconcile(self, positions: Mapping[str, Side], ts_ms: int, reason: str = RECONCILED) -> list[Trade]:
        """Force-close every open trade whose symbol is flat in positions (symbol → side) or on the other side."""
        closed = []
        for symbol in sorted(self._open):
            if positions.get(symbol) is not self._open[symbol].side:
                trade = self.force_close(symbol, ts_ms, reason)
                assert trade is not None
                closed.append(trade)
        return closed

    def checkpoint(self) -> None:
        """Remember the current state so rollback() can return to it."""
        self._saved = {symbol: replace(trade) for symbol, trade in self._open.items()}
        self._journal = []

    def release(self) -> None:
        """Forget the checkpoint (its changes are final)."""
        self._saved = None
        self._journal = []

    def rollback(self) -> None:
        """Undo everything applied since the last checkpoint."""
        if self._saved is None:
            return
        self._open = self._saved
        self._seen.difference_update(self._journal)
        self.release()

    def _funding(self, execution: Execution) -> list[Trade]:
        trade = self._open.get(execution.symbol)
        if trade is None:
            return []
        trade.fees += execution.exec_fee
        return [trade.to_trade()]

    def _fill(self, execution: Execution) -> list[Trade]:
        trade = self._open.get(execution.symbol)
        if trade is None:
            rest = execution.exec_qty - min(execution.closed_size, execution.exec_qty)
            return self._open_new(execution, rest, _fee_share(execution, rest))
        if execution.side is trade.side:
            _add_entry(trade, execution, execution.exec_qty, execution.exec_fee)
            return [trade.to_trade()]
        return self._reduce(trade, execution)

    def _reduce(self, trade: _OpenTrade, execution: Execution) -> list[Trade]:
        qty = execution.exec_qty
        close_qty = min(qty, trade.size)
        fee = _fee_share(execution, close_qty)
        trade.exit_qty += close_qty
        trade.exit_value += execution.exec_price * close_qty
        trade.fees += fee
        trade.exit_time = execution.exec_time
        trade.exit_link = execution.order_link_id
        trade.exit_reason = exit_reason(execution)
        changed = [trade.to_trade()]
        if trade.size == 0:
            del self._open[trade.symbol]
        if close_qty < qty:
            changed += self._open_new(execution, qty - close_qty, execution.exec_fee - fee)
        return changed

    def _open_new(self, execution: Execution, qty: Decimal, fee: Decimal) -> list[Trade]:
        """Open a trade with qty of execution (a part of it when the rest closed something)."""
        if qty <= 0:
            return []
        bot, _ = link_tags(execution.order_link_id)
        trade = _OpenTrade(
            open_exec_id=execution.exec_id, symbol=execution.symbol, side=execution.side,
            entry_time=execution.exec_time, entry_link=execution.order_link_id, bot=bot,
        )
        _add_entry(trade, execution, qty, fee)
        self._open[execution.symbol] = trade
        return [trade.to_trade()]


def _fee_share(execution: Execution, qty: Decimal) -> Decimal:
    """The part of the execution's fee that belongs to qty of it."""
    if qty == execution.exec_qty:
        return execution.exec_fee
    return execution.exec_fee * qty / execution.exec_qty


def _add_entry(trade: _OpenTrade, execution: Execution, qty: Decimal, fee: Decimal) -> None:
    """Add qty at the execution's price (and its fee) to the trade's entry side."""
    trade.entry_qty += qty
    trade.entry_value += execution.exec_price * qty
    trade.fees += fee


@dataclass(frozen=True, slots=True)
class ReconcileMark:
    """A stored force-closure: which trade, when, why, and the last executions row id written before it."""

    open_exec_id: str
    symbol: str
    ts_ms: int
    reason: str
    after_row: int


async def load_marks(conn: aiosqlite.Connection) -> list[ReconcileMark]:
    """Every stored force-closure in the order it was made."""
    sql = "SELECT open_exec_id, symbol, ts_ms, reason, after_row FROM trade_reconciliations ORDER BY after_row, ts_ms"
    rows = await conn.execute_fetchall(sql)
    return [ReconcileMark(str(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4])) for r in rows]


async def rebuild_ledger(conn: aiosqlite.Connection) -> TradeLedger:
    """A ledger replayed from the executions table in the writer's order, with the stored force-closures."""
    ledger = TradeLedger()
    marks = deque(await load_marks(conn))
    sql = f"SELECT id, {EXECUTION_CODEC.select_list()} FROM executions ORDER BY id"
    async with conn.execute(sql) as cursor:
        async for row in cursor:
            while marks and marks[0].after_row < row[0]:
                _close_marked(ledger, marks.popleft())
            ledger.apply(EXECUTION_CODEC.decode(row))
    for mark in marks:
        _close_marked(ledger, mark)
    return ledger


def _close_marked(ledger: TradeLedger, mark: ReconcileMark) -> None:
    """Replay one stored force-closure (a no-op when that trade is not the open one)."""
    ledger.force_close(mark.symbol, mark.ts_ms, mark.reason, mark.open_exec_id)
