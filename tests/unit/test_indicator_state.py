"""Incremental indicators (talipp) against today's from-scratch functions: the same values to 1e-9 relative,
bar by bar, after purging old inputs, after a rebuild, and the built-in strategies decide the same on both."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_strategies import INST, candles
from tui_bot.core.candles import CandleSeries
from tui_bot.core.indicator_state import IndicatorBook, IndicatorSeries
from tui_bot.core.indicators import atr, closes, ema, rsi
from tui_bot.core.strategies import BUILTINS
from tui_bot.domain.models import Kline

REL = 1e-9


def bars_of(points: list[tuple[float, float, float]]) -> list[Kline]:
    """Closed bars from (close, up-wick, down-wick) triples, each opening at the previous close."""
    out: list[Kline] = []
    prev = points[0][0]
    for i, (close, up, down) in enumerate(points):
        high, low = max(prev, close) + up, min(prev, close) - down
        d = [Decimal(repr(v)) for v in (prev, high, low, close)]
        out.append(Kline("BTCUSDT", "15", i * 900_000, *d, confirm=True))
        prev = close
    return out


price = st.floats(min_value=1.0, max_value=1e5, allow_nan=False)
wick = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
series = st.lists(st.tuples(price, wick, wick), min_size=1, max_size=120).map(bars_of)


def same(got: float, want: float) -> bool:
    """Equal to REL relative (both NaN counts as equal)."""
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    return math.isclose(got, want, rel_tol=REL, abs_tol=1e-12)


def oracle(kind: str, bars: list[Kline], period: int) -> float:
    """Today's from-scratch value of an indicator at the last bar."""
    if kind == "atr":
        return atr(bars, period)[-1]
    return {"ema": ema, "rsi": rsi}[kind](closes(bars), period)[-1]


KINDS = st.sampled_from(["ema", "rsi", "atr"])


@settings(max_examples=150, deadline=None)
@given(bars=series, kind=KINDS, period=st.integers(min_value=2, max_value=30))
def test_talipp_matches_the_oracle_on_the_whole_series(bars: list[Kline], kind: str, period: int) -> None:
    got = getattr(IndicatorSeries(bars), kind)(period)
    assert same(got, oracle(kind, bars, period)), (got, oracle(kind, bars, period))


@settings(max_examples=60, deadline=None)
@given(bars=series, kind=KINDS, period=st.integers(min_value=2, max_value=20))
def test_feeding_one_bar_at_a_time_equals_recomputing_from_scratch(bars: list[Kline], kind: str, period: int) -> None:
    fed = IndicatorSeries()
    read = getattr(fed, kind)
    assert math.isnan(read(period))  # created before any bar, then fed each one
    for n, bar in enumerate(bars, start=1):
        fed.add(bar)
        assert same(read(period), oracle(kind, bars[:n], period)), n


def test_flat_closes_give_rsi_50_like_the_oracle() -> None:
    bars = bars_of([(100.0, 1.0, 1.0)] * 30)
    assert IndicatorSeries(bars).rsi(14) == rsi(closes(bars), 14)[-1] == 50.0
    with pytest.raises(ValueError, match="at least 2"):
        IndicatorSeries(bars).rsi(1)


def test_old_inputs_are_purged_but_the_values_stay_those_of_the_whole_history() -> None:
    rng = random.Random(5)
    bars = bars_of([(100 + 10 * math.sin(i / 7) + rng.random(), rng.random(), rng.random()) for i in range(900)])
    kept = IndicatorSeries(limit=50)
    for bar in bars[:30]:
        kept.add(bar)
    assert not math.isnan(kept.ema(9) + kept.rsi(14) + kept.atr(14))
    for bar in bars[30:]:
        kept.add(bar)
    assert len(kept) == 50 and list(kept) == bars[-50:]
    for kind, period in (("ema", 9), ("rsi", 14), ("atr", 14)):
        assert same(getattr(kept, kind)(period), oracle(kind, bars, period))
        indicator = kept._indicators[kind, period]
        assert len(indicator.input_values) <= 50 + 256


def candle_series(bars: list[Kline], limit: int = 500) -> CandleSeries:
    source = CandleSeries(limit)
    for bar in bars:
        source.add_closed(bar)
    return source


def test_the_book_feeds_new_bars_and_rebuilds_after_a_backfill_or_a_changed_bar() -> None:
    rng = random.Random(11)
    bars = bars_of([(100 + rng.uniform(-3, 3), rng.random(), rng.random()) for _ in range(80)])
    gap = 60
    source = candle_series(bars[:gap] + bars[gap + 1 : 70])
    book = IndicatorBook()
    first = book.sync("BTCUSDT", "15", source)
    assert book.rebuilds == 1 and first.ema(9) == pytest.approx(oracle("ema", source.bars, 9), rel=REL)
    for bar in bars[70:75]:  # stream closes: fed, not rebuilt
        source.add_closed(bar)
    assert book.sync("BTCUSDT", "15", source) is first and book.rebuilds == 1
    assert same(first.atr(14), oracle("atr", source.bars, 14))
    source.add_closed(bars[gap])  # the gap's backfill: rebuilt over the bars as they are now
    healed = book.sync("BTCUSDT", "15", source)
    assert healed is not first and book.rebuilds == 2 and list(healed) == bars[:75]
    assert same(healed.rsi(14), oracle("rsi", bars[:75], 14))
    source.add_closed(bars[74])  # the same bar again changes nothing
    assert book.sync("BTCUSDT", "15", source) is healed
    source.add_closed(replace(bars[74], close=bars[74].close + 1))  # a corrected bar: rebuilt
    assert book.sync("BTCUSDT", "15", source) is not healed and book.rebuilds == 3
    assert book.sync("BTCUSDT", "15", candle_series(bars[:75])) is not healed  # another candle series: rebuilt


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtins_decide_the_same_on_incremental_indicators(name: str) -> None:
    strategy = BUILTINS[name]()
    for seed in range(40):
        rng = random.Random(seed)
        walk = [100.0]
        for _ in range(119):
            walk.append(max(walk[-1] + rng.gauss(0, 1.2), 1.0))
        bars = candles(walk)
        fed = IndicatorSeries(bars[:30])
        strategy.propose("BTCUSDT", fed, INST)  # its indicators exist from here on and are fed bar by bar
        for bar in bars[30:]:
            fed.add(bar)
        assert strategy.propose("BTCUSDT", fed, INST) == strategy.propose("BTCUSDT", bars, INST), seed
