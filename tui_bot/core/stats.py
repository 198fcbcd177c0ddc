"""Performance figures of closed trades and closed phantoms: win rate, profit factor, R, breakdowns, equity."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from tui_bot.core.ml_report import MlReport
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Order
from tui_bot.store.rows import PhantomRow, Trade

ZERO = Decimal(0)
_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
PHANTOM_NOTIONAL = Decimal(100)
"""USDT each phantom counts as exposed at its entry, so phantoms add up like trades of one size."""
NO_BOT = "-"
"""The bot shown for a trade no bot's order opened (recorded before trades carried their bot)."""
Breakdown = dict[str, tuple[int, Decimal]]
"""Key (close reason, symbol, UTC day or bot) → (count, summed net PnL)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One closed result reduced to what the figures need."""

    symbol: str
    reason: str
    closed_ms: int
    pnl: Decimal
    r: Decimal | None = None
    bot: str | None = None
    """The bot of a trade (NO_BOT when unknown); None for a phantom."""


@dataclass(frozen=True)
class Summary:
    """Figures of a set of closed results; win_rate is a fraction 0–1 and None-valued figures are unknown."""

    count: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    total_pnl: Decimal
    avg_pnl: Decimal | None
    avg_r: Decimal | None
    best: Decimal | None
    worst: Decimal | None
    by_reason: Breakdown
    by_symbol: Breakdown
    by_day: Breakdown
    by_bot: Breakdown


@dataclass(frozen=True, slots=True)
class GuardLine:
    """One strategy under the win-rate guard: rolling win rate, outcomes it is over, blocked or not and why, and
    how many of its ideas were blocked today (UTC)."""

    strategy: str
    win_rate: float | None
    sample: int
    blocked: bool
    blocked_today: int
    reason: str


@dataclass(frozen=True, slots=True)
class StatsReport:
    """What the statistics show: closed trades beside closed phantoms, the trades' equity curve, and the win-rate
    guard per strategy and the learned score (empty and None without a trading bot)."""

    trades: Summary
    phantoms: Summary
    curve: list[tuple[int, Decimal]]
    guard: tuple[GuardLine, ...] = ()
    ml: MlReport | None = None


def stats_report(
    trades: list[Trade], orders: list[Order], phantoms: list[PhantomRow], notional_usd: Decimal = PHANTOM_NOTIONAL
) -> StatsReport:
    """The figures of stored trades (R from their entry orders' stops) and phantoms, and the equity curve."""
    return StatsReport(
        trade_summary(trades, initial_risk_by_link(orders)),
        phantom_summary(phantoms, notional_usd),
        equity_curve(trades),
    )


