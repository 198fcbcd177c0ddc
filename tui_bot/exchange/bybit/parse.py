"""Decode stream frames (public linear, private, trade) into control replies or domain events.

Pure functions: no I/O, no clock (the caller passes received_ns). Every malformed frame raises
FrameError with a short reason, never another exception type; the value policy (unset values,
unknown enum strings) is described in parse_rest.py, whose REST converters are re-exported
here. Private items of a category other than "linear" (the all-in-one topics also carry
spot/option) are skipped without an event. Ticker deltas are the hot path: orjson, one table
lookup per wire key, and a bounded text->Decimal memo (bench/decode_tickers.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from tui_bot.domain.events import (
    Event,
    ExecutionReceived,
    KlineUpdated,
    OrderUpdated,
    PositionUpdated,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.models import Kline, Ticker
from tui_bot.domain.numbers import ZERO
from tui_bot.exchange.bybit.frames import Control, FrameError
from tui_bot.exchange.bybit.parse_rest import (
    KEEP,
    REQUIRED,
    Spec,
    build,
    closed_pnl_from_rest,
    dec,
    execution_from_rest,
    flag,
    instrument_from_rest,
    integer,
    kline_from_rest,
    obj,
    objects,
    order_from_rest,
    position_from_item,
    position_from_rest,
    shown,
    wallet_from_rest,
)
from tui_bot.exchange.bybit.parse_rest import text as as_str

Frame = dict[str, Any]
Decoded = Control | list[Event]

__all__ = [
    "closed_pnl_from_rest", "decode_private", "decode_public", "decode_trade",
    "execution_from_rest", "instrument_from_rest", "kline_from_rest", "order_from_rest",
    "position_from_rest", "ticker_fields", "ticker_from_rest", "wallet_from_rest",
]


def load(raw: str | bytes) -> Frame:
    """Parse raw text to a JSON object, raising FrameError for anything else."""
    try:
        frame = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise FrameError(f"not JSON: {str(exc)[:80]}") from None
    if type(frame) is not dict:
        raise FrameError(f"not an object: {type(frame).__name__}")
    return frame


def _optional_text(frame: Frame, key: str) -> str:
    """A string field that may be absent ("" then)."""
    value = frame.get(key, "")
    return "" if value is None else as_str(value, key)


def _stamp(frame: Frame, key: str) -> int:
    """An envelope timestamp in ms: a JSON integer, 0 when absent."""
    value = frame.get(key, 0)
    if type(value) is not int:
        raise FrameError(f"{key}: expected an integer, got {type(value).__name__}")
    return value


def _server_ms(args: Any, key: str) -> dict[str, Any]:
    """The server time carried by a pong as {"server_ms": int}."""
    if type(args) is not list or not args:
        raise FrameError(f"pong without {key}")
    return {"server_ms": integer(args[0], key)}


def _control(frame: Frame) -> Control:
    """A public or private reply (auth, subscribe, unsubscribe, ping/pong)."""
    if "op" not in frame:
        raise FrameError("missing topic")
    op = as_str(frame["op"], "op")
    req_id, conn_id = _optional_text(frame, "req_id"), _optional_text(frame, "conn_id")
    if op == "pong" and "success" not in frame:
        data = _server_ms(frame.get("args"), "args")
        return Control(op=op, success=True, req_id=req_id, conn_id=conn_id, data=data)
    if "success" not in frame:
        raise FrameError("missing success")
    return Control(op=op, success=flag(frame["success"], "success"),
                   message=_optional_text(frame, "ret_msg"), req_id=req_id, conn_id=conn_id)


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


def _fresh_decimal(key: str, value: Any) -> Decimal:
    """A Decimal for a running total that almost never repeats (kept out of the memo so it cannot flush it)."""
    if type(value) is not str:
        raise TypeError(type(value).__name__)
    parsed = Decimal(value)
    if not parsed.is_finite():
        raise ValueError(value)
    return parsed


# Wire ticker key -> (Ticker attribute, converter); None means a Decimal (the cached fast path).
# Every other key (symbol, singleOpenInterest, futures-only fields...) is ignored.
TICKER_KEYS: dict[str, tuple[str, Callable[[str, Any], Decimal | int | str] | None]] = {
    "lastPrice": ("last_price", None), "markPrice": ("mark_price", None),
    "indexPrice": ("index_price", None), "bid1Price": ("bid1_price", None),
    "bid1Size": ("bid1_size", None), "ask1Price": ("ask1_price", None),
    "ask1Size": ("ask1_size", None), "prevPrice24h": ("prev_price_24h", None),
    "price24hPcnt": ("price_24h_pcnt", None), "highPrice24h": ("high_price_24h", None),
    "lowPrice24h": ("low_price_24h", None), "prevPrice1h": ("prev_price_1h", None),
    "openInterest": ("open_interest", None), "openInterestValue": ("open_interest_value", _fresh_decimal),
    "turnover24h": ("turnover_24h", _fresh_decimal), "volume24h": ("volume_24h", _fresh_decimal),
    "fundingRate": ("funding_rate", None), "nextFundingTime": ("next_funding_time", _ms),
    "tickDirection": ("tick_direction", _label),
}
_TICKER_REQUIRED = ("last_price", "mark_price", "index_price", "bid1_price", "bid1_size",
                    "ask1_price", "ask1_size")

# Ticker number text -> Decimal: quotes repeat (prices sit on a tick grid, sizes recur), and a
# dict hit is several times cheaper than Decimal(str). Decimals are immutable, so sharing is safe.
_DECIMALS: dict[str, Decimal] = {}
DECIMAL_CACHE_SIZE = 16_384


def _new_decimal(key: str, value: Any) -> Decimal:
    """Parse a ticker number not seen recently, validate it and remember it (integers are not cached)."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is not str:
        raise TypeError(type(value).__name__)
    parsed = Decimal(value)
    if not parsed.is_finite():
        raise ValueError(value)
    if len(_DECIMALS) >= DECIMAL_CACHE_SIZE:
        _DECIMALS.clear()
    _DECIMALS[value] = parsed
    return parsed


