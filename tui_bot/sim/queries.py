"""Read endpoints: market data, orders, executions, positions, closed PnL, wallet and fees."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from tui_bot.sim import wire
from tui_bot.sim.account import MAKER_FEE, TAKER_FEE, Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import params_error
from tui_bot.sim.intervals import DAY_MS, INTERVALS
from tui_bot.sim.params import Params, read_category

T = TypeVar("T")
SEVEN_DAYS_MS = 7 * DAY_MS
POSITION_CATEGORIES = ("linear", "inverse", "option")
CLOSED_PNL_CATEGORIES = ("linear", "inverse")
KLINE_CATEGORIES = ("spot", "linear", "inverse")


def _cursor(offset: int) -> str:
    """The opaque cursor of the page starting at offset."""
    return base64.urlsafe_b64encode(f"offset={offset}".encode()).decode()


def _cursor_offset(cursor: str) -> int:
    """The offset of a cursor this exchange issued; any other text (a forged or edited cursor) is 10001."""
    try:
        offset = int(base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii").removeprefix("offset="))
    except ValueError:
        offset = -1
    if offset < 0 or _cursor(offset) != cursor:
        raise params_error("params error: cursor invalid")
    return offset


def paginate(items: Sequence[T], p: Params, *, default: int, maximum: int) -> tuple[list[T], str]:
    """Slice items by limit and an opaque cursor; returns the page and the next cursor ('' at the end)."""
    limit = p.integer("limit", default=default, low=1, high=maximum) or default
    cursor = p.string("cursor")
    offset = _cursor_offset(cursor) if cursor else 0
    page = list(items[offset : offset + limit])
    more = offset + limit < len(items)
    return page, _cursor(offset + limit) if more else ""


def time_window(p: Params, now: int, *, span: int = SEVEN_DAYS_MS) -> tuple[int, int]:
    """startTime/endTime within Bybit's 7-day rule; a missing bound is span from the other (default: the last span)."""
    start = p.integer("startTime", low=0)
    end = p.integer("endTime", low=0)
    if start is not None and end is not None and (end < start or end - start > SEVEN_DAYS_MS):
        raise params_error("params error: the time range between startTime and endTime must be within 7 days")
    if start is None and end is None:
        return now - span, now + 1
    if start is None:
        assert end is not None
        return end - span, end
    return start, end if end is not None else start + span


def nothing_listed(category: str, *, cursor: bool = True) -> dict[str, Any]:
    """The empty page of a category the sim lists nothing in (the category echoed, as Bybit does)."""
    return {"category": category, "list": [], **({"nextPageCursor": ""} if cursor else {})}


def listed_symbol(engine: ExchangeEngine, p: Params, *, required: bool = False) -> str:
    """The symbol parameter ('' when absent), which must name a contract the exchange lists (10001 otherwise)."""
    symbol = p.symbol(required=required)
    if symbol:
        engine.market(symbol)
    return symbol