def day_of(ms: int) -> str:
    """The UTC calendar day of an epoch-ms time as YYYY-MM-DD."""
    return _day_name(ms // _DAY_MS)


@cache
def _day_name(days: int) -> str:
    """Day number `days` since 1970-01-01 as YYYY-MM-DD (named once each: a breakdown names thousands of times)."""
    return (_EPOCH + timedelta(days=days)).isoformat()


def group_key(outcome: Outcome, key: str) -> str | None:
    """What outcome is grouped under by key ("reason", "symbol", "day" or "bot"); None: not in that breakdown."""
    return day_of(outcome.closed_ms) if key == "day" else getattr(outcome, key)


def _breakdown(outcomes: list[Outcome], key: str) -> Breakdown:
    result: dict[str, tuple[int, Decimal]] = {}
    for outcome in outcomes:
        name = group_key(outcome, key)
        if name is None:
            continue
        count, pnl = result.get(name, (0, ZERO))
        result[name] = (count + 1, pnl + outcome.pnl)
    return dict(sorted(result.items()))


def summarise(outcomes: Iterable[Outcome], *, breakdowns: bool = True) -> Summary:
    """Win rate, profit factor (None without losses), averages, extremes and breakdowns (empty unless asked for)
    of the outcomes."""
    items = list(outcomes)
    pnls = [o.pnl for o in items]
    gains = sum((p for p in pnls if p > 0), ZERO)
    pains = -sum((p for p in pnls if p < 0), ZERO)
    wins = sum(1 for p in pnls if p > 0)
    losses = sum(1 for p in pnls if p < 0)
    rs = [o.r for o in items if o.r is not None]
    total = sum(pnls, ZERO)
    return Summary(
        count=len(items),
        wins=wins,
        losses=losses,
        win_rate=Decimal(wins) / len(items) if items else None,
        profit_factor=gains / pains if pains else None,
        total_pnl=total,
        avg_pnl=total / len(items) if items else None,
        avg_r=sum(rs, ZERO) / len(rs) if rs else None,
        best=max(pnls) if pnls else None,
        worst=min(pnls) if pnls else None,
        by_reason=_breakdown(items, "reason") if breakdowns else {},
        by_symbol=_breakdown(items, "symbol") if breakdowns else {},
        by_day=_breakdown(items, "day") if breakdowns else {},
        by_bot=_breakdown(items, "bot") if breakdowns else {},
    )


def _entry_price(order: Order) -> Decimal:
    return order.avg_price if order.avg_price > 0 else order.price


def initial_risk_by_link(orders: list[Order]) -> dict[str, Decimal]:
    """Entry order link id → |entry − stop| per unit, from orders placed with a stop loss (later rows win)."""
    risk: dict[str, Decimal] = {}
    for order in orders:
        entry = _entry_price(order)
        if not order.order_link_id or order.reduce_only or order.stop_loss <= 0 or entry <= 0:
            continue
        distance = abs(entry - order.stop_loss)
        if distance > 0:
            risk[order.order_link_id] = distance
    return risk


def _closed(trades: Iterable[Trade]) -> list[Trade]:
    return [t for t in trades if t.status == "closed" and t.pnl is not None]


def _closed_ms(trade: Trade) -> int:
    return trade.exit_time if trade.exit_time is not None else trade.entry_time


def trade_outcome(trade: Trade, initial_risk: dict[str, Decimal]) -> Outcome:
    """A closed trade as an outcome; R = net PnL / (initial risk per unit × qty) when the risk is known.

    A trade force-closed after partial exits counts the part they closed (its PnL and its qty).
    """
    assert trade.pnl is not None
    per_unit = initial_risk.get(trade.entry_order_link_id)
    qty = trade.exit_qty if 0 < trade.exit_qty < trade.qty else trade.qty
    r = trade.pnl / (per_unit * qty) if per_unit and qty else None
    return Outcome(trade.symbol, trade.exit_reason or "unknown", _closed_ms(trade), trade.pnl, r, trade.bot or NO_BOT)


def trade_summary(trades: list[Trade], initial_risk: dict[str, Decimal]) -> Summary:
    """Figures of the closed trades (open ones are ignored), with R where the entry's stop is known."""
    return summarise(trade_outcome(t, initial_risk) for t in _closed(trades))


def phantom_outcome(phantom: PhantomRow, notional_usd: Decimal = PHANTOM_NOTIONAL) -> Outcome | None:
    """A closed phantom as if `notional_usd` had been exposed at entry; None while open or unpriced."""
    if phantom.closed_ms is None or phantom.exit_price is None or phantom.entry <= 0:
        return None
    sign = 1 if phantom.side is Side.BUY else -1
    move = (phantom.exit_price - phantom.entry) * sign
    risk = abs(phantom.entry - phantom.sl)
    pnl = move * notional_usd / phantom.entry
    return Outcome(phantom.symbol, phantom.outcome or "unknown", phantom.closed_ms, pnl, move / risk if risk else None)


def phantom_summary(phantoms: list[PhantomRow], notional_usd: Decimal = PHANTOM_NOTIONAL) -> Summary:
    """Figures of the closed phantoms, each sized to `notional_usd`; the breakdown by reason is the outcome."""
    outcomes = (phantom_outcome(p, notional_usd) for p in phantoms)
    return summarise(o for o in outcomes if o is not None)


def equity_curve(trades: Iterable[Trade]) -> list[tuple[int, Decimal]]:
    """Cumulative net PnL of the closed trades, one point per trade in exit-time order."""
    points: list[tuple[int, Decimal]] = []
    total = ZERO
    for trade in sorted(_closed(trades), key=lambda t: (_closed_ms(t), t.entry_time)):
        assert trade.pnl is not None
        total += trade.pnl
        points.append((_closed_ms(trade), total))
    return points
