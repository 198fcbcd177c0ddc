"""The account as the core believes it: applied idempotently and in order, re-marked at ticker speed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from tui_bot.domain.enums import OrderStatus
from tui_bot.domain.events import (
    Event,
    ExecutionReceived,
    OrderUpdated,
    PositionUpdated,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.live_ticker import LiveTicker, TickerFields
from tui_bot.domain.models import Execution, Instrument, Order, Position, Wallet
from tui_bot.domain.numbers import ZERO

_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.DEACTIVATED})
_CLOSED_KEEP = 200
"""Closed orders kept to tell a late update of one from a new order (the oldest dropped first)."""


@dataclass(frozen=True, slots=True)
class PendingOrder:
    """An order whose current state must still be read from order history (it closed, or filled, unseen)."""

    symbol: str
    order_id: str
    created_from_ms: int
    """Where a history query for it starts: its createdTime, or seven days before a fill when only that is known."""
    held: Order | None = None
    """What we last knew of it; None for an order known only from its fills."""
    misses: int = 0
    """Reseeds whose order-history answer did not include it."""


@dataclass(frozen=True, slots=True)
class PositionMarked:
    """A position re-marked from a ticker: mark price, unrealised PnL and its % of margin."""

    symbol: str
    mark_price: Decimal
    unrealised_pnl: Decimal
    unrealised_pct: Decimal


_ONE, _HUNDRED, _CENT = Decimal(1), Decimal(100), Decimal("0.01")


def unrealised_pct(pos: Position, pnl: Decimal | None = None) -> Decimal:
    """uPnL (pnl when the caller has it already) as a percentage of the initial margin (entry value / leverage)."""
    margin = pos.entry_price * pos.size / (pos.leverage or _ONE)
    if not margin:
        return ZERO
    return ((pos.unrealised_pnl if pnl is None else pnl) / margin * _HUNDRED).quantize(_CENT)


@dataclass
class AccountState:
    """Positions, open orders, wallet, merged tickers and the set of executions already seen.

    Bounded: instruments, tickers and position seqs by the venue's symbols, positions and open orders by the
    account, closed orders by _CLOSED_KEEP, exec ids by the fills since exec_floor_ms (about an hour's).
    """

    instruments: dict[str, Instrument] = field(default_factory=dict)
    tickers: dict[str, LiveTicker] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: dict[str, Order] = field(default_factory=dict)
    closed_orders: dict[str, Order] = field(default_factory=dict)
    unresolved: dict[str, PendingOrder] = field(default_factory=dict)
    """Orders no longer listed open (or known only from fills) whose final state is still to look up, oldest first."""
    exec_ids: dict[str, int] = field(default_factory=dict)
    """Exec id -> exec time (ms) of the executions applied at or after exec_floor_ms: bounded by the fills of
    that span (the engine moves the floor up behind every reseed); the store's UNIQUE exec_id holds the rest."""
    exec_floor_ms: int = 0
    """Executions before this are too old to tell apart here: refused (the engine still hands them to the store)."""
    last_exec_time: int = 0
    exec_synced_ms: int = 0  # every fill before this (less the REST lookback) is known: the last completed reseed
    wallet: Wallet | None = None
    duplicates_ignored: int = 0
    stale_ignored: int = 0
    position_seq: dict[str, int] = field(default_factory=dict)
    """The newest position seq applied per symbol, kept when it goes flat: an older update must not reopen it."""

    def apply(self, event: Event) -> list[object]:
        """Fold one event in; returns what changed (the event itself and derived marks), [] when nothing did."""
        if isinstance(event, TickerUpdated):
            return self.apply_ticker(event)
        if isinstance(event, ExecutionReceived):
            return self._execution(event)
        if isinstance(event, OrderUpdated):
            return [event] if self._order(event.order) else []
        if isinstance(event, PositionUpdated):
            return self._position(event)
        if isinstance(event, WalletUpdated):
            self.wallet = event.wallet
            return [event]
        return [event]

    # -- tickers and marks ---------------------------------------------------------

    def apply_ticker(self, event: TickerUpdated) -> list[object]:
        """Merge the update into the symbol's LiveTicker; re-mark an open position (the only eager Decimal)."""
        marked = self.merge_ticker(event)
        return [event] if marked is None else [event, marked]

    def merge_ticker(self, event: TickerUpdated) -> PositionMarked | None:
        """apply_ticker without the list (the engine's hot path): the position's new mark, if it moved."""
        symbol, fields = event.symbol, event.fields
        current = self.tickers.get(symbol)
        if current is None:
            self.tickers[symbol] = LiveTicker(symbol, fields)
        elif type(fields) is TickerFields and fields.codec is current.codec:
            current.raw.update(fields.raw)  # LiveTicker.merge's common case, inlined: this runs per ticker
        else:
            current.merge(fields)
        pos = self.positions.get(symbol)
        if pos is None or not pos.size:
            return None
        mark = fields.get("mark_price")
        if isinstance(mark, Decimal) and mark and mark != pos.mark_price:
            self.positions[symbol] = pos = pos.with_mark(mark)
            pnl = pos.unrealised_pnl
            return PositionMarked(symbol, mark, pnl, unrealised_pct(pos, pnl))
        return None

    # -- executions ----------------------------------------------------------------

    def _execution(self, event: ExecutionReceived) -> list[object]:
        execution: Execution = event.execution
        if execution.exec_id in self.exec_ids or execution.exec_time < self.exec_floor_ms:
            self.duplicates_ignored += 1
            return []
        self.exec_ids[execution.exec_id] = execution.exec_time
        self.last_exec_time = max(self.last_exec_time, execution.exec_time)
        return [event]

    def forget_executions_before(self, floor_ms: int) -> None:
        """Raise exec_floor_ms to floor_ms and drop the exec ids of executions before it."""
        if floor_ms > self.exec_floor_ms:
            self.exec_floor_ms = floor_ms
            self.exec_ids = {exec_id: t for exec_id, t in self.exec_ids.items() if t >= floor_ms}

    # -- orders ----------------------------------------------------------------------

    def _order(self, order: Order) -> bool:
        """Apply an order update unless it is older than what we hold; True when state changed."""
        if self.knows(order):
            self.stale_ignored += 1
            return False
        self.unresolved.pop(order.order_id, None)
        if order.status in _TERMINAL:
            self.open_orders.pop(order.order_id, None)
            self._keep_closed(order)
        else:
            self.open_orders[order.order_id] = order
        return True

    def knows(self, order: Order) -> bool:
        """True when we hold this order in this state or a newer one (so the update would change nothing)."""
        order_id = order.order_id
        pending = self.unresolved.get(order_id)
        known = (
            self.open_orders.get(order_id)
            or self.closed_orders.get(order_id)
            or (pending.held if pending is not None else None)
        )
        return known is not None and not _is_newer(order, known)

    def _keep_closed(self, order: Order) -> None:
        """Remember a closed order, dropping the oldest beyond _CLOSED_KEEP."""
        self.closed_orders[order.order_id] = order
        while len(self.closed_orders) > _CLOSED_KEEP:
            self.closed_orders.pop(next(iter(self.closed_orders)))

    def replace_open_orders(self, orders: list[Order], as_of_ms: int) -> int:
        """Reseed open orders from a REST list fetched at as_of_ms (server time); returns divergences.

        An order we hold open that REST does not list closed unseen, unless we heard of it after the fetch began
        (a newer stream update wins over an older snapshot): it waits in `unresolved` for its final state.
        """
        listed = {o.order_id: o for o in orders}
        divergences = 0
        for order_id, held in list(self.open_orders.items()):
            if order_id not in listed and held.updated_time < as_of_ms:
                del self.open_orders[order_id]
                self.unresolved[order_id] = PendingOrder(held.symbol, order_id, held.created_time, held)
                divergences += 1
        for order in orders:
            pending = self.unresolved.pop(order.order_id, None)  # listed again: it is open after all
            if pending is not None and pending.held is not None:
                self.open_orders[order.order_id] = pending.held
            known = self.open_orders.get(order.order_id)
            if known is None or _is_newer(order, known):
                divergences += known is None or known.status != order.status
                self._order(order)
        return divergences

    # -- positions -------------------------------------------------------------------

    def _position(self, event: PositionUpdated) -> list[object]:
        pos = event.position
        newest = self.position_seq.get(pos.symbol)
        if newest is not None and pos.seq < newest and pos.seq != -1:
            self.stale_ignored += 1
            return []
        if pos.seq != -1:
            self.position_seq[pos.symbol] = pos.seq
        if pos.size == 0:
            self.positions.pop(pos.symbol, None)
            return [event]
        marked = self.positions[pos.symbol] = self._marked(pos)
        return [event if marked is pos else replace(event, position=marked)]

    def _marked(self, pos: Position) -> Position:
        """pos at its ticker's mark when one has arrived (a new value: the published one is left as it is)."""
        ticker = self.tickers.get(pos.symbol)
        return pos.with_mark(ticker.mark_price) if ticker is not None and ticker.mark_price else pos

    def replace_positions(self, positions: list[Position], as_of_ms: int) -> int:
        """Reseed positions from a REST list (non-flat ones) fetched at as_of_ms; returns divergences.

        As with orders, a position updated by the stream after the fetch began is kept as it is.
        """
        listed = {p.symbol: p for p in positions if p.size}
        divergences = 0
        for symbol, held in list(self.positions.items()):
            if symbol not in listed and held.updated_time < as_of_ms:
                del self.positions[symbol]
                divergences += 1
        for symbol, pos in listed.items():
            known = self.positions.get(symbol)
            if known is not None and (known.seq > pos.seq or known.updated_time >= as_of_ms):
                continue
            if pos.seq < self.position_seq.get(symbol, -1):  # the stream already moved past it (e.g. to flat)
                continue
            if known is None or (known.size, known.side, known.entry_price) != (pos.size, pos.side, pos.entry_price):
                divergences += 1
            self.positions[symbol] = self._marked(pos)
        return divergences

    def last_price(self, symbol: str) -> Decimal | None:
        """The symbol's last traded price from its ticker, or None while none has arrived."""
        ticker = self.tickers.get(symbol)
        return ticker.last_price if ticker is not None and ticker.last_price else None

    def symbols_in_use(self) -> set[str]:
        """Symbols with a position or an open order: their tickers must stream."""
        return set(self.positions) | {o.symbol for o in self.open_orders.values()}


def _is_newer(new: Order, old: Order) -> bool:
    """Order updates are ordered by updatedTime, then filled qty; a closed order never reopens."""
    if old.status in _TERMINAL and new.status not in _TERMINAL:
        return False
    if new.updated_time != old.updated_time:
        return new.updated_time > old.updated_time
    if new.cum_exec_qty != old.cum_exec_qty:
        return new.cum_exec_qty > old.cum_exec_qty
    return new.status != old.status and new.status in _TERMINAL
