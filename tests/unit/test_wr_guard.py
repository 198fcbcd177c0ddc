"""The win-rate guard on scripted outcomes: it trips at the minimum only with enough sample, recovers above the
minimum plus hysteresis, weighs phantoms, rolls, is rebuilt from stored rows, gates with its reason, alerts."""

from __future__ import annotations

import calendar
from dataclasses import replace
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests.unit.test_gating import book, idea
from tui_bot.core.alert_rules import AlertSettings, Episodes
from tui_bot.core.cycle import decide
from tui_bot.core.gating import gate
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.core.trade_alerts import TradeAlerts
from tui_bot.core.wr_guard import GuardOutcome, WinRateGuard, WrGuardChanged
from tui_bot.domain.alerts import AlertKind, Severity
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Recommendation
from tui_bot.store.rows import PhantomRow, Trade

D = Decimal
DAY = calendar.timegm((2026, 3, 1, 0, 0, 0)) * 1000


def guard(**settings: object) -> WinRateGuard:
    values: dict[str, object] = {"wr_guard_min_sample": 1, "wr_guard_hysteresis": 0.0, **settings}
    return WinRateGuard(SignalSettings.model_validate(values))


def feed(g: WinRateGuard, strategy: str, wins: str, phantom: bool = False) -> list[WrGuardChanged]:
    """Record outcomes written as W (win) and L (loss); the changes they caused."""
    changes = []
    for i, mark in enumerate(wins):
        change = g.record(GuardOutcome(strategy, mark == "W", phantom, DAY + i))
        if change is not None:
            changes.append(change)
    return changes


def test_it_trips_below_the_minimum_over_the_window_with_the_reason_in_words() -> None:
    g = guard(wr_guard_window=200, wr_guard_min_sample=200, wr_guard_min=0.35)
    assert feed(g, "range_breakout", "L" * 199) == []  # below the minimum, but too few outcomes yet
    assert g.blocked() == {}
    [change] = feed(g, "range_breakout", "L")
    assert change.tripped and change.strategy == "range_breakout"
    assert g.blocked() == {"range_breakout": "WR guard: range_breakout 0% < 35% over 200"}
    g = guard(wr_guard_window=200, wr_guard_min_sample=200, wr_guard_min=0.35)
    feed(g, "range_breakout", "W" * 62 + "L" * 138)
    assert g.blocked()["range_breakout"] == "WR guard: range_breakout 31% < 35% over 200"


def test_it_recovers_only_above_the_minimum_plus_hysteresis_and_keeps_strategies_apart() -> None:
    g = guard(wr_guard_window=10, wr_guard_min_sample=4, wr_guard_min=0.5, wr_guard_hysteresis=0.2)
    feed(g, "ema_trend", "LLLL")
    feed(g, "rsi_reversion", "WWWW")
    assert set(g.blocked()) == {"ema_trend"}
    assert feed(g, "ema_trend", "WWWWWW") == []  # 6 of 10 = 60%: above the minimum, short of 70%
    [back] = feed(g, "ema_trend", "W")  # the oldest loss rolls out: 7 of 10
    assert not back.tripped and g.blocked() == {}
    assert back.text == "WR guard: ema_trend back to 70% over 10; its entries trade again"
    assert g.rate("ema_trend") == (pytest.approx(0.7), 10)


def test_phantoms_weigh_less_than_trades() -> None:
    g = guard(wr_guard_window=10, wr_guard_min=0.5, wr_guard_phantom_weight=0.25)
    feed(g, "s", "W")  # a trade won: weight 1
    feed(g, "s", "LL", phantom=True)  # two phantoms lost: weight 0.25 each
    assert g.rate("s") == (pytest.approx(1 / 1.5), 3) and g.blocked() == {}
    assert [c.tripped for c in feed(g, "s", "LLL", phantom=True)] == [True]  # 1 / 2.25 < 0.5


def test_a_zero_minimum_turns_the_guard_off_and_bad_settings_are_refused() -> None:
    g = guard(wr_guard_min=0.0)
    assert feed(g, "s", "L" * 50) == [] and g.blocked() == {}
    with pytest.raises(ValidationError, match="cannot exceed"):
        SignalSettings(wr_guard_window=10, wr_guard_min_sample=11)
    with pytest.raises(ValidationError, match="once"):
        SignalSettings(timeframes=["15", "15"])


def rec(n: int, strategy: str, link: str | None = None) -> Recommendation:
    return Recommendation(
        id=f"r{n}",
        cycle_id="c",
        symbol="BTCUSDT",
        side=Side.BUY,
        confidence=D("0.7"),
        entry=D(100),
        stop_loss=D(90),
        take_profit=D(120),
        rr=D(2),
        strategy=strategy,
        strategy_version="1",
        reasoning="why",
        status="executed" if link else "rejected",
        created_ms=DAY,
        updated_ms=DAY,
        order_link_id=link,
    )


def phantom(n: int, exit_price: str | None, closed_at: int | None = None) -> PhantomRow:
    closed = closed_at is not None and exit_price is not None
    return PhantomRow(
        id=f"ph-r{n}",
        recommendation_id=f"r{n}",
        symbol="BTCUSDT",
        side=Side.BUY,
        entry=D(100),
        sl=D(90),
        tp=D(120),
        opened_ms=DAY,
        closed_ms=DAY + closed_at if closed_at is not None else None,
        outcome=("win" if exit_price == "120" else "loss") if closed else None,
        exit_price=D(exit_price) if exit_price else None,
    )


