"""Decode ticker objects: an exact check of the wire strings on the stream's hot path, converted only when read.

The stream hands each checked ticker object on as it arrived, wrapped in TickerFields with TICKER_CODEC
(domain/live_ticker.py), so a delta costs orjson plus a few C-level string operations; REST tickers
are converted at once (ticker_from_rest). Every value follows the wire grammar (domain/wire_decimal.py)
and its sign rule (only price24hPcnt and fundingRate may be negative); mark, last and index prices must
be positive and, when the symbol's instrument is known, inside its price filter. Anything else raises
FrameError naming the wire key, before the update reaches any state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import Any

from tui_bot.domain.events import Event, TickerUpdated
from tui_bot.domain.live_ticker import TickerCodec, TickerFields
from tui_bot.domain.models import Ticker
from tui_bot.domain.numbers import ZERO
from tui_bot.domain.wire_decimal import is_wire_decimal
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse_values import dec, integer, obj, shown, signed, text, wire_number

SHAPES_SIZE = 4096


def _text_number(value: Any, key: str) -> Decimal:
    """A non-negative number string only (running totals: openInterestValue, turnover24h, volume24h)."""
    if type(value) is not str:
        raise FrameError(f"{key}: expected a number string, got {type(value).__name__}")
    return wire_number(value, key, signed=False)


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
# singleOpenInterest, futures-only fields...) is ignored by readers. Only SIGNED_KEYS may be negative.
TICKER_KEYS: dict[str, tuple[str, Callable[[Any, str], Decimal | int | str], Callable[[Any], Any]]] = {
    "lastPrice": ("last_price", dec, _read_decimal),
    "markPrice": ("mark_price", dec, _read_decimal),
    "indexPrice": ("index_price", dec, _read_decimal),
    "bid1Price": ("bid1_price", dec, _read_decimal),
    "bid1Size": ("bid1_size", dec, _read_decimal),
    "ask1Price": ("ask1_price", dec, _read_decimal),
    "ask1Size": ("ask1_size", dec, _read_decimal),
    "prevPrice24h": ("prev_price_24h", dec, _read_decimal),
    "price24hPcnt": ("price_24h_pcnt", signed, _read_decimal),
    "highPrice24h": ("high_price_24h", dec, _read_decimal),
    "lowPrice24h": ("low_price_24h", dec, _read_decimal),
    "prevPrice1h": ("prev_price_1h", dec, _read_decimal),
    "openInterest": ("open_interest", dec, _read_decimal),
    "openInterestValue": ("open_interest_value", _text_number, Decimal),
    "turnover24h": ("turnover_24h", _text_number, Decimal),
    "volume24h": ("volume_24h", _text_number, Decimal),
    "fundingRate": ("funding_rate", signed, _read_decimal),
    "nextFundingTime": ("next_funding_time", integer, _read_int),
    "tickDirection": ("tick_direction", text, _read_text),
}
SIGNED_KEYS = ("price24hPcnt", "fundingRate")
RANGED_KEYS = ("markPrice", "lastPrice", "indexPrice")
"""Prices that must be positive and inside the instrument's price filter."""
TICKER_CODEC = TickerCodec({attr: (key, read) for key, (attr, _, read) in TICKER_KEYS.items()})
_TICKER_REQUIRED = ("last_price", "mark_price", "index_price", "bid1_price", "bid1_size", "ask1_price", "ask1_size")


def _checked(data: Mapping[str, Any]) -> dict[str, Any]:
    """The known, non-empty keys of a ticker object, each value checked exactly (FrameError otherwise)."""
    clean: dict[str, Any] = {}
    for key, value in data.items():
        entry = TICKER_KEYS.get(key)
        if entry is not None and not (type(value) is str and value == ""):
            entry[1](value, key)
            clean[key] = value
    return clean


