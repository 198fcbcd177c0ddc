"""Trades built from executions: per bot and symbol, one open trade from the entry fill to the flat fill.

Each execution is attributed first (tui_bot.store.attribution): our bot's by its orderLinkId, the exchange's TP/SL,
liquidation, ADL and funding to the bot holding the symbol, another program's to "external". It is then booked into
that bot's trade in the symbol only: another program's fills never extend or close our bot's trade.

Fills (Trade, BustTrade, AdlTrade) on the open trade's side extend it (VWAP entry); opposite
fills reduce it (VWAP exit) and close it when the size returns to zero; a fill larger than
the open size closes the trade and opens a new one with the remainder (fee split pro rata).
Funding adds its fee to the open trade. The part of a fill Bybit reports as closing (closedSize)
never opens a trade. Each execution is booked once: the writer books only what the executions table took
(its exec_id is UNIQUE), so the ledger keeps no exec ids; a checkpoint lets the writer roll a batch back.
Fills are booked per symbol in exchange order (exec time, seq, exec id): a late fill makes
``book_execution`` replay its symbol from the stored executions, as if it had arrived in order.

A trade whose symbol the exchange shows flat (or on the other side) is force-closed as
"reconciled" (exit and PnL unknown) or "reconciled_partial" (exit price and PnL of the part real
fills closed). Each closure is stored as a mark (``trade_reconciliations``) holding the last
executions row written before it; a replay applies it there and orders later-written fills after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from tui_bot.domain.enums import ExecType, Side
from tui_bot.domain.models import Execution
from tui_bot.domain.numbers import ZERO
from tui_bot.store.attribution import EXTERNAL, Attribution, attribute_execution, exit_reason
from tui_bot.store.rows import Trade

log = logging.getLogger(__name__)

FILL_TYPES = frozenset({ExecType.TRADE, ExecType.BUST_TRADE, ExecType.ADL_TRADE})
RECONCILED = "reconciled"
PARTIAL = "_partial"
"""Suffix of the exit reason of a force-closed trade whose PnL covers only its known exits."""
ExecKey = tuple[int, int, str]
OpenBook = dict[str, dict[str, "_OpenTrade"]]
"""Open trades by symbol, then by bot."""


def exec_key(execution: Execution) -> ExecKey:
    """Where an execution sits in its symbol's exchange order: exec time, then seq, then exec id."""
    return execution.exec_time, execution.seq, execution.exec_id


def _books(execution: Execution) -> bool:
    """True for the executions that change a trade (fills with a quantity, funding)."""
    kind = execution.exec_type
    return kind is ExecType.FUNDING or (kind in FILL_TYPES and execution.exec_qty > 0)


@dataclass(slots=True)
class _OpenTrade:
    """Running totals of the open trade in one symbol."""

    open_exec_id: str
    symbol: str
    side: Side
    entry_time: int
    entry_link: str
    bot: str
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
        """The trade as it stands: closed at size zero or when force-closed, the PnL of a forced one
        covering its known exits (less all its fees so far; None without exits)."""
        closed = self.size == 0 or self.forced
        pnl = pnl_pct = None
        if closed and self.exit_qty:
            cost = self.entry_value if self.size == 0 else self.entry_value * self.exit_qty / self.entry_qty
            pnl = (self.exit_value - cost) * self.side.sign - self.fees
            pnl_pct = pnl / cost * 100 if cost else ZERO
        return Trade(
            open_exec_id=self.open_exec_id,
            symbol=self.symbol,
            side=self.side,
            status="closed" if closed else "open",
            qty=self.entry_qty,
            entry_price=self.entry_value / self.entry_qty,
            entry_time=self.entry_time,
            fees=self.fees,
            exit_qty=self.exit_qty,
            exit_price=self.exit_value / self.exit_qty if self.exit_qty else None,
            exit_time=self.exit_time,
            pnl=pnl,
            pnl_pct=pnl_pct,
            exit_reason=self.exit_reason,
            entry_order_link_id=self.entry_link,
            exit_order_link_id=self.exit_link,
            bot=self.bot,
        )


