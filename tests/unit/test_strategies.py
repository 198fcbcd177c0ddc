"""Built-in strategies on synthetic series, well-formed proposals on random walks, and loading by name."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_bot.core.strategies import BUILTINS, Strategy, StrategyLoadError, load_strategies
from tui_bot.core.strategies.base import levels
from tui_bot.core.strategies.ema_trend import EmaTrend
from tui_bot.core.strategies.range_breakout import RangeBreakout
from tui_bot.core.strategies.rsi_reversion import RsiReversion
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.numbers import round_to_step
from tui_bot.domain.recommendations import Direction, Proposal

LONG, SHORT, HOLD = Direction.LONG, Direction.SHORT, Direction.HOLD


def instrument(tick: str = "0.1") -> Instrument:
    step = Decimal(tick)
    return Instrument(
        "BTCUSDT",
        "BTC",
        "USDT",
        tick_size=step,
        min_price=step,
        max_price=Decimal("1000000"),
        qty_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("100"),
        max_market_qty=Decimal("100"),
        min_notional=Decimal("5"),
        price_scale=max(-step.as_tuple().exponent, 0),
    )  # type: ignore[operator]


INST = instrument()


def candles(closes: Sequence[float], wick: float = 0.3, inst: Instrument = INST) -> list[Kline]:
    """Closed 1m bars at these closes (opening at the previous close), on the instrument's tick."""

    def px(v: float) -> Decimal:
        return max(round_to_step(Decimal(repr(v)), inst.tick_size), inst.tick_size)

    out: list[Kline] = []
    prev = closes[0] if closes else 0.0
    shadow = round_to_step(Decimal(repr(wick)), inst.tick_size)
    for i, close in enumerate(closes):
        o, c = px(prev), px(close)
        low = max(min(o, c) - shadow, inst.tick_size)
        out.append(Kline("BTCUSDT", "1", i * 60_000, o, max(o, c) + shadow, low, c, confirm=True))
        prev = close
    return out


def wiggle(i: int) -> float:
    return 0.4 * math.sin(i * 1.7)


RISING = [100 + 0.5 * i + wiggle(i) for i in range(60)]
FALLING = [130 - 0.5 * i + wiggle(i) for i in range(60)]
FLAT = [100.0] * 60
OVERSOLD = [100 + wiggle(i) for i in range(40)] + [100 - 1.2 * k for k in range(1, 11)]
OVERBOUGHT = [100 + wiggle(i) for i in range(40)] + [100 + 1.2 * k for k in range(1, 11)]
RANGE = [100 + 0.8 * math.sin(i * 0.9) for i in range(40)]


def well_formed(p: Proposal, strategy: Strategy, bars: Sequence[Kline], inst: Instrument) -> None:
    """Every proposal: confidence in [0, 1], stamped, reasoned; trades on-tick with SL/TP on the right sides."""
    assert 0.0 <= p.confidence <= 1.0 and not math.isnan(p.confidence)
    assert (p.strategy, p.strategy_version, p.symbol) == (strategy.name, strategy.version, "BTCUSDT")
    assert isinstance(p.reasoning, str) and 10 <= len(p.reasoning) <= 200
    assert p.entry == (bars[-1].close if bars else 0)
    if p.direction is HOLD:
        assert p.stop_loss == p.take_profit == p.entry and p.confidence == 0.0
        return
    sign = 1 if p.direction is LONG else -1
    assert (p.entry - p.stop_loss) * sign > 0 and (p.take_profit - p.entry) * sign > 0
    assert inst.price_ok(p.stop_loss) and inst.price_ok(p.take_profit) and inst.price_ok(p.entry)
    assert p.rr is not None and p.rr > 0


@pytest.mark.parametrize(
    ("strategy", "series", "expected"),
    [
        (EmaTrend(), RISING, LONG),
        (EmaTrend(), FALLING, SHORT),
        (EmaTrend(), FLAT, HOLD),
        (RsiReversion(), OVERSOLD, LONG),
        (RsiReversion(), OVERBOUGHT, SHORT),
        (RsiReversion(), RANGE, HOLD),
        (RsiReversion(), FLAT, HOLD),
        (RangeBreakout(), [*RANGE, 103.0], LONG),
        (RangeBreakout(), [*RANGE, 97.0], SHORT),
        (RangeBreakout(), RANGE, HOLD),
        (RangeBreakout(), FLAT, HOLD),
    ],
    ids=lambda v: getattr(v, "name", None) or (v.value if isinstance(v, Direction) else None),
)
def test_builtins_on_synthetic_series(strategy: Strategy, series: list[float], expected: Direction) -> None:
    bars = candles(series)
    proposal = strategy.propose("BTCUSDT", bars, INST)
    assert proposal.direction is expected, proposal.reasoning
    well_formed(proposal, strategy, bars, INST)
    if expected is not HOLD:
        assert proposal.confidence > 0.2


def test_ema_trend_levels_are_atr_multiples_and_confidence_grows_with_separation() -> None:
    strategy = EmaTrend()
    gentle = strategy.propose("BTCUSDT", candles([100 + 0.1 * i + wiggle(i) for i in range(60)]), INST)
    steep = strategy.propose("BTCUSDT", candles(RISING), INST)
    assert gentle.direction is steep.direction is LONG
    assert gentle.confidence < steep.confidence < 1.0
    risk, reward = steep.entry - steep.stop_loss, steep.take_profit - steep.entry
    assert abs(reward / risk - 2) < Decimal("0.1") and "EMA9" in steep.reasoning and "ATR" in steep.reasoning


