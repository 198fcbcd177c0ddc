"""Decode ticker objects: a cheap check of the wire strings on the stream's hot path, converted only when read.

The stream hands each checked ticker object on as it arrived, wrapped in TickerFields with TICKER_CODEC
(domain/live_ticker.py), so a delta costs orjson plus a few C-level string operations; REST tickers
are converted at once (ticker_from_rest). Malformed values raise FrameError naming the wire key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from decimal import Decimal, InvalidOperation
from typing import Any

from tui_bot.domain.events import Event, TickerUpdated
from tui_bot.domain.live_ticker import TickerCodec, TickerFields
from tui_bot.domain.models import Ticker
from tui_bot.domain.numbers import ZERO
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse_rest import obj, shown
from tui_bot.exchange.bybit.parse_rest import text as as_str


def _ms(key: str, value: Any) -> int:
    """An int from a digit string or an integer (nextFundingTime)."""
    if type(value) is int:
        return value
    if type(value) is not str:
        raise TypeError(type(value).__name__)
    return int(value)


def _label(key: str, value: Any) -> str:
    """A string field kept as is (tickDirection)."""
    if type(value) is not str:
        raise TypeError(type(value).__name__)
    return value


def _number(key: str, value: Any) -> Decimal:
    """A finite Decimal from a number string or a JSON integer."""
    if type(value) is not str and type(value) is not int:
        raise TypeError(type(value).__name__)
    parsed = Decimal(value)
    if not parsed.is_finite():
        raise ValueError(value)
    return parsed


def _text_number(key: str, value: Any) -> Decimal:
    """A finite Decimal from a number string only (running totals: openInterestValue, turnover24h, volume24h)."""
    if type(value) is not str:
        raise TypeError(type(value).__name__)
    return _number(key, value)


DECIMAL_CACHE_SIZE = 4_096
"""Ticker numbers kept converted for reads, the least recently read dropped first: about 270 bytes each, so
at most about 1.1 MB. Quotes repeat (prices sit on a tick grid, sizes recur), and a hit is several times
cheaper than Decimal(str); Decimals are immutable, so sharing them is safe."""


@functools.lru_cache(maxsize=DECIMAL_CACHE_SIZE)
def _read_decimal(value: Any) -> Decimal:
    """A checked ticker number as a Decimal (one of the last DECIMAL_CACHE_SIZE read comes from the memo)."""
    return Decimal(value)


def _read_int(value: Any) -> int:
    """A checked nextFundingTime as an int."""
    return value if type(value) is int else int(value)


def _read_text(value: Any) -> Any:
    """A checked label as it is."""
    return value


# Wire ticker key -> (Ticker attribute, exact check, converter on read). Every other key (symbol,
# singleOpenInterest, futures-only fields...) is ignored by readers.
TICKER_KEYS: dict[str, tuple[str, Callable[[str, Any], Decimal | int | str], Callable[[Any], Any]]] = {
    "lastPrice": ("last_price", _number, _read_decimal), "markPrice": ("mark_price", _number, _read_decimal),
    "indexPrice": ("index_price", _number, _read_decimal), "bid1Price": ("bid1_price", _number, _read_decimal),
    "bid1Size": ("bid1_size", _number, _read_decimal), "ask1Price": ("ask1_price", _number, _read_decimal),
    "ask1Size": ("ask1_size", _number, _read_decimal), "prevPrice24h": ("prev_price_24h", _number, _read_decimal),
    "price24hPcnt": ("price_24h_pcnt", _number, _read_decimal),
    "highPrice24h": ("high_price_24h", _number, _read_decimal),
    "lowPrice24h": ("low_price_24h", _number, _read_decimal),
    "prevPrice1h": ("prev_price_1h", _number, _read_decimal),
    "openInterest": ("open_interest", _number, _read_decimal),
    "openInterestValue": ("open_interest_value", _text_number, Decimal),
    "turnover24h": ("turnover_24h", _text_number, Decimal), "volume24h": ("volume_24h", _text_number, Decimal),
    "fundingRate": ("funding_rate", _number, _read_decimal),
    "nextFundingTime": ("next_funding_time", _ms, _read_int),
    "tickDirection": ("tick_direction", _label, _read_text),
}
TICKER_CODEC = TickerCodec({attr: (key, read) for key, (attr, _, read) in TICKER_KEYS.items()})
_TICKER_REQUIRED = ("last_price", "mark_price", "index_price", "bid1_price", "bid1_size",
                    "ask1_price", "ask1_size")


def _checked(data: Mapping[str, Any]) -> dict[str, Any]:
    """The known, non-empty keys of a ticker object, each value checked exactly (FrameError otherwise)."""
    clean: dict[str, Any] = {}
    key: str = ""
    value: Any = None
    try:
        for key, value in data.items():
            entry = TICKER_KEYS.get(key)
            if entry is not None and not (type(value) is str and value == ""):
                entry[1](key, value)
                clean[key] = value
    except (InvalidOperation, ValueError, TypeError):
        raise FrameError(f"bad {key}: {shown(value)}") from None
    return clean


def ticker_fields(data: Mapping[str, Any]) -> dict[str, Decimal | int | str]:
    """Ticker attribute -> parsed value for every known, non-empty key of a ticker object (eager: REST)."""
    return dict(TickerFields(_checked(data), TICKER_CODEC))


def ticker_from_rest(item: Mapping[str, Any], *, ts: int = 0) -> Ticker:
    """A full ticker from a REST tickers item (unset required prices are zero; ts is the envelope time)."""
    if "symbol" not in obj(item, "ticker"):
        raise FrameError("missing symbol")
    symbol = as_str(item["symbol"], "symbol")
    fields: dict[str, Any] = dict.fromkeys(_TICKER_REQUIRED, ZERO) | ticker_fields(item)
    return Ticker(symbol=symbol, ts=ts, **fields)


# A frozen dataclass's __init__ costs ~0.9 us; setting TickerUpdated's slots directly ~0.35 us.
# That is only right while these are all of its fields: a new one must be set below too.
if tuple(f.name for f in dataclass_fields(TickerUpdated)) != ("exchange_ts", "received_ns", "symbol", "snapshot", "fields"):
    raise RuntimeError("TickerUpdated's fields changed: update decode_tickers' constructor")
_new = object.__new__
_set_symbol, _set_snapshot, _set_fields = (TickerUpdated.symbol.__set__, TickerUpdated.snapshot.__set__,  # type: ignore[attr-defined]
                                           TickerUpdated.fields.__set__)  # type: ignore[attr-defined]
_set_exchange_ts, _set_received = TickerUpdated.exchange_ts.__set__, TickerUpdated.received_ns.__set__  # type: ignore[attr-defined]
_NUMBER_MARKS = b".-"


def decode_tickers(frame: dict[str, Any], symbol: str, received_ns: int) -> list[Event]:
    """One TickerUpdated carrying only the fields present in the snapshot or delta, as wire strings.

    A delta whose values are all plain number strings (symbol and tickDirection aside) is handed on
    after one screen; anything else (snapshots with unset fields, integers, exponents,
    nextFundingTime, anything malformed) is checked value by value and rejected with FrameError.
    Strings of only digits, dots and dashes that are still not numbers ("1.2.3") pass the screen:
    LiveTicker reads them as unset.
    """
    data = frame.get("data")
    if type(data) is not dict:
        raise FrameError("tickers data is not an object")
    kind = frame.get("type")
    if kind != "delta" and kind != "snapshot":
        raise FrameError(f"bad ticker type: {str(kind)[:20]}")
    symbol = data.pop("symbol", symbol)
    if type(symbol) is not str:
        raise FrameError("symbol: expected a string")
    ts = frame.get("ts", 0)
    if type(ts) is not int:
        raise FrameError(f"ts: expected an integer, got {type(ts).__name__}")
    tick = data.pop("tickDirection", None)
    values = data.values()
    try:  # every value a non-empty string of ASCII digits, dots and dashes: a few C-level string operations
        screened = "".join(values).encode().translate(None, _NUMBER_MARKS).isdigit() and all(values)
    except TypeError:
        screened = False
    if tick is not None:
        screened = screened and type(tick) is str and tick != ""
        data["tickDirection"] = tick
    if "nextFundingTime" in data:
        screened = False
    event = _new(TickerUpdated)
    _set_symbol(event, symbol)
    _set_snapshot(event, kind == "snapshot")
    _set_fields(event, TickerFields(data if screened else _checked(data), TICKER_CODEC))
    _set_exchange_ts(event, ts)
    _set_received(event, received_ns)
    return [event]
