"""A cycle's summary groups its reasons: HOLDs without the values in parentheses, the gates' rejections without the
idea's own symbol or value, so the console can name the commonest; a cycle that did not finish reports none."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.unit.test_gating import idea
from tui_bot.core.cycle import decide, gate_book
from tui_bot.core.cycle_report import cycle_summary, reason_kind, rejection_kind
from tui_bot.core.state import AccountState
from tui_bot.domain.recommendations import MlStamp
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.rows import CycleRow

GUARD = "WR guard: range_breakout 31% < 35% over 200"
HELD = {
    "BTCUSDT": ["ema_trend: EMAs are level (EMA 9 100.1, EMA 21 100.0): no trend.", "quiet: No signal (close 1)."],
    "ETHUSDT": ["ema_trend: EMAs are level (EMA 9 20.2, EMA 21 20.1): no trend."],
}


def rejections() -> list[tuple[str, str]]:
    """What the real gates say about six ideas: three blocked by the WR guard, two scored low, one under-confident."""
    settings = TradingSettings(min_confidence_threshold=0.5)
    book = gate_book(AccountState(), settings, {}, {"range_breakout": GUARD}, 0.55)
    ideas = [
        idea("BTCUSDT", strategy="range_breakout"),
        idea("ETHUSDT", strategy="range_breakout"),
        idea("ADAUSDT", strategy="range_breakout"),
        replace(idea("SOLUSDT", strategy="ema_trend"), ml=MlStamp(0.31, "3", 45, 0.8, 0.15)),
        replace(idea("XRPUSDT", strategy="ema_trend"), ml=MlStamp(0.42, "3", 45, 0.8, 0.15)),
        idea("DOGEUSDT", strategy="rsi_reversion", confidence=0.3),
    ]
    decisions = decide(ideas, book, "cy1")
    assert not any(d.verdict.passed for d in decisions)
    return [(d.recommendation.symbol, d.verdict.reason) for d in decisions]


def test_reasons_group_by_kind_commonest_first() -> None:
    done = CycleRow("cy1", 1_000, "15", "done", recommendations=6, rejected=6)
    summary = cycle_summary(done, "schedule", HELD, rejections(), "learned score off: 0 of 100 outcomes")
    assert summary.holds == 3 and [s for s, _ in summary.held] == ["BTCUSDT", "ETHUSDT"]
    assert summary.top_reasons(3) == [("ema_trend: EMAs are level: no trend", 2), ("quiet: No signal", 1)]
    assert summary.top_rejections(3) == [
        (GUARD, 3),
        ("ML score below min_ml_score 0.55", 2),
        ("confidence below the minimum 0.50", 1),
    ]


def test_kinds_leave_out_values_and_the_symbol() -> None:
    assert reason_kind("range_breakout: Inside the range (close 1, 20-bar range 0.9-1.1).") == (
        "range_breakout: Inside the range"
    )
    assert rejection_kind("BTCUSDT", "a stronger idea for BTCUSDT came from chart_llm") == (
        "a stronger idea for the symbol came from chart_llm"
    )
    assert rejection_kind("BTCUSDT", "no free slot (3 of 3 in use)") == "no free slot"
    below = f"reward:risk {Decimal('1.20')} below the minimum 1.5"
    assert rejection_kind("X", below) == "reward:risk below the minimum 1.5"


def test_a_cycle_that_did_not_finish_reports_no_reasons() -> None:
    skipped = CycleRow("cy2", 1_000, "15", "skipped", skip_reason="no fresh candles")
    summary = cycle_summary(skipped, "schedule", HELD, rejections(), "off")
    assert summary.held == () and summary.rejected == () and summary.top_reasons(3) == []
