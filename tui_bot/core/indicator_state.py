"""Incremental indicators (talipp) over the closed bars of one symbol at one timeframe, fed one bar at a time.

An `IndicatorSeries` is a sequence of closed bars that also answers the latest EMA, RSI and ATR without going
over the history again: each indicator is created on first use from the bars held, then fed every bar added.
The functions of `core/indicators.py` compute the same values from scratch (they are the tests' oracle).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from talipp.indicators import ATR, EMA, RSI
from talipp.indicators.Indicator import Indicator
from talipp.ohlcv import OHLCV

from tui_bot.core.indicators import atr, closes, ema, rsi, rsi_value
from tui_bot.domain.models import Kline

if TYPE_CHECKING:
    from tui_bot.core.candles import CandleBook, CandleSeries

PURGE_SLACK = 256
"""Bars an indicator may hold beyond the series' limit before its oldest inputs are dropped (amortised)."""
_Key = tuple[str, int]


def _close(bar: Kline) -> float:
    return float(bar.close)


def _ohlc(bar: Kline) -> OHLCV:
    return OHLCV(float(bar.open), float(bar.high), float(bar.low), float(bar.close))


_MAKERS: dict[str, tuple[Callable[[int], Indicator], Callable[[Kline], Any]]] = {
    "ema": (EMA, _close),
    "rsi": (RSI, _close),
    "atr": (ATR, _ohlc),
}


class IndicatorSeries(Sequence[Kline]):
    """Closed bars, oldest first (at most `limit` kept), with the indicators asked for so far kept current."""

    def __init__(self, bars: Iterable[Kline] = (), limit: int = 1000) -> None:
        self.limit = max(limit, 1)
        self._bars: list[Kline] = []
        self._indicators: dict[_Key, Indicator] = {}
        for bar in bars:
            self.add(bar)

    @overload
    def __getitem__(self, index: int) -> Kline: ...
    @overload
    def __getitem__(self, index: slice) -> list[Kline]: ...
    def __getitem__(self, index: int | slice) -> Kline | list[Kline]:
        return self._bars[index]

    def __len__(self) -> int:
        return len(self._bars)

    def __iter__(self) -> Iterator[Kline]:
        return iter(self._bars)

    def add(self, bar: Kline) -> None:
        """Append the next closed bar and feed it to every indicator."""
        self._bars.append(bar)
        if len(self._bars) > self.limit:
            del self._bars[: -self.limit]
        for (kind, _), indicator in self._indicators.items():
            indicator.add(_MAKERS[kind][1](bar))
            if len(indicator.input_values) > self.limit + PURGE_SLACK:
                indicator.purge_oldest(len(indicator.input_values) - self.limit)

    def ema(self, period: int) -> float:
        """The latest EMA of the closes (NaN until `period` bars)."""
        return self._latest("ema", period)

    def rsi(self, period: int = 14) -> float:
        """The latest Wilder RSI of the closes, 50 when nothing moved (NaN until `period` + 1 bars)."""
        if period < 2:
            raise ValueError(f"an incremental RSI needs a period of at least 2, not {period}")
        value = self._latest("rsi", period)
        indicator = self._indicators["rsi", period]
        if math.isnan(value) or indicator.avg_loss[-1] != 0:
            return value
        return rsi_value(indicator.avg_gain[-1], 0.0)

    def atr(self, period: int = 14) -> float:
        """The latest Wilder ATR (NaN until `period` bars)."""
        return self._latest("atr", period)

    def _latest(self, kind: str, period: int) -> float:
        if period < 1:
            raise ValueError(f"period must be at least 1, not {period}")
        indicator = self._indicators.get((kind, period))
        if indicator is None:
            make, value_of = _MAKERS[kind]
            indicator = self._indicators[kind, period] = make(period)
            for bar in self._bars:
                indicator.add(value_of(bar))
        value = indicator.output_values[-1] if indicator.output_values else None
        return math.nan if value is None else float(value)


def last_ema(candles: Sequence[Kline], period: int) -> float:
    """The newest EMA of the closes: kept incrementally by an IndicatorSeries, else computed from scratch."""
    if isinstance(candles, IndicatorSeries):
        return candles.ema(period)
    return ema(closes(candles), period)[-1]


def last_rsi(candles: Sequence[Kline], period: int) -> float:
    """The newest RSI of the closes: kept incrementally by an IndicatorSeries, else computed from scratch."""
    if isinstance(candles, IndicatorSeries):
        return candles.rsi(period)
    return rsi(closes(candles), period)[-1]


def last_atr(candles: Sequence[Kline], period: int) -> float:
    """The newest ATR: kept incrementally by an IndicatorSeries, else computed from scratch."""
    if isinstance(candles, IndicatorSeries):
        return candles.atr(period)
    return atr(candles, period)[-1]


def recent_closes(candles: Sequence[Kline], count: int) -> list[float]:
    """The closes of the last `count` bars as floats."""
    return closes(candles[-count:])


class IndicatorBook:
    """One IndicatorSeries per (symbol, timeframe), kept in step with a candle book's closed bars.

    A series is fed only the bars newer than its last one while the candle series it follows is the same object
    and has seen no edit (a bar inserted before the newest, as after a gap's backfill, or a bar replaced by a
    different one); otherwise it is built again from the bars held.
    """

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], tuple[IndicatorSeries, CandleSeries, int]] = {}
        self.rebuilds = 0

    def follow(self, candles: CandleBook) -> None:
        """Feed each bar the candle book's stream closes at once, so a cycle finds the indicators current."""
        candles.listeners.append(lambda bar: self._on_closed(candles, bar))

    def _on_closed(self, candles: CandleBook, bar: Kline) -> None:
        source = candles.series(bar.symbol)
        if source is not None and bar.interval == candles.interval:
            self.sync(bar.symbol, bar.interval, source)

    def sync(self, symbol: str, timeframe: str, source: CandleSeries) -> IndicatorSeries:
        """The indicator series of (symbol, timeframe) holding every closed bar of source."""
        key = (symbol, timeframe)
        held = self._held.get(key)
        if held is not None and held[1] is source and held[2] == source.edits:
            series = held[0]
            for bar in _newer(source.bars, series[-1].start if len(series) else None):
                series.add(bar)
            return series
        series = IndicatorSeries(source.bars, source.limit)
        self.rebuilds += 1
        self._held[key] = (series, source, source.edits)
        return series

    def tracked(self) -> set[tuple[str, str]]:
        """The (symbol, timeframe) pairs held."""
        return set(self._held)

    def drop(self, keep: Iterable[tuple[str, str]]) -> None:
        """Forget the series of every (symbol, timeframe) not in keep."""
        wanted = set(keep)
        for key in [k for k in self._held if k not in wanted]:
            del self._held[key]


def _newer(bars: list[Kline], after: int | None) -> list[Kline]:
    """The bars (oldest first) that start after `after` (all of them when it is None)."""
    if after is None:
        return list(bars)
    at = len(bars)
    while at > 0 and bars[at - 1].start > after:
        at -= 1
    return bars[at:]
