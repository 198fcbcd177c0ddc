"""What the history screens show: closed trades with net PnL and R, PnL by UTC day, and every order sent or seen."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.core.stats import day_of, initial_risk_by_link, trade_outcome
from tui_bot.domain.enums import CancelType, OrderType, RejectReason, Side, StopOrderType
from tui_bot.domain.models import Order
from tui_bot.domain.numbers import ZERO
from tui_bot.domain.requests import OrderRequest
from tui_bot.store.rows import RejectedOrder, Trade

REJECTED = "Rejected"
"""The status an order the exchange refused when it was sent shows in the order history."""


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One closed round trip: net PnL is after the entry's and the exit's fees (and funding); None when the exit
    is unknown (force-closed without fills). R is net PnL over the initial risk, when the entry's stop is known."""

    symbol: str
    side: Side
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal | None
    fees: Decimal
    net_pnl: Decimal | None
    r: Decimal | None
    reason: str
    opened_ms: int
    closed_ms: int

    @property
    def duration_ms(self) -> int:
        return max(0, self.closed_ms - self.opened_ms)


@dataclass(frozen=True, slots=True)
class DayResult:
    """The trades closed on one UTC day: how many, how many won, their summed net PnL."""

    day: str
    count: int
    wins: int
    net_pnl: Decimal


@dataclass(frozen=True, slots=True)
class TradeHistory:
    """Closed trades, newest close first, and their PnL by UTC day, newest day first."""

    trades: tuple[ClosedTrade, ...]
    days: tuple[DayResult, ...]


@dataclass(frozen=True, slots=True)
class OrderEntry:
    """One order as the order history lists it: one the exchange holds (any status) or one it refused when sent
    (status "Rejected", code set, no order id)."""

    time_ms: int
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    status: str
    order_link_id: str
    order_id: str = ""
    stop_order_type: StopOrderType = StopOrderType.NONE
    trigger_price: Decimal = ZERO
    filled_qty: Decimal = ZERO
    avg_price: Decimal = ZERO
    reduce_only: bool = False
    code: int | None = None
    detail: str = ""

    @property
    def key(self) -> str:
        """A row key unique across both kinds: the exchange's id, else ours."""
        return self.order_id or f"rejected:{self.order_link_id}"


def closed_trade(trade: Trade, initial_risk: dict[str, Decimal]) -> ClosedTrade:
    """A stored closed trade as the history shows it (R from its entry order's stop, when that is known)."""
    known = trade.pnl is not None
    outcome = trade_outcome(trade, initial_risk) if known else None
    closed_ms = trade.exit_time if trade.exit_time is not None else trade.entry_time
    return ClosedTrade(
        symbol=trade.symbol,
        side=trade.side,
        qty=trade.exit_qty if 0 < trade.exit_qty < trade.qty else trade.qty,
        entry_price=trade.entry_price,
        exit_price=trade.exit_price,
        fees=trade.fees,
        net_pnl=trade.pnl,
        r=outcome.r if outcome is not None else None,
        reason=trade.exit_reason or "unknown",
        opened_ms=trade.entry_time,
        closed_ms=closed_ms,
    )


def by_day(trades: tuple[ClosedTrade, ...]) -> tuple[DayResult, ...]:
    """Count, wins and net PnL of the trades by the UTC day they closed, newest day first."""
    days: dict[str, DayResult] = {}
    for trade in trades:
        day = day_of(trade.closed_ms)
        pnl = trade.net_pnl or ZERO
        seen = days.get(day, DayResult(day, 0, 0, ZERO))
        days[day] = DayResult(day, seen.count + 1, seen.wins + (pnl > 0), seen.net_pnl + pnl)
    return tuple(days[day] for day in sorted(days, reverse=True))


def trade_history(trades: list[Trade], entry_orders: list[Order]) -> TradeHistory:
    """The closed trades (newest close first) with R where their entry's stop is known, and their days."""
    risk = initial_risk_by_link(entry_orders)
    closed = (closed_trade(t, risk) for t in trades if not t.is_open)
    shown = tuple(sorted(closed, key=lambda t: (t.closed_ms, t.opened_ms), reverse=True))
    return TradeHistory(shown, by_day(shown))


def order_entry(order: Order) -> OrderEntry:
    """An order the exchange holds or held, with why it ended when it says (reject or cancel reason)."""
    return OrderEntry(
        time_ms=order.created_time,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        price=order.price or None,
        status=order.status.value,
        order_link_id=order.order_link_id,
        order_id=order.order_id,
        stop_order_type=order.stop_order_type,
        trigger_price=order.trigger_price,
        filled_qty=order.cum_exec_qty,
        avg_price=order.avg_price,
        reduce_only=order.reduce_only or order.close_on_trigger,
        detail=_ended(order),
    )


def _ended(order: Order) -> str:
    """The exchange's reject or cancel reason, when it gave one."""
    reasons = (
        order.reject_reason.value if order.reject_reason is not RejectReason.NO_ERROR else "",
        order.cancel_type.value if order.cancel_type is not CancelType.UNKNOWN else "",
    )
    return ", ".join(r for r in reasons if r)


def rejected_entry(rejected: RejectedOrder) -> OrderEntry:
    """An order refused when it was sent."""
    return OrderEntry(
        time_ms=rejected.ts_ms,
        symbol=rejected.symbol,
        side=rejected.side,
        order_type=rejected.order_type,
        qty=rejected.qty,
        price=rejected.price,
        status=REJECTED,
        order_link_id=rejected.order_link_id,
        reduce_only=rejected.reduce_only,
        code=rejected.code,
        detail=rejected.message,
    )


def order_history(orders: list[Order], rejected: list[RejectedOrder], limit: int) -> tuple[OrderEntry, ...]:
    """Orders held and refused, merged newest first, at most limit."""
    entries = [order_entry(o) for o in orders] + [rejected_entry(r) for r in rejected]
    entries.sort(key=lambda e: (e.time_ms, e.key), reverse=True)
    return tuple(entries[:limit])


def rejection_row(request: OrderRequest, code: int, message: str, ts_ms: int) -> RejectedOrder:
    """What the store keeps of an order the exchange refused when it was sent."""
    return RejectedOrder(
        order_link_id=request.order_link_id,
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        qty=request.qty,
        price=request.price,
        reduce_only=request.reduce_only,
        code=code,
        message=message,
        ts_ms=ts_ms,
    )
