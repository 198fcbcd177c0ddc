"""Strict converters of single wire values, shared by the REST, private-topic and public-topic decoders.

Numbers follow the one wire grammar (domain/wire_decimal.py) and a sign rule per field: `dec` is for
values Bybit never sends negative (prices, quantities, margins), `signed` for those it does (PnL, fees
with maker rebates, rates, balances), `positive` for those that must be above zero (instrument filters,
candle prices, fills). "" is unset: zero for `dec` and `signed`, refused by `positive`. A JSON integer is
accepted where a number string is expected, under the same sign rule. Every failure is a FrameError
whose reason says what kind it is ("number", "sign", "range", "malformed").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, TypeVar

from tui_bot.domain.numbers import ZERO
from tui_bot.domain.wire_decimal import WireNumberError, parse_wire_decimal, parse_wire_int
from tui_bot.exchange.bybit.frames import FrameError

Item = Mapping[str, Any]
Converter = Callable[[Any, str], Any]
E = TypeVar("E", bound=StrEnum)

REQUIRED: Final = object()
KEEP: Final = object()
_ABSENT: Final = object()


def shown(value: object) -> str:
    """A short repr of a bad value for error messages."""
    return repr(value)[:40]


def refused(err: WireNumberError, key: str, value: Any) -> FrameError:
    """The FrameError for a wire number refused by the grammar ("bad number in qty: '1e3'") or its sign rule."""
    what = "negative number" if err.reason == "sign" else "bad number"
    return FrameError(f"{what} in {key}: {shown(value)}", err.reason)


def wire_number(value: Any, key: str, *, signed: bool) -> Decimal:
    """A wire number string or JSON integer as Decimal, negative only when signed; FrameError otherwise."""
    kind = type(value)
    if kind is str:
        try:
            return parse_wire_decimal(value, signed=signed)
        except WireNumberError as err:
            raise refused(err, key, value) from None
    if kind is int:
        if value < 0 and not signed:
            raise refused(WireNumberError("sign", value), key, value)
        return Decimal(value)
    raise FrameError(f"{key}: expected a number string, got {kind.__name__}")


def dec(value: Any, key: str) -> Decimal:
    """A number Bybit never sends negative (prices, sizes, margins); "" is zero."""
    return ZERO if value == "" else wire_number(value, key, signed=False)


def signed(value: Any, key: str) -> Decimal:
    """A number that may be negative (PnL, fees, rates, balances); "" is zero."""
    return ZERO if value == "" else wire_number(value, key, signed=True)


def positive(value: Any, key: str) -> Decimal:
    """A number that must be above zero (instrument filters, candle prices, fills); "" is refused."""
    parsed = wire_number(value, key, signed=False)
    if not parsed:
        raise FrameError(f"bad number in {key}: {shown(value)} (must be positive)", "range")
    return parsed


def dec_or_none(value: Any, key: str) -> Decimal | None:
    """A non-negative number whose zero means unset (liqPrice "" / "0" / "0.00") as Decimal or None."""
    parsed = dec(value, key)
    return None if parsed == 0 else parsed


def integer(value: Any, key: str) -> int:
    """A JSON integer (any sign: seq is -1 before the first trade) or a string of ASCII digits; "" is 0."""
    kind = type(value)
    if kind is int:
        return int(value)
    if kind is str:
        if value == "":
            return 0
        try:
            return parse_wire_int(value)
        except WireNumberError as err:
            raise refused(err, key, value) from None
    raise FrameError(f"{key}: expected an integer, got {kind.__name__}")


def text(value: Any, key: str) -> str:
    """Accept a JSON string only."""
    if type(value) is not str:
        raise FrameError(f"{key}: expected a string, got {type(value).__name__}")
    return value


def flag(value: Any, key: str) -> bool:
    """Accept a JSON boolean only."""
    if type(value) is not bool:
        raise FrameError(f"{key}: expected a boolean, got {type(value).__name__}")
    return value


def obj(value: Any, key: str) -> dict[str, Any]:
    """Accept a JSON object only."""
    if type(value) is not dict:
        raise FrameError(f"{key}: expected an object, got {type(value).__name__}")
    return value


def objects(value: Any, key: str) -> list[dict[str, Any]]:
    """Accept a JSON array of objects only."""
    if type(value) is not list:
        raise FrameError(f"{key}: expected an array, got {type(value).__name__}")
    for entry in value:
        obj(entry, key)
    return value


def strict(enum: type[E], aliases: Mapping[str, E] | None = None) -> Converter:
    """A converter to enum that raises FrameError on an unknown string."""
    table: dict[str, E] = {member.value: member for member in enum} | dict(aliases or {})

    def convert(value: Any, key: str) -> E:
        member = table.get(text(value, key))
        if member is None:
            raise FrameError(f"unknown {key}: {shown(value)}")
        return member

    return convert


def lenient(enum: type[E], fallback: Any, aliases: Mapping[str, Any] | None = None) -> Converter:
    """A converter to enum that maps an unknown string to fallback."""
    table: dict[str, Any] = {member.value: member for member in enum} | dict(aliases or {})

    def convert(value: Any, key: str) -> Any:
        return table.get(text(value, key), fallback)

    return convert


Spec = tuple[tuple[str, str, Converter, object], ...]


def build(item: Item, spec: Spec) -> dict[str, Any]:
    """Model kwargs from item; REQUIRED keys must exist, unset others take the default (KEEP: the model's)."""
    kwargs: dict[str, Any] = {}
    for key, attr, convert, default in spec:
        value = item.get(key, _ABSENT)
        if default is REQUIRED:
            if value is _ABSENT:
                raise FrameError(f"missing {key}")
            kwargs[attr] = convert(value, key)
        elif value is _ABSENT or value == "":
            if default is not KEEP:
                kwargs[attr] = default
        else:
            kwargs[attr] = convert(value, key)
    return kwargs