def test_breakout_stop_sits_at_mid_range_and_target_projects_the_height() -> None:
    bars = candles([*RANGE, 103.0])
    proposal = RangeBreakout().propose("BTCUSDT", bars, INST)
    top = max(b.high for b in bars[-21:-1])
    bottom = min(b.low for b in bars[-21:-1])
    assert proposal.stop_loss == ((top + bottom) / 2).quantize(INST.tick_size, rounding="ROUND_DOWN")
    assert proposal.take_profit == proposal.entry + (top - bottom)


@pytest.mark.parametrize("strategy", [cls() for cls in BUILTINS.values()], ids=list(BUILTINS))
def test_too_few_candles_hold(strategy: Strategy) -> None:
    for count in (0, 1, strategy.min_candles - 1):
        bars = candles(RISING[:count])
        proposal = strategy.propose("BTCUSDT", bars, INST)
        assert proposal.direction is HOLD and f"{strategy.min_candles} needed" in proposal.reasoning
        well_formed(proposal, strategy, bars, INST)


def test_levels_round_stop_away_and_target_toward_entry() -> None:
    entry = Decimal("100.0")
    assert levels(LONG, entry, 98.37, 103.37, INST) == (Decimal("98.3"), Decimal("103.3"))
    assert levels(SHORT, entry, 101.63, 96.63, INST) == (Decimal("101.7"), Decimal("96.7"))
    assert levels(LONG, entry, 99.99, 100.05, INST) == (Decimal("99.9"), Decimal("100.1"))
    assert levels(SHORT, entry, 100.0, 99.97, INST) == (Decimal("100.1"), Decimal("99.9"))
    assert levels(LONG, Decimal("0.1"), 0.05, 0.3, INST) is None


walks = st.tuples(
    st.sampled_from(["0.0001", "0.01", "0.1", "0.5"]),
    st.floats(0.001, 50_000),
    st.lists(st.floats(-0.08, 0.08), max_size=90),
    st.floats(0.0, 0.03),
)


@settings(max_examples=150, deadline=None)
@given(walks)
def test_every_builtin_proposal_on_a_random_walk_is_well_formed(walk: tuple[str, float, list[float], float]) -> None:
    tick, start, returns, wick = walk
    inst = instrument(tick)
    closes = [start]
    for r in returns:
        closes.append(closes[-1] * (1 + r))
    bars = candles(closes, wick=wick * start, inst=inst)
    for cls in BUILTINS.values():
        strategy = cls()
        well_formed(strategy.propose("BTCUSDT", bars, inst), strategy, bars, inst)


# -- loading by name ------------------------------------------------------------------------------


class EchoStrategy:
    """A user strategy for the loader tests: always HOLD."""

    name = "echo"
    version = "0.1"
    min_candles = 1

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        close = candles[-1].close
        return Proposal(symbol, HOLD, 0.0, close, close, close, "Echo never trades.", self.name, self.version)


class NoPropose:
    name = "nopropose"
    version = "1"
    min_candles = 1


class NeedsArguments(EchoStrategy):
    def __init__(self, period: int) -> None:
        self.period = period


def test_builtins_load_by_name_and_satisfy_the_protocol() -> None:
    loaded = load_strategies(["ema_trend", "rsi_reversion", " range_breakout "])
    assert [s.name for s in loaded] == ["ema_trend", "rsi_reversion", "range_breakout"] == list(BUILTINS)
    assert all(isinstance(s, Strategy) and s.min_candles > 1 for s in loaded)


@pytest.mark.parametrize("path", ["tests.unit.test_strategies:EchoStrategy", "tests.unit.test_strategies.EchoStrategy"])
def test_a_user_class_loads_by_dotted_path(path: str) -> None:
    [strategy] = load_strategies([path])
    assert type(strategy).__name__ == "EchoStrategy" and strategy.name == "echo"
    assert strategy.propose("BTCUSDT", candles([1.0]), INST).reasoning == "Echo never trades."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("tests.unit.no_such_module:Thing", "cannot import module 'tests.unit.no_such_module'"),
        ("tests.unit.test_strategies:Missing", "has no class 'Missing'"),
        ("tests.unit.test_strategies:NoPropose", "NoPropose lacks propose()"),
        ("tests.unit.test_strategies:INST", "is not a class"),
        ("tests.unit.test_strategies:NeedsArguments", "NeedsArguments() failed"),
        ("momentum", "not a built-in (chart_llm, ema_trend, range_breakout, rsi_reversion)"),
    ],
)
def test_load_errors_name_the_entry_and_the_reason(entry: str, message: str) -> None:
    with pytest.raises(StrategyLoadError, match="strategy") as caught:
        load_strategies(["ema_trend", entry])
    assert f"strategy {entry!r}" in str(caught.value) and message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_two_entries_with_the_same_strategy_name_are_refused() -> None:
    with pytest.raises(StrategyLoadError, match="already used by 'ema_trend'"):
        load_strategies(["ema_trend", "tui_bot.core.strategies.ema_trend:EmaTrend"])
    with pytest.raises(StrategyLoadError, match="strategy 'rsi_reversion' is listed twice"):
        load_strategies(["rsi_reversion", "ema_trend", " rsi_reversion"])


def test_seeded_random_walks_yield_well_formed_trades_in_both_directions() -> None:
    rng = random.Random(5)
    seen: set[tuple[str, Direction]] = set()
    for _ in range(200):
        closes = [1000.0]
        for _ in range(80):
            closes.append(closes[-1] * (1 + rng.gauss(0, 0.01)))
        bars = candles(closes, wick=5)
        for cls in BUILTINS.values():
            strategy = cls()
            proposal = strategy.propose("BTCUSDT", bars, INST)
            well_formed(proposal, strategy, bars, INST)
            seen.add((strategy.name, proposal.direction))
    assert {(name, d) for name in BUILTINS for d in (LONG, SHORT)} <= seen
