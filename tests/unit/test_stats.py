"""Trade and phantom statistics against hand-computed figures."""

from __future__ import annotations

import calendar
from dataclasses import replace
from decimal import Decimal

from tui_bot.core.stats import (
    day_of,
    equity_curve,
    initial_risk_by_link,
    phantom_summary,
    trade_summary,
)
from tui_bot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.models import Order
from tui_bot.store.rows import PhantomRow, Trade

D = Decimal
DAY1 = calendar.timegm((2026, 3, 1, 0, 0, 0)) * 1000
DAY2 = DAY1 + 86_400_000
HOUR = 3_600_000


def trade(
    exec_id: str,
    symbol: str,
    side: Side,
    qty: str,
    pnl: str | None,
    reason: str | None,
    exit_ms: int | None,
    link: str,
    status: str = "closed",
) -> Trade:
    return Trade(
        open_exec_id=exec_id,
        symbol=symbol,
        side=side,
        status=status,
        qty=D(qty),
        entry_price=D(100),
        entry_time=DAY1,
        fees=D(0),
        exit_price=D(101) if pnl else None,
        exit_time=exit_ms,
        pnl=D(pnl) if pnl is not None else None,
        exit_reason=reason,
        entry_order_link_id=link,
    )


TRADES = [
    trade("e3", "BTCUSDT", Side.BUY, "0.1", "20", "take_profit", DAY2 + HOUR, "L3"),  # no known risk
    trade("e1", "BTCUSDT", Side.BUY, "0.1", "30", "take_profit", DAY1 + 10 * HOUR, "L1"),  # R = 30 / (1000 × 0.1)
    trade("e2", "ETHUSDT", Side.SELL, "1", "-10", "stop_loss", DAY1 + 11 * HOUR, "L2"),  # R = -10 / (20 × 1)
    trade("e4", "BTCUSDT", Side.BUY, "0.1", None, None, None, "L4", status="open"),
]
RISK = {"L1": D(1000), "L2": D(20)}


def order(link: str, *, price: str = "0", avg: str = "0", stop: str = "0", reduce_only: bool = False) -> Order:
    return Order(
        order_id=f"o-{link}",
        order_link_id=link,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=D("0.1"),
        price=D(price),
        time_in_force=TimeInForce.GTC,
        status=OrderStatus.FILLED,
        created_time=DAY1,
        updated_time=DAY1,
        avg_price=D(avg),
        stop_loss=D(stop),
        reduce_only=reduce_only,
    )


def test_trade_summary_figures() -> None:
    s = trade_summary(TRADES, RISK)
    assert (s.count, s.wins, s.losses) == (3, 2, 1)
    assert s.win_rate == D(2) / D(3)
    assert s.profit_factor == D(5)  # 50 gained / 10 lost
    assert s.total_pnl == D(40) and s.avg_pnl == D(40) / D(3)
    assert s.avg_r == D("-0.1")  # (0.3 + -0.5) / 2; the trade without a stop is left out
    assert (s.best, s.worst) == (D(30), D(-10))


def test_trade_breakdowns() -> None:
    s = trade_summary(TRADES, RISK)
    assert s.by_reason == {"stop_loss": (1, D(-10)), "take_profit": (2, D(50))}
    assert s.by_symbol == {"BTCUSDT": (2, D(50)), "ETHUSDT": (1, D(-10))}
    assert s.by_day == {"2026-03-01": (2, D(20)), "2026-03-02": (1, D(20))}


def test_no_losses_means_no_profit_factor_and_unknown_risk_means_no_r() -> None:
    s = trade_summary(TRADES[:2], {})
    assert s.profit_factor is None and s.avg_r is None
    assert s.win_rate == D(1)


def test_breakeven_is_neither_win_nor_loss_and_missing_reason_is_unknown() -> None:
    flat = replace(TRADES[0], pnl=D(0), exit_reason=None)
    s = trade_summary([flat], {})
    assert (s.count, s.wins, s.losses, s.win_rate) == (1, 0, 0, D(0))
    assert s.by_reason == {"unknown": (1, D(0))}


def test_empty_input() -> None:
    for s in (trade_summary([], {}), trade_summary(TRADES[3:], RISK), phantom_summary([])):
        assert (s.count, s.wins, s.losses, s.total_pnl) == (0, 0, 0, D(0))
        assert s.win_rate is s.profit_factor is s.avg_pnl is s.avg_r is s.best is s.worst is None
        assert s.by_reason == s.by_symbol == s.by_day == {}
    assert equity_curve([]) == []


def test_equity_curve_is_cumulative_by_exit_time() -> None:
    assert equity_curve(TRADES) == [(DAY1 + 10 * HOUR, D(30)), (DAY1 + 11 * HOUR, D(20)), (DAY2 + HOUR, D(40))]


def test_initial_risk_from_entry_orders() -> None:
    orders = [
        order("L1", avg="100000", stop="99000"),  # market entry: avg fill price
        order("L2", price="2000", stop="2020"),  # limit not yet filled: its price
        order("L3", avg="100", stop="90", reduce_only=True),  # an exit, not an entry
        order("L4", avg="100"),  # no stop
        order("", avg="100", stop="90"),  # not ours
        order("L5", avg="100", stop="100"),  # zero distance
    ]
    assert initial_risk_by_link(orders) == {"L1": D(1000), "L2": D(20)}


def phantom(
    pid: str,
    side: Side,
    entry: str,
    sl: str,
    exit_price: str | None,
    outcome: str | None,
    closed_ms: int | None,
    symbol: str = "BTCUSDT",
) -> PhantomRow:
    return PhantomRow(
        id=pid,
        recommendation_id=None,
        symbol=symbol,
        side=side,
        entry=D(entry),
        sl=D(sl),
        tp=D(0),
        opened_ms=DAY1,
        closed_ms=closed_ms,
        outcome=outcome,
        exit_price=D(exit_price) if exit_price else None,
    )


PHANTOMS = [
    phantom("p1", Side.BUY, "100", "95", "110", "win", DAY1 + HOUR),  # +10 % → +10, R 2
    phantom("p2", Side.SELL, "50", "55", "55", "loss", DAY1 + 2 * HOUR, "ETHUSDT"),  # −10 % → −10, R −1
    phantom("p3", Side.BUY, "100", "95", None, None, None),  # still open
    phantom("p4", Side.BUY, "200", "190", "201", "timeout", DAY2),  # +0.5 % → +0.5, R 0.1
]


def test_phantom_summary_sizes_each_to_the_notional() -> None:
    s = phantom_summary(PHANTOMS)
    assert (s.count, s.wins, s.losses) == (3, 2, 1)
    assert s.total_pnl == D("0.5") and s.profit_factor == D("1.05")
    assert s.avg_r == (D(2) - D(1) + D("0.1")) / D(3)
    assert (s.best, s.worst) == (D(10), D(-10))
    assert s.by_reason == {"loss": (1, D(-10)), "timeout": (1, D("0.5")), "win": (1, D(10))}
    assert s.by_symbol == {"BTCUSDT": (2, D("10.5")), "ETHUSDT": (1, D(-10))}
    assert s.by_day == {"2026-03-01": (2, D(0)), "2026-03-02": (1, D("0.5"))}
    assert phantom_summary(PHANTOMS, D(1000)).total_pnl == D(5)


def test_day_of_is_utc() -> None:
    assert day_of(DAY1) == "2026-03-01" and day_of(DAY2 - 1) == "2026-03-01"
