"""Decimal helpers: parsing exchange strings, rounding to steps, plain formatting."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)


def to_decimal(value: object) -> Decimal | None:
    """Parse an exchange number ('' / '0' / '0.00' mean unset and give None)."""
    if value is None or value == "":
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    if not parsed.is_finite():
        return None
    return parsed


def to_decimal_or_zero(value: object) -> Decimal:
    """Parse an exchange number, treating unset as zero."""
    parsed = to_decimal(value)
    return ZERO if parsed is None else parsed


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when value is an exact multiple of step."""
    if step <= 0:
        return True
    return value % step == 0


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round value down to a multiple of step, keeping the step's exponent."""
    if step <= 0:
        return value
    return ((value / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(step)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round value up to a multiple of step, keeping the step's exponent."""
    if step <= 0:
        return value
    return ((value / step).to_integral_value(rounding=ROUND_UP) * step).quantize(step)


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round value to the nearest multiple of step (half up)."""
    if step <= 0:
        return value
    return ((value / step).to_integral_value(rounding=ROUND_HALF_UP) * step).quantize(step)


def plain(value: Decimal | None, places: int | None = None) -> str:
    """Format a Decimal as a plain string with no exponent ('' for None)."""
    if value is None:
        return ""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    return "0" if text in ("-0", "") else text


def places_of(step: Decimal) -> int:
    """Decimal places a tick or step size carries, as the exchange writes it (0.10 → 2, 0.5 → 1, 10 → 0)."""
    if step <= 0:
        return 0
    exponent = step.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
