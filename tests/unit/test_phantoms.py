"""Phantom trades follow prices to TP (win), SL (loss) or timeout, widening their excursions."""

from __future__ import annotations

import gc
import tracemalloc
from decimal import Decimal

from tui_bot.core.phantoms import PhantomTracker, follow
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Recommendation
from tui_bot.store.rows import PhantomRow

D = Decimal
HOUR_MS = 3_600_000


def phantom(side: Side = Side.BUY) -> PhantomRow:
    sl, tp = (D(90), D(120)) if side is Side.BUY else (D(110), D(80))
    return PhantomRow("p", "r", "BTCUSDT", side, D(100), sl, tp, opened_ms=0)


def test_long_reaches_target_as_a_win_with_excursions() -> None:
    p = follow(phantom(), D(95), 1, HOUR_MS)
    assert p.closed_ms is None and p.max_adverse == D(5) and p.max_favourable == D(0)
    p = follow(p, D(121), 2, HOUR_MS)
    assert (p.outcome, p.exit_price, p.closed_ms, p.max_favourable, p.max_adverse) == ("win", D(120), 2, D(21), D(5))


def test_short_hits_stop_as_a_loss() -> None:
    p = follow(phantom(Side.SELL), D(111), 5, HOUR_MS)
    assert (p.outcome, p.exit_price, p.max_adverse) == ("loss", D(110), D(11))


def test_timeout_closes_at_the_current_price() -> None:
    p = follow(phantom(), D(101), HOUR_MS, HOUR_MS)
    assert (p.outcome, p.exit_price) == ("timeout", D(101))


def test_tracker_moves_only_its_symbol_and_reports_closes() -> None:
    now = [0]
    tracker = PhantomTracker(None, lambda: D(1), now_ms=lambda: now[0])
    rec = Recommendation(
        "r1", None, "BTCUSDT", Side.BUY, D("0.7"), D(100), D(90), D(120), D(2), "s", "1", "why", "rejected", 0, 0
    )
    tracker.start(rec)
    assert tracker.symbols == {"BTCUSDT"}
    assert tracker.on_price("ETHUSDT", D(500)) == []
    closed = tracker.on_price("BTCUSDT", D(125))
    assert [p.outcome for p in closed] == ["win"] and not tracker.open and tracker.closed_count == 1


def test_a_recommendation_is_tradable_only_between_its_stop_and_target() -> None:
    long = Recommendation(
        "l", None, "BTCUSDT", Side.BUY, D("0.7"), D(100), D(90), D(120), D(2), "s", "1", "", "pending", 0, 0
    )
    short = Recommendation(
        "s", None, "BTCUSDT", Side.SELL, D("0.7"), D(100), D(110), D(80), D(2), "s", "1", "", "pending", 0, 0
    )
    assert [long.tradable_at(D(p)) for p in (89, 90, 100, 120, 121)] == [False, False, True, False, False]
    assert [short.tradable_at(D(p)) for p in (111, 110, 100, 80, 79)] == [False, False, True, False, False]


def test_a_closed_phantom_leaves_nothing_behind_in_the_tracker() -> None:
    tracker = PhantomTracker(None, lambda: D(1), now_ms=lambda: 0)

    def follow_and_close(first: int, count: int) -> None:
        for i in range(first, first + count):
            tracker.start(
                Recommendation(
                    f"r{i}",
                    None,
                    "BTCUSDT",
                    Side.BUY,
                    D("0.7"),
                    D(100),
                    D(90),
                    D(120),
                    D(2),
                    "s",
                    "1",
                    "why",
                    "rejected",
                    0,
                    0,
                )
            )
            assert len(tracker.on_price("BTCUSDT", D(125))) == 1

    follow_and_close(0, 100)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        follow_and_close(1_000_000, 2_000)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4_000, f"{kept:,} bytes kept after 2,000 phantoms opened and closed"
    assert not tracker.open and tracker.symbols == set() and tracker.closed_count == 2_100