class TradeLedger:
    """Pure trade bookkeeping over executions applied in order, each once (the caller sees to that).

    Bounded by the symbols and bots: one open trade per bot in a symbol, one newest key per symbol.
    """

    def __init__(self) -> None:
        self._open: OpenBook = {}
        self._newest: dict[str, ExecKey] = {}
        self._saved: tuple[OpenBook, dict[str, ExecKey]] | None = None

    def open_trade(self, symbol: str, bot: str | None = None) -> Trade | None:
        """The open trade of bot in symbol (default: of the symbol's holder), if any."""
        trade = self._open.get(symbol, {}).get(bot or self.holder(symbol) or EXTERNAL)
        return None if trade is None else trade.to_trade()

    def open_trades(self) -> list[Trade]:
        """Every open trade, by symbol, then bot."""
        return [trade.to_trade() for _, trade in self._each_open()]

    def holder(self, symbol: str) -> str | None:
        """The bot whose position in symbol the exchange's own orders act on: the earliest opened open trade there,
        ours before another program's; None without one."""
        trades = self._open.get(symbol, {}).values()
        first = min(trades, key=lambda t: (t.bot == EXTERNAL, t.entry_time, t.open_exec_id), default=None)
        return None if first is None else first.bot

    def attribute(self, execution: Execution) -> Attribution:
        """Whose execution is, given the trades open now."""
        return attribute_execution(execution, self.holder)

    def is_late(self, execution: Execution) -> bool:
        """True when execution changes trades and is older than the newest booked in its symbol since the
        symbol's last force-closure (applying it would book it out of exchange order)."""
        newest = self._newest.get(execution.symbol)
        return _books(execution) and newest is not None and exec_key(execution) < newest

    def apply(self, execution: Execution) -> list[Trade]:
        """Account one execution as the newest of its symbol; returns the trades it changed (closed before opened)."""
        if not _books(execution):
            return []
        key = exec_key(execution)
        self._newest[execution.symbol] = max(key, self._newest.get(execution.symbol, key))
        bot = self.attribute(execution).bot
        if execution.exec_type is ExecType.FUNDING:
            return self._funding(execution, bot)
        return self._fill(execution, bot)

    def reset_to(self, replayed: TradeLedger) -> None:
        """Take every symbol's state from a ledger that replayed the stored executions."""
        self._open, self._newest, self._saved = replayed._open, replayed._newest, None

    def adopt(self, symbol: str, replayed: TradeLedger) -> None:
        """Take symbol's state from a ledger that replayed the symbol's executions."""
        self._open.pop(symbol, None)
        self._newest.pop(symbol, None)
        if symbol in replayed._open:
            self._open[symbol] = replayed._open[symbol]
        if symbol in replayed._newest:
            self._newest[symbol] = replayed._newest[symbol]

    def force_close(
        self, symbol: str, ts_ms: int, reason: str = RECONCILED, open_exec_id: str | None = None
    ) -> Trade | None:
        """Close symbol's open trade opened by open_exec_id (without one: the holder's); the rest's exit is unknown."""
        trades = self._open.get(symbol, {})
        if open_exec_id is None:
            trade = trades.get(self.holder(symbol) or EXTERNAL)
        else:
            trade = next((t for t in trades.values() if t.open_exec_id == open_exec_id), None)
        if trade is None:
            return None
        trade.forced = True
        trade.exit_time = ts_ms
        trade.exit_reason = reason + PARTIAL if trade.exit_qty else reason
        trade.exit_link = None
        self._drop(trade)
        self._newest.pop(symbol, None)  # fills written after the closure are ordered after it
        return trade.to_trade()

    def reconcile(self, positions: Mapping[str, Side], ts_ms: int, reason: str = RECONCILED) -> list[Trade]:
        """Force-close every open trade whose symbol is flat in positions (symbol → side) or on the other side."""
        closed = []
        for symbol, trade in self._each_open():
            if positions.get(symbol) is not trade.side:
                forced = self.force_close(symbol, ts_ms, reason, trade.open_exec_id)
                assert forced is not None
                closed.append(forced)
        return closed

    def checkpoint(self) -> None:
        """Remember the current state so rollback() can return to it."""
        saved = {symbol: {bot: replace(t) for bot, t in trades.items()} for symbol, trades in self._open.items()}
        self._saved = saved, dict(self._newest)

    def release(self) -> None:
        """Forget the checkpoint (its changes are final)."""
        self._saved = None

    def rollback(self) -> None:
        """Undo everything applied since the last checkpoint."""
        if self._saved is None:
            return
        self._open, self._newest = self._saved
        self.release()

    def _each_open(self) -> list[tuple[str, _OpenTrade]]:
        """(symbol, open trade) of every open trade, by symbol, then bot."""
        return [(s, self._open[s][bot]) for s in sorted(self._open) for bot in sorted(self._open[s])]

    def _drop(self, trade: _OpenTrade) -> None:
        """Forget an open trade that closed."""
        trades = self._open[trade.symbol]
        del trades[trade.bot]
        if not trades:
            del self._open[trade.symbol]

    def _funding(self, execution: Execution, bot: str) -> list[Trade]:
        trade = self._open.get(execution.symbol, {}).get(bot)
        if trade is None:
            return []
        trade.fees += execution.exec_fee
        return [trade.to_trade()]

    def _fill(self, execution: Execution, bot: str) -> list[Trade]:
        trade = self._open.get(execution.symbol, {}).get(bot) or self._closed_for(execution, bot)
        if trade is None:
            rest = execution.exec_qty - min(execution.closed_size, execution.exec_qty)
            return self._open_new(execution, bot, rest, _fee_share(execution, rest))
        if execution.side is trade.side:
            _add_entry(trade, execution, execution.exec_qty, execution.exec_fee)
            return [trade.to_trade()]
        return self._reduce(trade, execution, bot)

    def _closed_for(self, execution: Execution, bot: str) -> _OpenTrade | None:
        """The holder's trade one of our bots' closing fill reduces when that bot has none in the symbol (a position
        opened elsewhere, closed from here); another program's fill never reduces our bots' trades."""
        if bot == EXTERNAL or execution.closed_size <= 0:
            return None
        holder = self.holder(execution.symbol)
        trade = self._open[execution.symbol].get(holder) if holder is not None else None
        return trade if trade is not None and trade.side is not execution.side else None

    def _reduce(self, trade: _OpenTrade, execution: Execution, bot: str) -> list[Trade]:
        qty = execution.exec_qty
        close_qty = min(qty, trade.size)
        closing = min(qty, max(close_qty, execution.closed_size))  # the rest of the fill opens a trade
        if execution.closed_size > trade.size:
            log.warning(
                "trade ledger diverged in %s: fill %s closed %s but %s's trade %s held %s",
                trade.symbol,
                execution.exec_id,
                execution.closed_size,
                trade.bot,
                trade.open_exec_id,
                trade.size,
            )
        fee = _fee_share(execution, closing)
        trade.exit_qty += close_qty
        trade.exit_value += execution.exec_price * close_qty
        trade.fees += fee
        trade.exit_time = execution.exec_time
        trade.exit_link = execution.order_link_id
        trade.exit_reason = exit_reason(execution)
        changed = [trade.to_trade()]
        if trade.size == 0:
            self._drop(trade)
        if closing < qty:
            changed += self._open_new(execution, bot, qty - closing, execution.exec_fee - fee)
        return changed

    def _open_new(self, execution: Execution, bot: str, qty: Decimal, fee: Decimal) -> list[Trade]:
        """Open bot's trade with qty of execution (a part of it when the rest closed something)."""
        if qty <= 0:
            return []
        trade = _OpenTrade(
            open_exec_id=execution.exec_id,
            symbol=execution.symbol,
            side=execution.side,
            entry_time=execution.exec_time,
            entry_link=execution.order_link_id,
            bot=bot,
        )
        _add_entry(trade, execution, qty, fee)
        self._open.setdefault(execution.symbol, {})[bot] = trade
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
