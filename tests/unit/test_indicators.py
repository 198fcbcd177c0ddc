"""Indicators against hand-worked values: EMA, Wilder RSI and ATR, window extremes, tick rounding."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from tui_bot.core.indicators import atr, closes, ema, highest, lowest, rsi, to_tick, true_ranges
from tui_bot.domain.models import Kline


def bar(high: float, low: float, close: float, start: int = 0) -> Kline:
    d = [Decimal(repr(v)) for v in (close, high, low, close)]
    return Kline("BTCUSDT", "1", start, d[0], d[1], d[2], d[3], confirm=True)


def test_ema_seeds_with_the_sma_then_smooths() -> None:
    out = ema([1.0, 2.0, 3.0, 4.0, 5.0], 3)
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2:] == pytest.approx([2.0, 3.0, 4.0])
    assert ema([7.0] * 30, 9)[-1] == pytest.approx(7.0)
    assert all(math.isnan(v) for v in ema([1.0, 2.0], 3))
    with pytest.raises(ValueError, match="period"):
        ema([1.0], 0)


def test_rsi_is_wilder_smoothed() -> None:
    out = rsi([1.0, 2.0, 1.0, 2.0], 2)
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2:] == pytest.approx([50.0, 75.0])
    assert rsi([float(i) for i in range(20)], 14)[-1] == 100.0
    assert rsi([float(20 - i) for i in range(20)], 14)[-1] == 0.0
    assert rsi([5.0] * 20, 14)[-1] == 50.0
    assert all(math.isnan(v) for v in rsi([1.0] * 14, 14))


def test_atr_uses_true_range_across_gaps() -> None:
    steady = [bar(101, 99, 100, i) for i in range(20)]
    assert atr(steady, 14)[-1] == pytest.approx(2.0)
    assert math.isnan(atr(steady, 14)[12]) and not math.isnan(atr(steady, 14)[13])
    gapped = [bar(101, 99, 100), bar(111, 109, 110)]
    assert true_ranges(gapped) == pytest.approx([2.0, 11.0])
    assert atr(gapped, 2)[-1] == pytest.approx(6.5)
    three = [*gapped, bar(112, 108, 110)]
    assert atr(three, 2)[-1] == pytest.approx((6.5 + 4.0) / 2)


def test_window_extremes() -> None:
    values = [3.0, 9.0, 1.0, 4.0, 2.0]
    assert (highest(values, 3), lowest(values, 3)) == (4.0, 1.0)
    assert (highest(values, 5), lowest(values, 2)) == (9.0, 2.0)
    with pytest.raises(ValueError, match="window 6"):
        highest(values, 6)
    assert closes([bar(2, 1, 1.5)]) == [1.5]


def test_to_tick_rounds_in_the_asked_direction() -> None:
    tick = Decimal("0.10")
    assert to_tick(100.04, tick, up=True) == Decimal("100.10")
    assert to_tick(100.04, tick, up=False) == Decimal("100.00")
    assert to_tick(Decimal("100.30"), tick, up=True) == Decimal("100.30")
    assert str(to_tick(7, Decimal("0.5"), up=False)) == "7.0"
