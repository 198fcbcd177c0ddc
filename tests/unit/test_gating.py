"""The gates: thresholds, one idea per symbol, slots, and intelligent replacement."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.store.factories import order as store_order
from tui_bot.core.gating import GateBook, check_thresholds, gate, holders, strongest_per_symbol, take
from tui_bot.domain.enums import OrderStatus, Side
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.domain.recommendations import Direction, Proposal
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.attribution import EXTERNAL
from tui_bot.store.rows import Trade

D = Decimal


def idea(
    symbol: str = "BTCUSDT",
    confidence: float = 0.8,
    direction: Direction = Direction.LONG,
    entry: str = "100",
    sl: str = "90",
    tp: str = "120",
    strategy: str = "s",
) -> Proposal:
    return Proposal(symbol, direction, confidence, D(entry), D(sl), D(tp), "why", strategy, "1")


def book(
    free: int = 3, taken: set[str] | None = None, replaceable: dict[str, float] | None = None, **settings: object
) -> GateBook:
    return GateBook(TradingSettings(**settings), free, taken or set(), replaceable or {})


def test_thresholds_name_the_failing_figure() -> None:
    settings = TradingSettings(min_confidence_threshold=0.6, min_rr=D("1.5"))
    assert check_thresholds(idea(confidence=0.5), settings) == "confidence 0.50 below the minimum 0.60"
    assert check_thresholds(idea(tp="110"), settings) == "reward:risk 1.00 below the minimum 1.5"
    assert check_thresholds(idea(sl="105"), settings) == "stop loss or take profit on the wrong side of the entry"
    assert check_thresholds(idea(direction=Direction.HOLD), settings) == "no trade proposed (HOLD)"
    assert check_thresholds(idea(), settings) is None


def test_short_rr_is_measured_downwards() -> None:
    short = idea(direction=Direction.SHORT, entry="100", sl="110", tp="70")
    assert short.rr == D("3.00")
    assert check_thresholds(short, TradingSettings()) is None


def test_a_symbol_already_traded_is_rejected() -> None:
    verdict = gate(idea(), book(taken={"BTCUSDT"}))
    assert not verdict.passed and verdict.reason == "already trading BTCUSDT"


def test_slots_run_out_within_one_cycle() -> None:
    b = book(free=1)
    first, second = idea("BTCUSDT"), idea("ETHUSDT")
    v1 = gate(first, b)
    assert v1.passed
    take(b, first, v1)
    v2 = gate(second, b)
    assert not v2.passed and v2.reason.startswith("no free slot (3 of 3 in use)")


def test_replacement_needs_the_improvement() -> None:
    b = book(
        free=0,
        taken={"SOLUSDT"},
        replaceable={"SOLUSDT": 0.65},
        enable_intelligent_replacement=True,
        min_score_improvement=0.1,
    )
    weak = gate(idea(confidence=0.7), b)
    assert not weak.passed and "does not beat SOLUSDT (0.65) by 0.10" in weak.reason
    strong = gate(idea(confidence=0.8), b)
    assert strong.passed and strong.replaces == "SOLUSDT"
    take(b, idea(confidence=0.8), strong)
    assert "SOLUSDT" not in b.replaceable and b.free_slots == 0


def test_replacement_off_means_full_is_full() -> None:
    b = book(free=0, replaceable={"SOLUSDT": 0.1}, enable_intelligent_replacement=False)
    assert not gate(idea(confidence=0.99), b).passed


def test_strongest_idea_per_symbol_wins() -> None:
    a, b, c = idea(confidence=0.7, strategy="a"), idea(confidence=0.9, strategy="b"), idea("ETHUSDT", 0.8, strategy="c")
    kept, losers = strongest_per_symbol([a, b, c])
    assert kept == [b, c]
    assert losers == [(a, "a stronger idea for BTCUSDT came from b")]


def _open_trade(symbol: str, bot: str) -> Trade:
    return Trade(f"{bot}-{symbol}", symbol, Side.BUY, "open", D(1), D(100), 1, D(0), bot=bot)


def test_symbols_other_bots_hold_are_refused_naming_the_bot() -> None:
    trades = [
        _open_trade("BTCUSDT", "alpha"),
        _open_trade("SOLUSDT", "alpha"),  # the exchange no longer shows it: it holds nothing
        _open_trade("XRPUSDT", EXTERNAL),
        _open_trade("ADAUSDT", "me"),
    ]
    entry = replace(
        store_order("o1", OrderStatus.NEW, 1),
        symbol="ETHUSDT",
        order_link_id=OrderIdFactory("gamma").new(OrderReason.ENTRY),
    )
    held = holders(trades, [entry], {"BTCUSDT", "ETHUSDT", "XRPUSDT", "ADAUSDT"}, "me")
    assert held == {"BTCUSDT": "alpha", "ETHUSDT": "gamma"}
    verdict = gate(idea("BTCUSDT"), GateBook(TradingSettings(), 3, {"BTCUSDT"}, held_by=held))
    assert (verdict.passed, verdict.reason) == (False, "BTCUSDT is held by bot alpha")
    assert (
        gate(idea("XRPUSDT"), GateBook(TradingSettings(), 3, {"XRPUSDT"}, held_by=held)).reason
        == "already trading XRPUSDT"
    )
