"""Decode stream frames (public linear, private, trade) into control replies or domain events.

Pure functions: no I/O, no clock (the caller passes received_ns). Every malformed frame raises
FrameError with a short reason, never another exception type; the value policy (unset values,
unknown enum strings) is described in parse_rest.py, whose REST converters are re-exported
here. Private items of a category other than "linear" (the all-in-one topics also carry
spot/option) are skipped without an event. Ticker deltas are the hot path: orjson, a check of all
values at once by C-level string operations, and the wire strings handed on as they are, converted
to Decimal only when read (domain/live_ticker.py; bench/decode_tickers.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tui_bot.domain.events import (
    Event,
    ExecutionReceived,
    KlineUpdated,
    OrderUpdated,
    PositionUpdated,
    WalletUpdated,
)
from tui_bot.domain.models import Kline
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
    wallet_from_rest,
)
from tui_bot.exchange.bybit.parse_rest import text as as_str
from tui_bot.exchange.bybit.parse_ticker import decode_tickers, ticker_fields, ticker_from_rest

Frame = dict[str, Any]
Decoded = Control | list[Event]

__all__ = [
    "closed_pnl_from_rest", "decode_private", "decode_public", "decode_trade",
    "execution_from_rest", "instrument_from_rest", "kline_from_rest", "order_from_rest",
    "position_from_rest", "ticker_fields", "ticker_from_rest", "wallet_from_rest",
]


_loads = orjson.loads


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
    "tickers": decode_tickers, "kline": _klines, "publicTrade": _public_trades,
    "orderbook": _orderbook,
}


def decode_public(text: str | bytes, received_ns: int) -> Decoded:
    """Decode one /v5/public/linear frame into a Control or a list of market events."""
    try:
        frame = _loads(text)
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise FrameError(f"not JSON: {str(exc)[:80]}") from None
    if type(frame) is not dict:
        raise FrameError(f"not an object: {type(frame).__name__}")
    topic = frame.get("topic")
    if topic is None:
        return _control(frame)
    if type(topic) is not str:
        raise FrameError("topic: expected a string")
    if topic.startswith("tickers.") and len(topic) > 8:
        return decode_tickers(frame, topic[8:], received_ns)
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
