"""Pure builders of Bybit v5 wire dicts (REST results, WS frames) from domain models.

Unset-value encoding used throughout: zero prices/quantities/amounts are "0"; an order's
avgPrice is "" until something fills; liqPrice and sessionAvgPrice are "" when unknown;
unused stopOrderType/triggerBy/tpTriggerBy/slTriggerBy/tpslMode are "".
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from tui_bot.domain.models import Instrument, Kline, PublicTrade, Ticker
from tui_bot.domain.numbers import plain
from tui_bot.sim.intervals import bar_length_ms
from tui_bot.sim.wire_account import (
    break_even_price,
    closed_pnl_to_wire,
    coin_to_wire,
    decimals,
    fmt_amount,
    fmt_price,
    fmt_qty,
    position_to_wire,
    wallet_to_wire,
)
from tui_bot.sim.wire_orders import execution_to_wire, order_to_wire

__all__ = [
    "break_even_price",
    "cancel_all_result",
    "closed_pnl_to_wire",
    "coin_to_wire",
    "execution_to_wire",
    "fee_rate_to_wire",
    "fmt_amount",
    "fmt_price",
    "fmt_qty",
    "instrument_to_wire",
    "kline_rest_row",
    "kline_ws",
    "market_time_result",
    "order_ack",
    "order_to_wire",
    "orderbook_message",
    "orderbook_rest",
    "orderbook_to_wire",
    "position_to_wire",
    "private_message",
    "private_pong",
    "private_ws_response",
    "public_message",
    "public_trade_to_wire",
    "public_ws_response",
    "rest_envelope",
    "ticker_delta",
    "ticker_to_wire",
    "trade_ws_auth_response",
    "trade_ws_pong",
    "trade_ws_response",
    "wallet_to_wire",
]

Wire = dict[str, object]

FUNDING_RATE_CAP = "0.005"
# Delivery-futures fields: REST lists them ("") for a perpetual, the WS ticker of a perpetual leaves them out.
_DELIVERY_ONLY = ("predictedDeliveryPrice", "basisRate", "basis", "basisRateYear", "deliveryFeeRate", "deliveryTime")
_PRE_LISTING = ("preOpenPrice", "preQty", "curPreListingPhase")


def _leverage_filter(inst: Instrument) -> Wire:
    """The instrument's leverageFilter object."""
    return {
        "minLeverage": plain(inst.min_leverage),
        "maxLeverage": plain(inst.max_leverage),
        "leverageStep": plain(inst.leverage_step),
    }


def _price_filter(inst: Instrument) -> Wire:
    """The instrument's priceFilter object at tick precision."""
    places = decimals(inst.tick_size)
    return {
        "minPrice": plain(inst.min_price, places),
        "maxPrice": plain(inst.max_price, places),
        "tickSize": plain(inst.tick_size),
    }


def _lot_size_filter(inst: Instrument) -> Wire:
    """The instrument's lotSizeFilter object at qty-step precision."""
    places = decimals(inst.qty_step)
    return {
        "maxOrderQty": plain(inst.max_qty, places),
        "minOrderQty": plain(inst.min_qty, places),
        "qtyStep": plain(inst.qty_step),
        "postOnlyMaxOrderQty": plain(inst.max_qty, places),
        "maxMktOrderQty": plain(inst.max_market_qty, places),
        "minNotionalValue": plain(inst.min_notional),
    }


def instrument_to_wire(inst: Instrument) -> Wire:
    """One instruments-info list item (§3.2) for a linear perpetual."""
    return {
        "symbol": inst.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": inst.base_coin,
        "quoteCoin": inst.quote_coin,
        "settleCoin": inst.quote_coin,
        "symbolType": "",
        "symbolId": inst.symbol_id,
        "launchTime": str(inst.launch_time),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(inst.price_scale),
        "leverageFilter": _leverage_filter(inst),
        "priceFilter": _price_filter(inst),
        "lotSizeFilter": _lot_size_filter(inst),
        "unifiedMarginTrade": True,
        "isPreListing": False,
        "forbidUplWithdrawal": False,
        "fundingInterval": inst.funding_interval_min,
        "copyTrading": "both",
        "upperFundingRate": FUNDING_RATE_CAP,
        "lowerFundingRate": f"-{FUNDING_RATE_CAP}",
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "preListingInfo": None,
        "displayName": "",
    }