def server_time(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    now_ns = engine.clock.now_ms() * 1_000_000
    return {"timeSecond": str(now_ns // 1_000_000_000), "timeNano": str(now_ns)}


def instruments_info(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p)
    if category != "linear":
        return nothing_listed(category, cursor=category != "spot")
    symbol = p.symbol()
    status = p.string("status", default="Trading")
    insts = [i for s, i in engine.instruments.items() if not symbol or s == symbol]
    if status != "Trading":
        insts = []
    page, cursor = paginate(insts, p, default=500, maximum=1000)
    return {"category": "linear", "list": [wire.instrument_to_wire(i) for i in page], "nextPageCursor": cursor}


def tickers(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p)
    if category != "linear":
        return nothing_listed(category, cursor=False)
    symbol = listed_symbol(engine, p)
    rows = [
        wire.ticker_to_wire(m.ticker(), m.instrument, ws=False)
        for s, m in engine.markets.items()
        if not symbol or s == symbol
    ]
    return {"category": "linear", "list": rows}


def kline(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p, KLINE_CATEGORIES, required=False)
    symbol = p.symbol(required=True)
    interval = p.string("interval", required=True)
    if interval not in INTERVALS:
        raise params_error("params error: interval invalid")
    limit = p.integer("limit", default=200, low=1, high=1000) or 200
    if category != "linear":
        return {"category": category, "symbol": symbol, "list": []}
    series = engine.candle_series(symbol, interval)
    series.roll(engine.clock.now_ms())
    bars = series.query(p.integer("start", low=0), p.integer("end", low=0), limit)
    inst = engine.instruments[symbol]
    return {"category": "linear", "symbol": symbol, "list": [wire.kline_rest_row(b, inst) for b in bars]}


def _order_scope(engine: ExchangeEngine, p: Params) -> tuple[str, str, str]:
    symbol, base, settle = listed_symbol(engine, p), p.string("baseCoin"), p.string("settleCoin")
    if not (symbol or base or settle):
        raise params_error("params error: symbol, baseCoin or settleCoin is required")
    return symbol, base, settle


def _orders(
    engine: ExchangeEngine, account: Account, p: Params, *, history: bool, window: tuple[int, int] | None = None
) -> dict[str, Any]:
    symbol, base, _settle = (
        _order_scope(engine, p) if not history else (listed_symbol(engine, p), p.string("baseCoin"), "")
    )
    order_id, link_id = p.string("orderId"), p.string("orderLinkId")
    kind = p.choice("orderFilter", ("Order", "StopOrder", "tpslOrder", "OcoOrder", "BidirectionalTpslOrder"))
    open_only = p.integer("openOnly", default=0, low=0, high=2)
    status = p.string("orderStatus")
    rows = sorted(account.orders.values(), key=lambda o: (o.created_time, o.order_id), reverse=True)
    picked = []
    for o in rows:
        if (symbol and o.symbol != symbol) or (base and engine.instruments[o.symbol].base_coin != base):
            continue
        if (order_id and o.order_id != order_id) or (link_id and o.order_link_id != link_id):
            continue
        if kind == "Order" and o.is_conditional or kind == "StopOrder" and not o.is_conditional:
            continue
        if status and o.status.value != status:
            continue
        if window is not None and not window[0] <= o.created_time <= window[1]:
            continue
        if not history and not (order_id or link_id) and o.status.is_open != (open_only == 0):
            continue
        picked.append(o)
    page, cursor = paginate(picked, p, default=20, maximum=50)
    return {
        "category": "linear",
        "list": [wire.order_to_wire(o, engine.instruments[o.symbol], ws=False) for o in page],
        "nextPageCursor": cursor,
    }


def open_orders(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p)
    if category != "linear":
        return nothing_listed(category)
    return _orders(engine, account, p, history=False)


def order_history(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p)
    if category != "linear":
        return nothing_listed(category)
    return _orders(engine, account, p, history=True, window=time_window(p, engine.clock.now_ms()))


def executions(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p)
    if category != "linear":
        return nothing_listed(category)
    start, end = time_window(p, engine.clock.now_ms())
    symbol, order_id, link_id = listed_symbol(engine, p), p.string("orderId"), p.string("orderLinkId")
    exec_type = p.string("execType")
    rows = [
        e
        for e in account.executions
        if start <= e.exec_time <= end
        and (not symbol or e.symbol == symbol)
        and (not order_id or e.order_id == order_id)
        and (not link_id or e.order_link_id == link_id)
        and (not exec_type or e.exec_type.value == exec_type)
    ]
    rows.sort(key=lambda e: (e.exec_time, e.seq), reverse=True)
    page, cursor = paginate(rows, p, default=50, maximum=100)
    return {
        "category": "linear",
        "list": [wire.execution_to_wire(e, engine.instruments[e.symbol], ws=False) for e in page],
        "nextPageCursor": cursor,
    }


def positions(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p, POSITION_CATEGORIES)
    if category != "linear":
        return nothing_listed(category)
    symbol, settle = listed_symbol(engine, p), p.string("settleCoin")
    if not symbol and not settle:
        raise params_error("params error: symbol or settleCoin is required")
    account.refresh(engine.instruments)
    if symbol:
        rows = [account.position(symbol)]
    else:
        rows = [
            pos
            for s, pos in sorted(account.positions.items())
            if pos.size > 0 and engine.instruments[s].quote_coin == settle
        ]
    page, cursor = paginate(rows, p, default=20, maximum=200)
    return {
        "category": "linear",
        "list": [
            wire.position_to_wire(x, engine.instruments[x.symbol], ws=False, taker_fee_rate=TAKER_FEE) for x in page
        ],
        "nextPageCursor": cursor,
    }


def closed_pnl(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    category = read_category(p, CLOSED_PNL_CATEGORIES)
    if category != "linear":
        return nothing_listed(category)
    start, end = time_window(p, engine.clock.now_ms())
    symbol = listed_symbol(engine, p)
    rows = [c for c in account.closed_pnls if start <= c.updated_time <= end and (not symbol or c.symbol == symbol)]
    rows = [c for _, c in sorted(enumerate(rows), key=lambda pair: (pair[1].updated_time, pair[0]), reverse=True)]
    page, cursor = paginate(rows, p, default=50, maximum=100)
    return {
        "category": "linear",
        "list": [wire.closed_pnl_to_wire(c, engine.instruments[c.symbol]) for c in page],
        "nextPageCursor": cursor,
    }


def wallet_balance(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    if p.string("accountType", required=True) != "UNIFIED":
        raise params_error("accountType only support UNIFIED")
    wallet = account.refresh(engine.instruments)
    coins = {c.strip() for c in p.string("coin").split(",") if c.strip()}
    if coins:
        wallet = replace(wallet, coins=tuple(c for c in wallet.coins if c.coin in coins))
    return {"list": [wire.wallet_to_wire(wallet)]}


def fee_rate(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    p = Params(raw, from_query=True)
    if read_category(p, required=False) != "linear":
        return {"list": []}
    symbol = listed_symbol(engine, p)
    return {
        "list": [
            {"symbol": s, "takerFeeRate": str(TAKER_FEE), "makerFeeRate": str(MAKER_FEE)}
            for s in engine.instruments
            if not symbol or s == symbol
        ]
    }
