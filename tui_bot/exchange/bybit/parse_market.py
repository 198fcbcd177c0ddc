"""Decode the order book and public trade topics (orderbook.{depth}.{symbol}, publicTrade.{symbol}) into events.

Every price and size follows the wire grammar (domain/wire_decimal.py) as a JSON string: prices must be positive
and inside the symbol's price filter, sizes non-negative (a delta's "0" deletes its level; a snapshot has none).
A level is exactly [price, size]. The body must name the topic's symbol, `u` and `seq` are JSON integers. Any
bad value refuses the whole frame with a FrameError (counted per reason by the connection): nothing of it is applied,
so the book's next update id shows the gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import Side
from tui_bot.domain.events import Event
from tui_bot.domain.market import BookLevel, OrderBookReceived, PublicTradesReceived
from tui_bot.domain.models import PublicTrade
from tui_bot.domain.wire_decimal import (
    WIRE_DECIMAL,
    WireNumberError,
    is_wire_int,
    parse_wire_decimal,
)
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse_ticker import ANY_PRICE, PriceBand
from tui_bot.exchange.bybit.parse_values import (
    REQUIRED,
    Spec,
    build,
    flag,
    integer,
    obj,
    objects,
    positive,
    refused,
    shown,
    strict,
    text,
)

Frame = dict[str, Any]
Bands = Mapping[str, PriceBand]


def _json_int(frame: Frame, key: str, *, required: bool) -> int:
    """A JSON integer field (0 when absent and not required)."""
    value = frame.get(key)
    if value is None and not required:
        return 0
    if type(value) is not int:
        raise FrameError(f"{key}: expected an integer, got {type(value).__name__}")
    return value


def _same_symbol(named: Any, symbol: str, topic: str) -> None:
    """Refuse (FrameError "topic") a body that names another symbol than its topic."""
    if named != symbol:
        raise FrameError(f"s {shown(named)} on topic {topic[:60]}", "topic")


def _number(value: Any, key: str) -> Decimal:
    """value as an exact Decimal when it is a non-negative wire number string; FrameError otherwise."""
    if type(value) is not str:
        raise FrameError(f"{key}: expected a number string, got {type(value).__name__}")
    try:
        return parse_wire_decimal(value)
    except WireNumberError as err:
        raise refused(err, key, value) from None


def _level(entry: Any, key: str, band: PriceBand, snapshot: bool) -> BookLevel:
    """One [price, size] pair checked value by value (the slow path, whose errors say what is wrong)."""
    if type(entry) is not list or len(entry) != 2:
        raise FrameError(f"{key}: expected [price, size], got {shown(entry)}")
    price = _number(entry[0], f"{key} price")
    band.admit(f"{key} price", entry[0])
    size = _number(entry[1], f"{key} size")
    if snapshot and not size:
        raise FrameError(f"bad number in {key} size: {shown(entry[1])} (zero in a snapshot)", "range")
    return BookLevel(price, size)


# A frozen dataclass's __init__ costs ~1.3 us; setting BookLevel's two slots directly ~0.3 us (a delta carries
# up to a few dozen levels). Only right while these are all of its fields.
if tuple(f.name for f in dataclass_fields(BookLevel)) != ("price", "size"):
    raise RuntimeError("BookLevel's fields changed: update _levels' constructor")
_new = object.__new__
_set_price, _set_size = BookLevel.price.__set__, BookLevel.size.__set__  # type: ignore[attr-defined,misc]
_plain = WIRE_DECIMAL.fullmatch


def _levels(value: Any, key: str, band: PriceBand, snapshot: bool) -> tuple[BookLevel, ...]:
    """The [price, size] pairs of one side (key is "b" or "a") as BookLevels.

    The common case is checked inline (two strings in the wire grammar, no minus, a positive size in a
    snapshot, the price strictly inside the band's floats); anything else takes _level, which refuses it.
    """
    if type(value) is not list:
        raise FrameError(f"{key}: expected an array, got {type(value).__name__}")
    low, high = band.low_float, band.high_float
    levels = []
    for entry in value:
        if (
            type(entry) is list
            and len(entry) == 2
            and type(price := entry[0]) is str
            and type(size := entry[1]) is str
            and _plain(price) is not None
            and _plain(size) is not None
            and price[0] != "-"
            and size[0] != "-"
            and low < float(price) < high
        ):
            level = _new(BookLevel)
            _set_price(level, Decimal(price))
            _set_size(level, Decimal(size))
            if snapshot and not level.size:
                level = _level(entry, key, band, snapshot)
        else:
            level = _level(entry, key, band, snapshot)
        levels.append(level)
    return tuple(levels)


def _book_topic(rest: str) -> tuple[int, str]:
    """(depth, symbol) of an orderbook.{depth}.{symbol} topic; FrameError "unknown topic" for any other shape."""
    depth, _, symbol = rest.partition(".")
    if not symbol or not is_wire_int(depth):
        raise FrameError(f"unknown topic: orderbook.{rest[:60]}", "unknown topic")
    return int(depth), symbol


def decode_orderbook(frame: Frame, rest: str, received_ns: int, bands: Bands) -> list[Event]:
    """One OrderBookReceived from an orderbook.{depth}.{symbol} snapshot or delta."""
    depth, symbol = _book_topic(rest)
    kind = frame.get("type")
    if kind != "snapshot" and kind != "delta":
        raise FrameError(f"bad orderbook type: {shown(kind)}")
    snapshot = kind == "snapshot"
    data = obj(frame.get("data"), "data")
    _same_symbol(data.get("s"), symbol, f"orderbook.{rest}")
    band = bands.get(symbol, ANY_PRICE)
    return [
        OrderBookReceived(
            symbol=symbol,
            depth=depth,
            snapshot=snapshot,
            bids=_levels(data.get("b"), "b", band, snapshot),
            asks=_levels(data.get("a"), "a", band, snapshot),
            update_id=_json_int(data, "u", required=True),
            seq=_json_int(data, "seq", required=False),
            exchange_ts=_json_int(frame, "ts", required=False),
            received_ns=received_ns,
        )
    ]


_TRADE: Spec = (
    ("i", "trade_id", text, REQUIRED),
    ("T", "time", integer, REQUIRED),
    ("S", "taker_side", strict(Side), REQUIRED),
    ("p", "price", positive, REQUIRED),
    ("v", "size", positive, REQUIRED),
    ("L", "tick_direction", text, ""),
    ("seq", "seq", integer, 0),
)


def _trade(item: Frame, symbol: str, band: PriceBand) -> PublicTrade:
    """One publicTrade item; its price must lie in the symbol's price filter."""
    for key in ("BT", "RPI"):
        if key in item:
            flag(item[key], key)
    trade = PublicTrade(symbol=symbol, **build(item, _TRADE))
    band.admit("p", item["p"])
    return trade


_RECENT_TRADE: Spec = (
    ("execId", "trade_id", text, REQUIRED),
    ("time", "time", integer, REQUIRED),
    ("side", "taker_side", strict(Side), REQUIRED),
    ("price", "price", positive, REQUIRED),
    ("size", "size", positive, REQUIRED),
)


def recent_trade_from_rest(symbol: str, row: Frame) -> PublicTrade:
    """One row of GET /v5/market/recent-trade (no tick direction or sequence there: "" and 0)."""
    _same_symbol(row.get("symbol"), symbol, "recent-trade")
    return PublicTrade(symbol=symbol, tick_direction="", seq=0, **build(row, _RECENT_TRADE))


def decode_public_trades(frame: Frame, rest: str, received_ns: int, bands: Bands) -> list[Event]:
    """One PublicTradesReceived from a publicTrade.{symbol} frame (every trade's s must be the topic's symbol)."""
    if frame.get("type") != "snapshot":
        raise FrameError(f"bad publicTrade type: {shown(frame.get('type'))}")
    band = bands.get(rest, ANY_PRICE)
    items = objects(frame.get("data"), "data")
    for item in items:
        _same_symbol(item.get("s"), rest, f"publicTrade.{rest}")
    trades = tuple(_trade(item, rest, band) for item in items)
    return [
        PublicTradesReceived(
            symbol=rest, trades=trades, exchange_ts=_json_int(frame, "ts", required=False), received_ns=received_ns
        )
    ]
