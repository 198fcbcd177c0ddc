"""Kline history is made as far back as queries reach, and is the same however far it was made before."""

from __future__ import annotations

from decimal import Decimal

from tui_bot.sim.candles import INITIAL_HISTORY, CandleSeries
from tui_bot.sim.intervals import shift_bar

NOW_MS = 1_790_000_000_000


def series() -> CandleSeries:
    return CandleSeries(
        "BTCUSDT", "15", seed=7, price=Decimal("100000"), tick=Decimal("0.1"), qty_step=Decimal("0.001"),
        annual_vol=0.6, now_ms=NOW_MS,
    )  # fmt: skip


def test_a_series_starts_short_and_a_query_for_more_bars_gets_them_all_contiguous() -> None:
    made = series()
    assert len(made.closed) == INITIAL_HISTORY
    bars = made.query(None, None, 1000)
    assert len(bars) == 1000
    assert all(shift_bar("15", older.start, 1) == newer.start for newer, older in zip(bars, bars[1:], strict=False))
    assert made.query(None, bars[500].start, 1000)[0] == bars[500]  # up to an end: the 1000 bars before it
    assert len(made.query(None, bars[500].start, 1000)) == 1000


def test_history_made_in_chunks_is_the_history_made_at_once() -> None:
    bar_by_bar, at_once = series(), series()
    for _ in range(300):
        bar_by_bar._extend_history(1)
    at_once._extend_history(300)
    assert bar_by_bar.closed == at_once.closed
    assert len(at_once.closed) == INITIAL_HISTORY + 300
