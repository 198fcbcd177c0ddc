"""Pure stop arithmetic for protection: R multiples, tightening steps, trailing and aged-position targets."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import ceil_to_step, floor_to_step, plain
from tui_bot.domain.trading_settings import TightenStep


def safe_stop(price: Decimal, side: Side, tick: Decimal) -> Decimal:
    """Round a stop to the tick away from the market (down for a long, up for a short)."""
    return floor_to_step(price, tick) if side is Side.BUY else ceil_to_step(price, tick)


def initial_r(side: Side, entry: Decimal, stop: Decimal) -> Decimal | None:
    """The risk unit |entry - stop|, or None when the stop does not protect against a loss."""
    if stop <= 0 or entry <= 0:
        return None
    distance = (entry - stop) * side.sign
    return distance if distance > 0 else None


def favourable_r(side: Side, entry: Decimal, mark: Decimal, r: Decimal) -> Decimal:
    """How many R the mark has moved in the position's favour (negative when against it)."""
    return (mark - entry) * side.sign / r


def is_better(side: Side, new: Decimal, current: Decimal) -> bool:
    """True when stop `new` locks in more than `current` (any stop beats none)."""
    return current <= 0 or (new - current) * side.sign > 0


def fmt_r(value: Decimal) -> str:
    """An R multiple as text, e.g. '1R', '0.5R', '-0.25R'."""
    return f"{plain(value.normalize())}R"


def tighten_target(
    steps: Sequence[TightenStep],
    side: Side,
    entry: Decimal,
    r: Decimal,
    fav_r: Decimal,
    current_stop: Decimal,
    tick: Decimal,
) -> tuple[TightenStep, Decimal] | None:
    """The highest step reached and its stop, when that stop improves on the current one."""
    reached = [s for s in steps if fav_r >= s.at_r]
    if not reached:
        return None
    step = max(reached, key=lambda s: s.at_r)
    target = safe_stop(entry + step.stop_r * r * side.sign, side, tick)
    return (step, target) if target > 0 and is_better(side, target, current_stop) else None


def native_trailing(
    side: Side, entry: Decimal, r: Decimal, activate_r: Decimal, distance_r: Decimal, last_price: Decimal, tick: Decimal
) -> tuple[Decimal, Decimal | None]:
    """The exchange trailing distance and activation price (None when the market is already past it)."""
    distance = max(ceil_to_step(distance_r * r, tick), tick)
    active = entry + activate_r * r * side.sign
    active = ceil_to_step(active, tick) if side is Side.BUY else floor_to_step(active, tick)
    if last_price > 0 and (active - last_price) * side.sign <= 0:
        return distance, None
    return distance, active


def client_trailing_target(
    side: Side,
    best_mark: Decimal,
    r: Decimal,
    distance_r: Decimal,
    current_stop: Decimal,
    tick: Decimal,
    market: Decimal,
) -> Decimal | None:
    """The trailing stop behind the best mark, when it improves on the current stop by at least one tick.

    A market that fell back past that stop since the best mark (between two trail updates) takes the stop
    one tick inside it: the exchange refuses a stop beyond the market, and the trail has been hit.
    """
    target = safe_stop(best_mark - distance_r * r * side.sign, side, tick)
    inside = safe_stop(market - tick * side.sign, side, tick)
    if (target - inside) * side.sign > 0:
        target = inside
    if target <= 0:
        return None
    if current_stop > 0 and (target - current_stop) * side.sign < tick:
        return None
    return target


def aged_target(side: Side, entry: Decimal, mark: Decimal, current_stop: Decimal, tick: Decimal) -> Decimal | None:
    """Breakeven when in profit, else halfway from the current stop to the mark; None when that is no better."""
    if (mark - entry) * side.sign > 0:
        target = safe_stop(entry, side, tick)
    elif current_stop > 0:
        target = safe_stop((current_stop + mark) / 2, side, tick)
    else:
        return None
    if (mark - target) * side.sign <= 0 or not is_better(side, target, current_stop):
        return None
    return target


def best_of(side: Side, a: Decimal, b: Decimal) -> Decimal:
    """The more favourable of two prices for the position (ignoring unset zeros)."""
    if a <= 0:
        return b
    if b <= 0:
        return a
    return max(a, b) if side is Side.BUY else min(a, b)