class PriceBand:
    """A symbol's [minPrice, maxPrice] (its priceFilter, both ends included) for ticker mark, last and index prices.

    A price is placed by its float, which is exact strictly inside the ends' floats (conversion to float is
    monotonic), and by Decimals only at or beyond them. Nothing is remembered per price: a memo of the
    prices seen grew with every new price for as long as the market walked.
    """

    __slots__ = ("high", "high_float", "low", "low_float")

    def __init__(self, low: Decimal, high: Decimal) -> None:
        self.low, self.high = low, high
        self.low_float, self.high_float = float(low), float(high)

    def admit(self, key: str, value: Any) -> None:
        """Refuse value (FrameError "range") when it is zero or outside the band."""
        if self.low_float < float(value) < self.high_float:
            return
        price = Decimal(value)
        if not price or not self.low <= price <= self.high:
            where = (
                "must be positive" if self.high.is_infinite() else f"outside the price filter [{self.low}, {self.high}]"
            )
            raise FrameError(f"bad number in {key}: {shown(value)} ({where})", "range")


ANY_PRICE = PriceBand(ZERO, Decimal("Infinity"))
"""The band of a symbol whose instrument is not known: any positive price."""
NO_BANDS: Mapping[str, PriceBand] = {}


def _check_prices(data: Mapping[str, Any], band: PriceBand) -> None:
    """Refuse (FrameError "range") a mark, last or index price in data that is zero or outside band."""
    for key in RANGED_KEYS:
        value = data.get(key)
        if value is not None:
            band.admit(key, value)


def ticker_fields(data: Mapping[str, Any], band: PriceBand = ANY_PRICE) -> dict[str, Decimal | int | str]:
    """Ticker attribute -> parsed value for every known, non-empty key of a ticker object (eager: REST)."""
    clean = _checked(data)
    _check_prices(clean, band)
    return dict(TickerFields(clean, TICKER_CODEC))


def ticker_from_rest(item: Mapping[str, Any], *, ts: int = 0) -> Ticker:
    """A full ticker from a REST tickers item (unset required prices are zero; ts is the envelope time)."""
    if "symbol" not in obj(item, "ticker"):
        raise FrameError("missing symbol")
    symbol = text(item["symbol"], "symbol")
    fields: dict[str, Any] = dict.fromkeys(_TICKER_REQUIRED, ZERO) | ticker_fields(item)
    return Ticker(symbol=symbol, ts=ts, **fields)


# A frozen dataclass's __init__ costs ~0.9 us; setting TickerUpdated's slots directly ~0.35 us.
# That is only right while these are all of its fields: a new one must be set below too.
if tuple(f.name for f in dataclass_fields(TickerUpdated)) != (
    "exchange_ts",
    "received_ns",
    "symbol",
    "snapshot",
    "fields",
):
    raise RuntimeError("TickerUpdated's fields changed: update decode_tickers' constructor")
_new = object.__new__
_set_symbol = TickerUpdated.symbol.__set__  # type: ignore[attr-defined,misc]
_set_snapshot = TickerUpdated.snapshot.__set__  # type: ignore[attr-defined,misc]
_set_fields = TickerUpdated.fields.__set__  # type: ignore[attr-defined,misc]
_set_exchange_ts = TickerUpdated.exchange_ts.__set__  # type: ignore[attr-defined,misc]
_set_received = TickerUpdated.received_ns.__set__  # type: ignore[attr-defined,misc]

# Every ASCII digit to "0", every other byte as it is: the shape of joined wire numbers, which decides
# whether they follow the grammar (it treats all digits alike). Shapes recur, so their verdicts are kept.
_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SHAPES: dict[bytes, int] = {}


def _judge(shape: bytes) -> int:
    """How many comma-separated unsigned wire decimals shape is, or 0 when any part is not one."""
    parts = shape.decode("latin-1").split(",")
    return len(parts) if all(is_wire_decimal(part) for part in parts) else 0