def ticker_fields(data: Mapping[str, Any]) -> dict[str, Decimal | int | str]:
    """Ticker attribute -> parsed value for every known, non-empty key of a ticker object."""
    fields: dict[str, Decimal | int | str] = {}
    table, cache = TICKER_KEYS, _DECIMALS
    key: str = ""
    value: Any = None
    try:
        for key, value in data.items():
            entry = table.get(key)
            if entry is None:
                continue
            attr, convert = entry
            if convert is None:
                parsed = cache.get(value)
                if parsed is None:
                    if value == "":
                        continue
                    parsed = _new_decimal(key, value)
                fields[attr] = parsed
            elif value != "":
                fields[attr] = convert(key, value)
    except (InvalidOperation, ValueError, TypeError):
        raise FrameError(f"bad {key}: {shown(value)}") from None
    return fields


def ticker_from_rest(item: Mapping[str, Any], *, ts: int = 0) -> Ticker:
    """A full ticker from a REST tickers item (unset required prices are zero; ts is the envelope time)."""
    if "symbol" not in obj(item, "ticker"):
        raise FrameError("missing symbol")
    symbol = as_str(item["symbol"], "symbol")
    fields: dict[str, Any] = dict.fromkeys(_TICKER_REQUIRED, ZERO) | ticker_fields(item)
    return Ticker(symbol=symbol, ts=ts, **fields)


def _tickers(frame: Frame, symbol: str, received_ns: int) -> list[Event]:
    """One TickerUpdated carrying only the fields present in the snapshot or delta."""
    data = frame.get("data")
    if type(data) is not dict:
        raise FrameError("tickers data is not an object")
    kind = frame.get("type")
    if kind != "snapshot" and kind != "delta":
        raise FrameError(f"bad ticker type: {str(kind)[:20]}")
    symbol = data.get("symbol", symbol)
    if type(symbol) is not str:
        raise FrameError("symbol: expected a string")
    return [TickerUpdated(symbol=symbol, snapshot=kind == "snapshot", fields=ticker_fields(data),
                          exchange_ts=_stamp(frame, "ts"), received_ns=received_ns)]


_KLINE: Spec = (
    ("start", "start", integer, REQUIRED), ("open", "open", dec, REQUIRED),
    ("high", "high", dec, REQUIRED), ("low", "low", dec, REQUIRED),
    ("close", "close", dec, REQUIRED), ("volume", "volume", dec, KEEP),
    ("turnover", "turnover", dec, KEEP), ("confirm", "confirm", flag, KEEP),
)


def _klines(frame: Frame, rest: str, received_ns: int) -> list[Event]:
    """One KlineUpdated per candle of a kline.{interval}.{symbol} frame."""
    interval, _, symbol = rest.partition(".")
    if not interval or not symbol:
        raise FrameError(f"unknown topic: kline.{rest}")
    ts = _stamp(frame, "ts")
    events: list[Event] = []
    for item in objects(frame.get("data"), "data"):
        kline = Kline(symbol=symbol, interval=interval, **build(item, _KLINE))
        stamp = item.get("timestamp", "")
        exchange_ts = ts if stamp == "" else integer(stamp, "timestamp")
        events.append(KlineUpdated(kline=kline, exchange_ts=exchange_ts, received_ns=received_ns))
    return events