def trade(link: str, pnl: str | None, closed_at: int) -> Trade:
    return Trade(
        open_exec_id=f"x-{link}",
        symbol="BTCUSDT",
        side=Side.BUY,
        status="closed" if pnl is not None else "open",
        qty=D("0.01"),
        entry_price=D(100),
        entry_time=DAY,
        fees=D(0),
        exit_time=DAY + closed_at if pnl is not None else None,
        pnl=D(pnl) if pnl is not None else None,
        entry_order_link_id=link,
    )


def test_rebuilt_from_stored_trades_and_phantoms_in_the_order_they_closed() -> None:
    blocked_rec = replace(rec(7, "a"), fate="WR guard: a 0% < 40% over 3", created_ms=DAY + 86_400_000)
    recs = [rec(1, "a"), rec(2, "a"), rec(3, "a", "L3"), rec(4, "b"), rec(5, "a"), rec(6, "b", "L6"), blocked_rec]
    phantoms = [phantom(1, "90", 3), phantom(2, "90", 1), phantom(4, "120", 2), phantom(5, None)]
    trades = [trade("L3", "-2", 2), trade("L6", None, 0), trade("L-unknown", "5", 4)]
    g = guard(wr_guard_window=10, wr_guard_min_sample=3, wr_guard_min=0.4)
    g.rebuild(recs, trades, phantoms)
    assert g.rate("a") == (0.0, 3) and g.rate("b") == (1.0, 1)
    assert g.blocked() == {"a": "WR guard: a 0% < 40% over 3"}
    assert g.strategy_of == {"r5": "a", "L6": "b"}  # what is still open: a followed phantom, an entry's trade
    assert g.blocked_on("2026-03-02") == {"a": 1}  # the blocked ideas of a day, from their stored fate
    [closed] = g.take_closed([trade("L6", "3", 9)], [])
    assert closed == GuardOutcome("b", True, False, DAY + 9) and g.strategy_of == {"r5": "a"}
    assert g.take_closed([trade("L6", "3", 9)], []) == []  # each outcome is taken once


def test_blocked_ideas_are_counted_per_day_and_listed_for_the_stats() -> None:
    g = guard(wr_guard_min=0.5)
    feed(g, "a", "L")
    feed(g, "b", "W")
    g.note_blocked("a", DAY + 5)
    g.note_blocked("a", DAY + 6)
    g.note_blocked("a", DAY + 86_400_000)
    assert g.blocked_on("2026-03-01") == {"a": 2} and g.blocked_on("2026-03-02") == {"a": 1}
    lines = g.lines(DAY + 86_400_000)
    assert [(x.strategy, x.blocked, x.blocked_today, x.sample) for x in lines] == [
        ("a", True, 1, 1),
        ("b", False, 0, 1),
    ]
    assert lines[0].reason == "WR guard: a 0% < 50% over 1" and lines[1].win_rate == 1.0


def test_the_gate_rejects_a_blocked_strategy_with_the_guard_reason_after_the_thresholds() -> None:
    reason = "WR guard: breakout 31% < 35% over 200"
    b = book(min_confidence_threshold=0.5)
    b.blocked["breakout"] = reason
    verdict = gate(idea(strategy="breakout"), b)
    assert not verdict.passed and verdict.reason == reason and verdict.blocked_by_guard
    weak = gate(idea(strategy="breakout", confidence=0.3), b)
    assert weak.reason.startswith("confidence") and not weak.blocked_by_guard
    assert gate(idea(strategy="trend"), b).passed


def test_a_blocked_idea_does_not_win_its_symbol_over_a_weaker_allowed_one() -> None:
    b = book()
    b.blocked["breakout"] = "WR guard: breakout 0% < 35% over 30"
    decisions = decide([idea(strategy="breakout", confidence=0.9), idea(strategy="trend", confidence=0.7)], b, "c", DAY)
    fates = {d.recommendation.strategy: (d.verdict.passed, d.verdict.reason) for d in decisions}
    assert fates == {"trend": (True, "passed every gate"), "breakout": (False, "WR guard: breakout 0% < 35% over 30")}


def test_a_trip_raises_a_warning_and_the_recovery_clears_it() -> None:
    alerts = TradeAlerts(AlertSettings(), Episodes())
    trip = WrGuardChanged("breakout", True, "WR guard: breakout 31% < 35% over 200", DAY)
    raised = alerts.on_item(trip, DAY)
    assert raised is not None and (raised.severity, raised.kind, raised.subject, raised.text) == (
        Severity.WARNING,
        AlertKind.WR_GUARD,
        "breakout",
        "WR guard: breakout 31% < 35% over 200",
    )
    assert alerts.on_item(trip, DAY + 1) is None  # still tripped: raised once
    back = alerts.on_item(WrGuardChanged("breakout", False, "WR guard: breakout back to 41% over 200", DAY), DAY + 2)
    assert back is not None and back.severity is Severity.CLEARED and back.text.endswith("41% over 200")
