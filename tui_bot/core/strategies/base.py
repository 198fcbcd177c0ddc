"""The Strategy protocol and helpers that turn raw indicator levels into well-formed, tick-rounded proposals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from tui_bot.core.indicators import to_tick
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.numbers import ZERO, round_to_step
from tui_bot.domain.recommendations import Direction, Proposal

MAX_CONFIDENCE = 0.95


@runtime_checkable
class Strategy(Protocol):
    """Turns closed candles (oldest first) of one symbol into a proposal; HOLD when there is no trade."""

    name: str
    version: str
    min_candles: int

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal: ...


def timeframes_of(strategy: object, cycle_timeframe: str, kept: Sequence[str]) -> list[str]:
    """The timeframes a strategy reads: those of its optional `timeframes` attribute that are kept ([signals]
    timeframes), or the cycle's own when it declares none."""
    declared = tuple(getattr(strategy, "timeframes", ()) or ())
    if not declared:
        return [cycle_timeframe]
    return [t for t in declared if t in kept]


class Named(Protocol):
    """What the helpers need to stamp a proposal: the strategy's name and version."""

    name: str
    version: str


def last_close(candles: Sequence[Kline], inst: Instrument) -> Decimal:
    """The newest close on the tick grid (zero when there are no candles)."""
    return round_to_step(candles[-1].close, inst.tick_size) if candles else ZERO


def hold(strategy: Named, symbol: str, candles: Sequence[Kline], inst: Instrument, why: str) -> Proposal:
    """A HOLD proposal at the last close saying why there is no trade."""
    entry = last_close(candles, inst)
    return Proposal(
        symbol=symbol,
        direction=Direction.HOLD,
        confidence=0.0,
        entry=entry,
        stop_loss=entry,
        take_profit=entry,
        reasoning=why,
        strategy=strategy.name,
        strategy_version=strategy.version,
    )


def too_few(
    strategy: Named, min_candles: int, symbol: str, candles: Sequence[Kline], inst: Instrument
) -> Proposal | None:
    """A HOLD when there are fewer than min_candles candles, else None."""
    if len(candles) >= min_candles:
        return None
    return hold(strategy, symbol, candles, inst, f"Only {len(candles)} closed candles; {min_candles} needed.")


def clamp_confidence(value: float) -> float:
    """Confidence limited to [0, MAX_CONFIDENCE] (NaN becomes 0)."""
    if math.isnan(value):
        return 0.0
    return round(min(max(value, 0.0), MAX_CONFIDENCE), 3)


def levels(
    direction: Direction, entry: Decimal, stop: float | Decimal, target: float | Decimal, inst: Instrument
) -> tuple[Decimal, Decimal] | None:
    """Stop and target on the tick grid (stop away from entry, target toward it, both at least a tick off).

    None when they cannot be placed inside the instrument's price band on the right sides.
    """
    sign = 1 if direction is Direction.LONG else -1
    tick = inst.tick_size
    stop_loss = to_tick(stop, tick, up=sign < 0)
    take_profit = to_tick(target, tick, up=sign < 0)
    if (entry - stop_loss) * sign < tick:
        stop_loss = entry - tick * sign
    if (take_profit - entry) * sign < tick:
        take_profit = entry + tick * sign
    band_ok = all(inst.min_price <= p <= inst.max_price and p > 0 for p in (stop_loss, take_profit))
    return (stop_loss, take_profit) if band_ok else None


def trade(
    strategy: Named,
    symbol: str,
    candles: Sequence[Kline],
    inst: Instrument,
    *,
    direction: Direction,
    stop: float | Decimal,
    target: float | Decimal,
    confidence: float,
    reasoning: str,
    inputs: Mapping[str, float] | None = None,
) -> Proposal:
    """A LONG or SHORT at the last close with rounded stop and target; HOLD when they cannot be placed.

    inputs are the levels the strategy decided on, recorded with the idea's features.
    """
    entry = last_close(candles, inst)
    finite = all(math.isfinite(float(v)) for v in (stop, target))
    placed = levels(direction, entry, stop, target, inst) if finite and entry > 0 else None
    if placed is None:
        return hold(strategy, symbol, candles, inst, f"{reasoning} No valid stop/target inside the price band.")
    stop_loss, take_profit = placed
    return Proposal(
        symbol=symbol,
        direction=direction,
        confidence=clamp_confidence(confidence),
        entry=entry,
        stop_loss=stop_loss,
        take_profit=take_profit,
        reasoning=reasoning,
        strategy=strategy.name,
        strategy_version=strategy.version,
        inputs=dict(inputs or {}),
    )


def price_text(value: float | Decimal, inst: Instrument) -> str:
    """A price for reasoning text, with the instrument's decimals."""
    return f"{float(value):.{max(inst.price_scale, 0)}f}"
