"""Typed reading of request parameters, rejecting wrong types with Bybit's 10001 errors."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tui_bot.domain.wire_decimal import WIRE_INTEGER, WireNumberError, parse_wire_decimal
from tui_bot.sim.errors import SimError, params_error

LINK_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")  # how Bybit writes symbols: BTCUSDT, 1000PEPEUSDT, BTC-26DEC25
CATEGORIES = ("spot", "linear", "inverse", "option")


class Params:
    """A request's parameters with typed accessors (query strings arrive as str)."""

    def __init__(self, raw: dict[str, Any], *, from_query: bool = False) -> None:
        self.raw = raw
        self._from_query = from_query

    def string(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                raise params_error(f"params error: {key} is required")
            return default
        if not isinstance(value, str):
            raise params_error(f"params error: {key} invalid type, expect string")
        return value

    def symbol(self, *, required: bool = False) -> str:
        """The symbol parameter, written as Bybit writes symbols (upper-case letters, digits, '-'); 10001 otherwise."""
        symbol = self.string("symbol", required=required)
        if symbol and not SYMBOL_RE.fullmatch(symbol):
            raise params_error("params error: symbol invalid")
        return symbol

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        """A non-negative number in the wire grammar ("0.001"; not "0.00_1", " 0.001 ", "1e-3"); None if unset."""
        text = self.string(key, required=required)
        if text == "":
            return None
        try:
            return parse_wire_decimal(text)
        except WireNumberError:
            raise params_error(f"params error: {key} invalid") from None

    def integer(
        self, key: str, *, default: int | None = None, low: int | None = None, high: int | None = None
    ) -> int | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        if self._from_query and isinstance(value, str) and WIRE_INTEGER.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise params_error(f"params error: {key} invalid type, expect int")
        if (low is not None and value < low) or (high is not None and value > high):
            raise params_error(f"params error: {key} out of range")
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise params_error(f"params error: {key} invalid type, expect bool")
        return value

    def choice(self, key: str, options: tuple[str, ...], *, required: bool = False, default: str = "") -> str:
        value = self.string(key, required=required, default=default)
        if value and value not in options:
            raise params_error(f"params error: {key} invalid")
        return value


def read_category(params: Params, allowed: tuple[str, ...] = CATEGORIES, *, required: bool = True) -> str:
    """The request's category (linear when optional and absent); anything not allowed is Bybit's 'Illegal category'."""
    category = params.string("category", required=required, default="linear")
    if category not in allowed:
        raise SimError(10001, "Illegal category")
    return category


def require_linear(params: Params, *, required: bool = True) -> None:
    """Reject any category other than linear: Bybit's own for none of the four, the sim's limit for the others."""
    category = read_category(params, required=required)
    if category != "linear":
        raise SimError(10001, f"params error: category {category} is not supported, only linear")


def check_link_id(link_id: str) -> None:
    """orderLinkId must be 1-36 chars of [A-Za-z0-9_-]."""
    if link_id and not LINK_ID_RE.fullmatch(link_id):
        raise params_error("params error: orderLinkId invalid, max 36 characters of [A-Za-z0-9_-]")
