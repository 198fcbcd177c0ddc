"""Pure technical indicators over candle series (float maths) and tick rounding of the prices they yield."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from typing import TypeVar

from tui_bot.domain.models import Kline

Number = TypeVar("Number", float, Decimal)
FLOAT_NOISE = Decimal("1e-6")


def closes(candles: Sequence[Kline]) -> list[float]:
    """Close prices of candles as floats."""
    return [float(c.close) for c in candles]


def ema(values: Sequence[float], period: int) -> list[float]:
    """Exponential moving average seeded with the SMA of the first `period` values (NaN before that)."""
    _check_period(period)
    out = [math.nan] * len(values)
    if len(values) < period:
        return out
    alpha = 2.0 / (period + 1)
    current = sum(values[:period]) / period
    out[period - 1] = current
    for i in range(period, len(values)):
        current += alpha * (values[i] - current)
        out[i] = current
    return out


def rsi(values: Sequence[float], period: int = 14) -> list[float]:
    """Wilder's relative strength index, 0-100 (NaN for the first `period` values)."""
    _check_period(period)
    out = [math.nan] * len(values)
    if len(values) <= period:
        return out
    changes = [values[i] - values[i - 1] for i in range(1, len(values))]
    gain = sum(max(c, 0.0) for c in changes[:period]) / period
    loss = sum(max(-c, 0.0) for c in changes[:period]) / period
    out[period] = rsi_value(gain, loss)
    for i in range(period, len(changes)):
        gain = (gain * (period - 1) + max(changes[i], 0.0)) / period
        loss = (loss * (period - 1) + max(-changes[i], 0.0)) / period
        out[i + 1] = rsi_value(gain, loss)
    return out


def rsi_value(gain: float, loss: float) -> float:
    """RSI from Wilder's average gain and loss (50 when both are zero)."""
    if loss == 0.0:
        return 50.0 if gain == 0.0 else 100.0
    return 100.0 - 100.0 / (1.0 + gain / loss)


def true_ranges(candles: Sequence[Kline]) -> list[float]:
    """True range of each candle (the first one's is high - low)."""
    out: list[float] = []
    prev_close: float | None = None
    for c in candles:
        high, low = float(c.high), float(c.low)
        if prev_close is None:
            out.append(high - low)
        else:
            out.append(max(high - low, abs(high - prev_close), abs(low - prev_close)))
        prev_close = float(c.close)
    return out


def atr(candles: Sequence[Kline], period: int = 14) -> list[float]:
    """Wilder's average true range (NaN for the first `period - 1` candles)."""
    _check_period(period)
    ranges = true_ranges(candles)
    out = [math.nan] * len(ranges)
    if len(ranges) < period:
        return out
    current = sum(ranges[:period]) / period
    out[period - 1] = current
    for i in range(period, len(ranges)):
        current = (current * (period - 1) + ranges[i]) / period
        out[i] = current
    return out


def highest(values: Sequence[Number], window: int) -> Number:
    """Largest of the last `window` values."""
    _check_window(values, window)
    return max(values[-window:])


def lowest(values: Sequence[Number], window: int) -> Number:
    """Smallest of the last `window` values."""
    _check_window(values, window)
    return min(values[-window:])


def highs(candles: Sequence[Kline]) -> list[float]:
    return [float(c.high) for c in candles]


def lows(candles: Sequence[Kline]) -> list[float]:
    return [float(c.low) for c in candles]


def to_tick(value: float | Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """value on the tick grid, rounded up or down (a float is first cleared of noise far below the tick)."""
    if isinstance(value, Decimal):
        exact = value
    else:
        exact = Decimal(repr(value))
        if tick > 0:
            exact = exact.quantize(tick * FLOAT_NOISE, rounding=ROUND_HALF_EVEN)
    if tick <= 0:
        return exact
    steps = (exact / tick).to_integral_value(rounding=ROUND_UP if up else ROUND_DOWN)
    return (steps * tick).quantize(tick)


def _check_period(period: int) -> None:
    if period < 1:
        raise ValueError(f"period must be at least 1, not {period}")


def _check_window(values: Sequence[Number], window: int) -> None:
    if window < 1 or len(values) < window:
        raise ValueError(f"window {window} needs at least that many values, got {len(values)}")
