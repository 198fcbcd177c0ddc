"""The one grammar for numbers on the wire: ASCII digits, at most one dot between digits, a leading minus where allowed.

Bybit sends numbers as plain strings ("104250.40", "0.010", "-0.5733772"). Python's Decimal() takes much
more ("1_000", " 7 ", "1e3", "NaN", "Infinity", "+1", ".5", "1.", non-ASCII digits), so every wire
number is read through this module first: the client's decoder (exchange/bybit/parse*.py) and the
embedded exchange's request parameters (sim/params.py). The client's ticker hot path screens many values
at once with C-level string operations that implement the same grammar (parse_ticker.py); a property
test holds it to WIRE_DECIMAL.

The decimal grammar is syntax and sign only: how large a value may be is the caller's range check (a
price against its instrument's price filter, for instance). Integers stop at 19 digits.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TypeGuard

WIRE_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
"""A wire decimal (fullmatch): optional minus, ASCII digits, optionally a dot and more digits."""
WIRE_INTEGER = re.compile(r"-?[0-9]{1,19}")
"""A wire integer in a string (fullmatch): optional minus, 1 to 19 ASCII digits (ns timestamps have 19)."""
_SHOWN_CHARS = 40


class WireNumberError(ValueError):
    """A wire number refused: `reason` is "number" (breaks the grammar) or "sign" (negative where none may be)."""

    def __init__(self, reason: str, text: object) -> None:
        super().__init__(f"{'negative' if reason == 'sign' else 'not a plain number'}: {repr(text)[:_SHOWN_CHARS]}")
        self.reason = reason


def _checked(pattern: re.Pattern[str], text: object, signed: bool) -> str:
    """text when it fullmatches pattern and carries a minus only when signed; WireNumberError otherwise."""
    if type(text) is not str or pattern.fullmatch(text) is None:
        raise WireNumberError("number", text)
    if not signed and text[0] == "-":
        raise WireNumberError("sign", text)
    return text


def is_wire_decimal(text: object, *, signed: bool = False) -> TypeGuard[str]:
    """True when text is a wire number string (WIRE_DECIMAL), carrying a minus only when signed."""
    return type(text) is str and WIRE_DECIMAL.fullmatch(text) is not None and (signed or text[0] != "-")


def is_wire_int(text: object, *, signed: bool = False) -> TypeGuard[str]:
    """True when text is a wire integer string (WIRE_INTEGER), carrying a minus only when signed."""
    return type(text) is str and WIRE_INTEGER.fullmatch(text) is not None and (signed or text[0] != "-")


def parse_wire_decimal(text: str, *, signed: bool = False) -> Decimal:
    """The exact Decimal of a wire number string; WireNumberError unless it matches WIRE_DECIMAL (minus only if signed).

    "" is not a number here: callers that read "" as unset check for it first. "-0" is accepted when signed.
    """
    return Decimal(_checked(WIRE_DECIMAL, text, signed))


def parse_wire_int(text: str, *, signed: bool = False) -> int:
    """The int of a wire integer string (ms timestamps, counts); WireNumberError unless it matches WIRE_INTEGER."""
    return int(_checked(WIRE_INTEGER, text, signed))
