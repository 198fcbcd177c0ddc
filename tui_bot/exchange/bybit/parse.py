"""Decode stream frames (public linear, private, trade) into control replies or domain events.

Pure functions: no I/O, no clock (the caller passes received_ns). Every malformed or refused frame
raises FrameError with a short message and its reason, never another exception type; the value policy
(the wire number grammar and sign rules, unset values, unknown enum strings) is described in
parse_rest.py, whose REST converters are re-exported here. A public frame's body must name the
symbol (and interval) of its topic. Private items of a category other than "linear" (the all-in-one
topics also carry spot/option) are skipped without an event. Ticker deltas are the hot path: orjson,
an exact check of all values at once by C-level string operations, and the wire strings handed on as
they are, converted to Decimal only when read (domain/live_ticker.py; bench/decode_tickers.py
measures it). PublicDecoder also holds the instruments' price bands that ticker, book and trade prices must
lie in; the order book and trade topics are decoded in parse_market.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from tui_bot.exchange.bybit.frames import MAX_TOPIC_NAMES, Control, FrameError
from tui_bot.exchange.bybit.parse_market import Bands, decode_orderbook, decode_public_trades, recent_trade_from_rest
from tui_bot.exchange.bybit.parse_rest import (
    closed_pnl_from_rest,
    execution_from_rest,
    instrument_from_rest,
    kline_from_rest,
    ledger_entry_from_rest,
    order_from_rest,
    position_from_item,
    position_from_rest,
    wallet_from_rest,
)
from tui_bot.exchange.bybit.parse_ticker import (
    NO_BANDS,
    PriceBand,
    decode_tickers,
    ticker_fields,
    ticker_from_rest,
)
from tui_bot.exchange.bybit.parse_values import (
    KEEP,
    REQUIRED,
    Spec,
    build,
    dec,
    flag,
    integer,
    obj,
    objects,
    positive,
    shown,
)
from tui_bot.exchange.bybit.parse_values import text as as_str

Frame = dict[str, Any]
Decoded = Control | list[Event]

__all__ = [
    "PriceBand",
    "PublicDecoder",
    "closed_pnl_from_rest",
    "decode_private",
    "decode_public",
    "decode_trade",
    "execution_from_rest",
    "instrument_from_rest",
    "kline_from_rest",
    "ledger_entry_from_rest",
    "order_from_rest",
    "position_from_rest",
    "recent_trade_from_rest",
    "ticker_fields",
    "ticker_from_rest",
    "wallet_from_rest",
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
    return Control(
        op=op,
        success=flag(frame["success"], "success"),
        message=_optional_text(frame, "ret_msg"),
        req_id=req_id,
        conn_id=conn_id,
    )


_KLINE: Spec = (
    ("start", "start", integer, REQUIRED),
    ("open", "open", positive, REQUIRED),
    ("high", "high", positive, REQUIRED),
    ("low", "low", positive, REQUIRED),
    ("close", "close", positive, REQUIRED),
    ("volume", "volume", dec, KEEP),
    ("turnover", "turnover", dec, KEEP),
    ("confirm", "confirm", flag, KEEP),
)


def _same(named: Any, expected: str, key: str, topic: str) -> None:
    """Refuse (FrameError "topic") a body value that names another symbol or interval than the topic."""
    if named != expected:
        raise FrameError(f"{key} {shown(named)} on topic {topic[:60]}", "topic")


def _klines(frame: Frame, rest: str, received_ns: int, _bands: Bands) -> list[Event]:
    """One KlineUpdated per candle of a kline.{interval}.{symbol} frame (each candle's interval must match; its
    prices are checked for positivity only)."""
    interval, _, symbol = rest.partition(".")
    if not interval or not symbol:
        raise FrameError(f"unknown topic: kline.{rest}", "unknown topic")
    ts = _stamp(frame, "ts")
    events: list[Event] = []
    for item in objects(frame.get("data"), "data"):
        _same(item.get("interval", interval), interval, "interval", f"kline.{rest}")
        kline = Kline(symbol=symbol, interval=interval, **build(item, _KLINE))
        stamp = item.get("timestamp", "")
        exchange_ts = ts if stamp == "" else integer(stamp, "timestamp")
        events.append(KlineUpdated(kline=kline, exchange_ts=exchange_ts, received_ns=received_ns))
    return events


_PUBLIC: dict[str, Callable[[Frame, str, int, Bands], list[Event]]] = {
    "kline": _klines,
    "publicTrade": decode_public_trades,
    "orderbook": decode_orderbook,
}


# tickers.{symbol} topic -> symbol: one dict hit instead of a prefix test and a slice per ticker (bounded).
_TICKER_TOPICS: dict[str, str] = {}


def _ticker_symbol(topic: str) -> str:
    """The symbol of a tickers.{symbol} topic ("" for any other topic), remembered in _TICKER_TOPICS."""
    if not topic.startswith("tickers.") or len(topic) <= 8:
        return ""
    if len(_TICKER_TOPICS) >= MAX_TOPIC_NAMES:
        _TICKER_TOPICS.clear()
    symbol = _TICKER_TOPICS[topic] = topic[8:]
    return symbol


class PublicDecoder:
    """Decodes /v5/public/linear frames; ticker mark/last/index prices must lie in their symbol's price band.

    price_bands (symbol -> PriceBand) is read at every ticker, not copied: its owner (the
    client) fills it as instruments load. A symbol without one gets only the positivity check.
    """

    __slots__ = ("price_bands",)

    def __init__(self, price_bands: Mapping[str, PriceBand] = NO_BANDS) -> None:
        self.price_bands = price_bands

    def decode(self, text: str | bytes, received_ns: int) -> Decoded:
        """Decode one frame into a Control or a list of market events (FrameError when malformed or refused)."""
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
        symbol = _TICKER_TOPICS.get(topic) or _ticker_symbol(topic)
        if symbol:
            return decode_tickers(frame, symbol, received_ns, self.price_bands)
        kind, _, rest = topic.partition(".")
        handler = _PUBLIC.get(kind)
        if handler is None or not rest:
            raise FrameError(f"unknown topic: {topic[:60]}", "unknown topic")
        return handler(frame, rest, received_ns, self.price_bands)


decode_public = PublicDecoder().decode
"""Decode one /v5/public/linear frame, ticker prices checked for positivity only (no price bands)."""


def _order(item: Frame, ts: int, received_ns: int) -> Event:
    """One order item as OrderUpdated."""
    return OrderUpdated(order=order_from_rest(item), exchange_ts=ts, received_ns=received_ns)


def _execution(item: Frame, ts: int, received_ns: int) -> Event:
    """One execution item as ExecutionReceived."""
    return ExecutionReceived(execution=execution_from_rest(item), exchange_ts=ts, received_ns=received_ns)


def _position(item: Frame, ts: int, received_ns: int) -> Event:
    """One position item (entry price under entryPrice) as PositionUpdated."""
    position = position_from_item(item, "entryPrice", "avgPrice")
    return PositionUpdated(position=position, exchange_ts=ts, received_ns=received_ns)


def _wallet(item: Frame, ts: int, received_ns: int) -> Event:
    """One account item as WalletUpdated."""
    return WalletUpdated(wallet=wallet_from_rest(item), exchange_ts=ts, received_ns=received_ns)


_PRIVATE: dict[str, Callable[[Frame, int, int], Event]] = {
    "order": _order,
    "order.linear": _order,
    "execution": _execution,
    "execution.linear": _execution,
    "position": _position,
    "position.linear": _position,
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
        raise FrameError(f"unknown topic: {topic[:60]}", "unknown topic")
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
    return Control(
        op=op,
        success=ret_code == 0,
        message=_optional_text(frame, "retMsg"),
        req_id=_optional_text(frame, "reqId"),
        conn_id=_optional_text(frame, "connId"),
        ret_code=ret_code,
        data=_trade_data(frame, op),
        header=_header(frame),
    )