def ticker_to_wire(t: Ticker, inst: Instrument, *, ws: bool) -> Wire:
    """A full ticker: REST list item (§3.3) or WS snapshot data with tickDirection and no delivery fields (§5.3)."""
    head: Wire = {"symbol": t.symbol}
    if ws:
        head["tickDirection"] = t.tick_direction
    oi, oi_value = fmt_qty(t.open_interest, inst), fmt_amount(t.open_interest_value, 2)
    return {
        **head,
        "lastPrice": fmt_price(t.last_price, inst),
        "indexPrice": fmt_price(t.index_price, inst),
        "markPrice": fmt_price(t.mark_price, inst),
        "prevPrice24h": fmt_price(t.prev_price_24h, inst),
        "price24hPcnt": fmt_amount(t.price_24h_pcnt, 6),
        "highPrice24h": fmt_price(t.high_price_24h, inst),
        "lowPrice24h": fmt_price(t.low_price_24h, inst),
        "prevPrice1h": fmt_price(t.prev_price_1h, inst),
        "openInterest": oi,
        "openInterestValue": oi_value,
        "singleOpenInterest": oi,
        "singleOpenInterestValue": oi_value,
        "turnover24h": fmt_amount(t.turnover_24h, 4),
        "volume24h": fmt_qty(t.volume_24h, inst),
        "fundingRate": fmt_amount(t.funding_rate),
        "nextFundingTime": str(t.next_funding_time),
        "fundingIntervalHour": str(inst.funding_interval_min // 60),
        "fundingCap": FUNDING_RATE_CAP,
        "bid1Price": fmt_price(t.bid1_price, inst),
        "bid1Size": fmt_qty(t.bid1_size, inst),
        "ask1Price": fmt_price(t.ask1_price, inst),
        "ask1Size": fmt_qty(t.ask1_size, inst),
        **dict.fromkeys(_PRE_LISTING if ws else _DELIVERY_ONLY + _PRE_LISTING, ""),
    }


def ticker_delta(prev: Wire, new: Wire) -> Wire:
    """The WS ticker delta: symbol plus only the keys whose value changed."""
    changed = {key: value for key, value in new.items() if prev.get(key) != value}
    return {"symbol": new["symbol"], **changed}


def kline_rest_row(k: Kline, inst: Instrument) -> list[str]:
    """One REST kline row: [start, open, high, low, close, volume, turnover] (§3.4)."""
    return [
        str(k.start),
        fmt_price(k.open, inst),
        fmt_price(k.high, inst),
        fmt_price(k.low, inst),
        fmt_price(k.close, inst),
        fmt_qty(k.volume, inst),
        fmt_amount(k.turnover, 4),
    ]


def kline_ws(k: Kline, inst: Instrument, *, timestamp: int) -> Wire:
    """One WS kline data item (§5.4)."""
    return {
        "start": k.start,
        "end": k.start + bar_length_ms(k.interval, k.start) - 1,
        "interval": k.interval,
        "open": fmt_price(k.open, inst),
        "close": fmt_price(k.close, inst),
        "high": fmt_price(k.high, inst),
        "low": fmt_price(k.low, inst),
        "volume": fmt_qty(k.volume, inst),
        "turnover": fmt_amount(k.turnover, 4),
        "confirm": k.confirm,
        "timestamp": timestamp,
    }


def public_trade_to_wire(tr: PublicTrade, inst: Instrument) -> Wire:
    """One publicTrade data item (§5.5)."""
    return {
        "T": tr.time,
        "s": tr.symbol,
        "S": tr.taker_side.value,
        "v": fmt_qty(tr.size, inst),
        "p": fmt_price(tr.price, inst),
        "L": tr.tick_direction,
        "i": tr.trade_id,
        "BT": False,
        "RPI": False,
        "seq": tr.seq,
    }


def recent_trade_to_wire(tr: PublicTrade, inst: Instrument) -> Wire:
    """One row of GET /v5/market/recent-trade (Bybit's docs, v5/market/recent-trade; isRPITrade for perpetuals)."""
    return {
        "execId": tr.trade_id,
        "symbol": tr.symbol,
        "price": fmt_price(tr.price, inst),
        "size": fmt_qty(tr.size, inst),
        "side": tr.taker_side.value,
        "time": str(tr.time),
        "isBlockTrade": False,
        "isRPITrade": False,
    }


def orderbook_to_wire(
    symbol: str,
    bids: list[tuple[Decimal, Decimal]],
    asks: list[tuple[Decimal, Decimal]],
    inst: Instrument,
    *,
    update_id: int,
    seq: int,
) -> Wire:
    """Orderbook stream data (§5.6); bids descending, asks ascending, size zero means delete."""

    def levels(side: list[tuple[Decimal, Decimal]]) -> list[list[str]]:
        return [[fmt_price(price, inst), fmt_qty(size, inst)] for price, size in side]

    return {"s": symbol, "b": levels(bids), "a": levels(asks), "u": update_id, "seq": seq}


def orderbook_rest(data: Wire, *, ts: int, cts: int) -> Wire:
    """The /v5/market/orderbook result: the stream's data plus ts and cts, in the documented order."""
    return {"s": data["s"], "b": data["b"], "a": data["a"], "ts": ts, "u": data["u"], "seq": data["seq"], "cts": cts}


def orderbook_message(topic: str, type_: str, ts: int, data: Wire, cts: int, *, depth: int) -> Wire:
    """An orderbook frame; level-1 frames put ts before type, deeper ones after, as Bybit's do."""
    if depth == 1:
        return {"topic": topic, "ts": ts, "type": type_, "data": data, "cts": cts}
    return {"topic": topic, "type": type_, "ts": ts, "data": data, "cts": cts}


def order_ack(order_id: str, order_link_id: str) -> Wire:
    """The create/amend/cancel result {orderId, orderLinkId}."""
    return {"orderId": order_id, "orderLinkId": order_link_id}


def cancel_all_result(acks: list[Wire]) -> Wire:
    """The cancel-all result (§3.8) wrapping order acks."""
    return {"list": acks, "success": "1"}


def market_time_result(time_ms: int) -> Wire:
    """The /v5/market/time result (§3.1) for a server time in ms."""
    return {"timeSecond": str(time_ms // 1000), "timeNano": str(time_ms * 1_000_000)}


def fee_rate_to_wire(symbol: str, *, taker: Decimal, maker: Decimal) -> Wire:
    """One fee-rate list item."""
    return {"symbol": symbol, "takerFeeRate": fmt_amount(taker), "makerFeeRate": fmt_amount(maker)}


def rest_envelope(result: Wire, *, time_ms: int, ret_code: int = 0, ret_msg: str = "OK") -> Wire:
    """The REST envelope (§2.3); result is forced to {} on errors."""
    return {
        "retCode": ret_code,
        "retMsg": ret_msg,
        "result": result if ret_code == 0 else {},
        "retExtInfo": {},
        "time": time_ms,
    }


def public_ws_response(op: str, *, success: bool, ret_msg: str, conn_id: str, req_id: str) -> Wire:
    """A public-socket control response (§5.1); ping answers op "ping" with ret_msg "pong"."""
    return {"success": success, "ret_msg": ret_msg, "conn_id": conn_id, "req_id": req_id, "op": op}


def _with_id(key: str, req_id: str | None, body: Wire) -> Wire:
    """Prefix body with the request id under key when the client sent one."""
    return body if req_id is None else {key: req_id, **body}


def private_ws_response(op: str, *, success: bool, ret_msg: str, conn_id: str, req_id: str | None) -> Wire:
    """A private-socket auth/subscribe response (§6.1, §6.2)."""
    body: Wire = {"success": success, "ret_msg": ret_msg, "op": op, "conn_id": conn_id}
    return body if req_id is None else {**body, "req_id": req_id}


def private_pong(*, conn_id: str, req_id: str | None, time_ms: int) -> Wire:
    """The private-socket pong (§6.2): op "pong" with args [ms]."""
    return _with_id("req_id", req_id, {"op": "pong", "args": [str(time_ms)], "conn_id": conn_id})


def trade_ws_auth_response(*, ret_code: int, ret_msg: str, conn_id: str, req_id: str | None) -> Wire:
    """The trade-socket auth response (§7), REST-style keys."""
    body: Wire = {"retCode": ret_code, "retMsg": ret_msg, "op": "auth", "connId": conn_id}
    return _with_id("reqId", req_id, body)


def trade_ws_decode_error(*, ret_msg: str, conn_id: str) -> Wire:
    """The trade-socket reply to a frame that does not decode (10001, op "", no reqId)."""
    return {"retCode": 10001, "retMsg": ret_msg, "op": "", "connId": conn_id}


def _trace_id(conn_id: str, req_id: str | None, time_ms: int) -> str:
    """A deterministic 32-hex trace id for one trade-socket response."""
    return hashlib.sha256(f"{conn_id}|{req_id}|{time_ms}".encode()).hexdigest()[:32]


def trade_ws_response(
    op: str,
    *,
    req_id: str | None,
    ret_code: int,
    ret_msg: str,
    data: Wire,
    conn_id: str,
    limit: int,
    limit_status: int,
    reset_ms: int,
    time_ms: int,
) -> Wire:
    """A trade-socket order response (§7); data is forced to {} on errors."""
    header = {
        "X-Bapi-Limit": str(limit),
        "X-Bapi-Limit-Status": str(limit_status),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
        "Traceid": _trace_id(conn_id, req_id, time_ms),
        "Timenow": str(time_ms),
    }
    body: Wire = {
        "retCode": ret_code,
        "retMsg": ret_msg,
        "op": op,
        "data": data if ret_code == 0 else {},
        "retExtInfo": {},
        "header": header,
        "connId": conn_id,
    }
    return _with_id("reqId", req_id, body)


def trade_ws_pong(*, conn_id: str, req_id: str | None, time_ms: int) -> Wire:
    """The trade-socket pong (§7): op "pong" with data [ms]."""
    body: Wire = {"retCode": 0, "retMsg": "OK", "op": "pong", "data": [str(time_ms)], "connId": conn_id}
    return _with_id("reqId", req_id, body)


def public_message(topic: str, type_: str, ts: int, data: object, cs: int | None = None) -> Wire:
    """A public data frame (§5.2); cs for tickers."""
    message: Wire = {"topic": topic, "type": type_, "ts": ts, "data": data}
    if cs is not None:
        message["cs"] = cs
    return message


def private_message(topic: str, msg_id: str, creation_time: int, data: list[Wire]) -> Wire:
    """A private data frame (§6.3)."""
    return {"id": msg_id, "topic": topic, "creationTime": creation_time, "data": data}