def _public_trades(frame: Frame, rest: str, received_ns: int) -> list[Event]:
    """Accepted with no events yet (the tape is not part of the domain stream)."""
    objects(frame.get("data"), "data")
    return []


def _orderbook(frame: Frame, rest: str, received_ns: int) -> list[Event]:
    """Accepted with no events yet (no book is kept)."""
    obj(frame.get("data"), "data")
    return []


_PUBLIC: dict[str, Callable[[Frame, str, int], list[Event]]] = {
    "tickers": _tickers, "kline": _klines, "publicTrade": _public_trades,
    "orderbook": _orderbook,
}


def decode_public(text: str | bytes, received_ns: int) -> Decoded:
    """Decode one /v5/public/linear frame into a Control or a list of market events."""
    frame = load(text)
    topic = frame.get("topic")
    if topic is None:
        return _control(frame)
    if type(topic) is not str:
        raise FrameError("topic: expected a string")
    kind, _, rest = topic.partition(".")
    handler = _PUBLIC.get(kind)
    if handler is None or not rest:
        raise FrameError(f"unknown topic: {topic[:60]}")
    return handler(frame, rest, received_ns)


def _order(item: Frame, ts: int, received_ns: int) -> Event:
    """One order item as OrderUpdated."""
    return OrderUpdated(order=order_from_rest(item), exchange_ts=ts, received_ns=received_ns)


def _execution(item: Frame, ts: int, received_ns: int) -> Event:
    """One execution item as ExecutionReceived."""
    return ExecutionReceived(execution=execution_from_rest(item), exchange_ts=ts,
                             received_ns=received_ns)


def _position(item: Frame, ts: int, received_ns: int) -> Event:
    """One position item (entry price under entryPrice) as PositionUpdated."""
    position = position_from_item(item, "entryPrice", "avgPrice")
    return PositionUpdated(position=position, exchange_ts=ts, received_ns=received_ns)


def _wallet(item: Frame, ts: int, received_ns: int) -> Event:
    """One account item as WalletUpdated."""
    return WalletUpdated(wallet=wallet_from_rest(item), exchange_ts=ts, received_ns=received_ns)


_PRIVATE: dict[str, Callable[[Frame, int, int], Event]] = {
    "order": _order, "order.linear": _order, "execution": _execution,
    "execution.linear": _execution, "position": _position, "position.linear": _position,
    "wallet": _wallet,
}


def _is_linear(item: Frame) -> bool:
    """True unless the item names a category other than linear."""
    return as_str(item.get("category", "linear"), "category") == "linear"


def decode_private(text: str | bytes, received_ns: int) -> Decoded:
    """Decode one /v5/private frame into a Control or one event per (linear) data item."""
    frame = load(text)
    topic = frame.get("topic")
    if topic is None:
        return _control(frame)
    if type(topic) is not str:
        raise FrameError("topic: expected a string")
    handler = _PRIVATE.get(topic)
    if handler is None:
        raise FrameError(f"unknown topic: {topic[:60]}")
    ts = _stamp(frame, "creationTime")
    items = objects(frame.get("data"), "data")
    return [handler(item, ts, received_ns) for item in items if _is_linear(item)]


def _trade_data(frame: Frame, op: str) -> dict[str, Any]:
    """The reply's data object ({} when absent or a list; a pong's [ms] becomes server_ms)."""
    data = frame.get("data")
    if type(data) is dict:
        return data
    if op == "pong" and type(data) is list:
        return _server_ms(data, "data")
    return {}


def _header(frame: Frame) -> dict[str, str]:
    """The reply's rate-limit header map ({} when absent)."""
    header = obj(frame.get("header") or {}, "header")
    for key, value in header.items():
        as_str(value, key)
    return header


def decode_trade(text: str | bytes) -> Control:
    """Decode one /v5/trade reply (auth, order.create/amend/cancel, pong) into a Control."""
    frame = load(text)
    if "op" not in frame:
        raise FrameError("missing op")
    op = as_str(frame["op"], "op")
    ret_code = frame.get("retCode")
    if type(ret_code) is not int:
        raise FrameError("retCode: expected an integer")
    return Control(op=op, success=ret_code == 0, message=_optional_text(frame, "retMsg"),
                   req_id=_optional_text(frame, "reqId"), conn_id=_optional_text(frame, "connId"),
                   ret_code=ret_code, data=_trade_data(frame, op), header=_header(frame))
