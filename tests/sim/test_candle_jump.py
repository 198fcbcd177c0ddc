"""The exchange's kline series after a clock jump (the admin clock skew): no bar per skipped interval."""

from __future__ import annotations

import calendar
from decimal import Decimal

from tui_bot.sim.candles import CandleSeries
from tui_bot.sim.intervals import bar_start

NOW = calendar.timegm((2026, 1, 5, 10, 7, 0)) * 1000
LATER = calendar.timegm((2099, 6, 1, 12, 0, 0)) * 1000


def test_a_jump_of_decades_closes_the_live_bar_and_opens_the_bar_of_the_new_time() -> None:
    series = CandleSeries(
        "BTCUSDT",
        "15",
        seed=7,
        price=Decimal("100000"),
        tick=Decimal("0.1"),
        qty_step=Decimal("0.001"),
        annual_vol=0.5,
        now_ms=NOW,
    )
    closed_before = len(series.closed)
    finished = series.on_trade(Decimal("100010"), Decimal("0.01"), LATER)
    assert [bar.start for bar in finished] == [bar_start("15", NOW)] and finished[0].confirm
    assert len(series.closed) == closed_before + 1
    assert series.live.start == bar_start("15", LATER) and series.live.close == Decimal("100010")
    assert series.live.open == Decimal("100000")


def test_a_short_gap_still_closes_one_flat_bar_per_interval() -> None:
    series = CandleSeries(
        "BTCUSDT",
        "1",
        seed=7,
        price=Decimal("100000"),
        tick=Decimal("0.1"),
        qty_step=Decimal("0.001"),
        annual_vol=0.5,
        now_ms=NOW,
    )
    finished = series.roll(NOW + 5 * 60_000)
    assert len(finished) == 5 and series.live.start == bar_start("1", NOW + 5 * 60_000)