def _magnitudes(data: dict[str, Any], joined: str) -> str | None:
    """joined without the minus signs of negative SIGNED_KEYS values; None when any other minus is in it."""
    negatives = 0
    for key in SIGNED_KEYS:
        value = data.get(key)
        if type(value) is str and value[:1] == "-":
            negatives += 1
    return joined.replace("-", "") if joined.count("-") == negatives else None


def _screen_slowly(data: dict[str, Any], joined: str) -> bool:
    """The screen after a miss: strip the minus signs SIGNED_KEYS may carry, judge the shape and keep the verdict."""
    if "-" in joined:
        unsigned = _magnitudes(data, joined)
        if unsigned is None:
            return False
        joined = unsigned
    shape = joined.encode().translate(_TO_ZERO)
    verdict = _SHAPES.get(shape)
    if verdict is None:
        verdict = _judge(shape)
        if len(_SHAPES) >= SHAPES_SIZE:
            _SHAPES.clear()
        _SHAPES[shape] = verdict
    return verdict == len(data)


def decode_tickers(
    frame: dict[str, Any], symbol: str, received_ns: int, price_bands: Mapping[str, PriceBand] = NO_BANDS
) -> list[Event]:
    """One TickerUpdated carrying only the fields present in the snapshot or delta, as wire strings.

    A delta whose values are all wire decimal strings (symbol and tickDirection aside) is handed on
    after one exact screen by C-level operations on all values at once: joined with commas, encoded
    and every digit turned to "0", the shape is looked up among those already judged by the grammar
    (_judge: as many valid parts as the object has values, so no value hides a comma). A minus is
    allowed only on SIGNED_KEYS (_screen_slowly). Anything else (snapshots with unset fields,
    integers, nextFundingTime, anything malformed) is checked value by value. Mark, last and index
    prices must then lie in price_bands[symbol] (any positive price when the symbol has none). A
    body naming another symbol than the topic, and any bad value, raise FrameError: nothing of the
    frame is applied.
    """
    data = frame.get("data")
    if type(data) is not dict:
        raise FrameError("tickers data is not an object")
    kind = frame.get("type")
    if kind != "delta" and kind != "snapshot":
        raise FrameError(f"bad ticker type: {str(kind)[:20]}")
    named = data.pop("symbol", symbol)
    if named != symbol:
        raise FrameError(f"ticker for {shown(named)} on topic tickers.{symbol}", "topic")
    ts = frame.get("ts", 0)
    if type(ts) is not int:
        raise FrameError(f"ts: expected an integer, got {type(ts).__name__}")
    tick = data.pop("tickDirection", None)
    try:
        joined = ",".join(data.values())
        exact = "nextFundingTime" not in data and (
            _SHAPES.get(joined.encode().translate(_TO_ZERO)) == len(data) or _screen_slowly(data, joined)
        )
    except (TypeError, UnicodeEncodeError):  # a value that is no string, text that is no UTF-8
        exact = False
    if tick is not None:
        exact = exact and type(tick) is str and tick != ""
        data["tickDirection"] = tick
    clean = data if exact else _checked(data)
    band = price_bands.get(symbol, ANY_PRICE)
    low, high = band.low_float, band.high_float  # RANGED_KEYS inlined (this runs per ticker); admit decides the ends
    mark, last, index = clean.get("markPrice"), clean.get("lastPrice"), clean.get("indexPrice")
    if (
        mark is not None
        and not low < float(mark) < high
        or last is not None
        and not low < float(last) < high
        or index is not None
        and not low < float(index) < high
    ):
        _check_prices(clean, band)
    fields = _new(TickerFields)  # TickerFields(clean, TICKER_CODEC) without the call to __init__
    fields.raw, fields.codec = clean, TICKER_CODEC
    event = _new(TickerUpdated)
    _set_symbol(event, symbol)
    _set_snapshot(event, kind == "snapshot")
    _set_fields(event, fields)
    _set_exchange_ts(event, ts)
    _set_received(event, received_ns)
    return [event]
