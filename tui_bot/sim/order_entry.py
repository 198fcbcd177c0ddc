"""order/create, amend, cancel and cancel-all, validated as Bybit validates them."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from itertools import takewhile
from typing import Any

from tui_bot.domain.enums import (
    CancelType,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    StopOrderType,
    TimeInForce,
    TpSlMode,
    TriggerBy,
)
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import ZERO, is_multiple
from tui_bot.sim.account import TAKER_FEE, Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError, params_error
from tui_bot.sim.params import Params, check_link_id, require_linear
from tui_bot.sim.records import SimOrder

TRIGGERS = tuple(t.value for t in TriggerBy)


def check_price(inst: Instrument, price: Decimal, name: str = "price") -> None:
    """Price must be on the tick grid and inside the instrument's band."""
    if not inst.min_price <= price <= inst.max_price:
        raise params_error(f"params error: {name} out of range [{inst.min_price}, {inst.max_price}]")
    if not is_multiple(price, inst.tick_size):
        raise params_error(f"params error: {name} must be a multiple of tickSize {inst.tick_size}")


def check_qty(inst: Instrument, qty: Decimal, order_type: OrderType) -> None:
    """Quantity must be on the step grid and inside [minOrderQty, max]."""
    limit = inst.max_market_qty if order_type is OrderType.MARKET else inst.max_qty
    if qty < inst.min_qty:
        raise params_error("The number of contracts exceeds minimum limit allowed")
    if qty > limit:
        raise params_error("The number of contracts exceeds maximum limit allowed")
    if not is_multiple(qty, inst.qty_step):
        raise params_error(f"Qty invalid: must be a multiple of qtyStep {inst.qty_step}")


def check_tpsl_sides(side: Side, base: Decimal, tp: Decimal | None, sl: Decimal | None) -> None:
    """A long's TP must sit above and its SL below the base price (mirrored for a short)."""
    word = "Buy" if side is Side.BUY else "Sell"
    if tp and (tp - base) * side.sign <= 0:
        rel = "higher" if side is Side.BUY else "lower"
        raise params_error(f"TakeProfit:{tp} set for {word} position should be {rel} than base_price:{base}??LastPrice")
    if sl and (base - sl) * side.sign <= 0:
        rel = "lower" if side is Side.BUY else "higher"
        raise params_error(f"StopLoss:{sl} set for {word} position should be {rel} than base_price:{base}??LastPrice")


def check_trigger_direction(direction: int, trigger: Decimal, current: Decimal, trigger_by: str) -> None:
    """A rising trigger must sit above the current price, a falling one below."""
    if direction == 1 and trigger <= current:
        raise SimError(
            Codes.TRIGGER_RISING, f"expect Rising, but trigger_price[{trigger}] <= current[{current}]??{trigger_by}"
        )
    if direction == 2 and trigger >= current:
        raise SimError(
            Codes.TRIGGER_FALLING, f"expect Falling, but trigger_price[{trigger}] >= current[{current}]??{trigger_by}"
        )


def _new_order(engine: ExchangeEngine, account: Account, p: Params) -> SimOrder:
    """Parse and validate an order/create request into an SimOrder (not yet booked)."""
    require_linear(p)
    symbol = p.symbol(required=True)
    market = engine.market(symbol)
    inst = market.instrument
    side = Side(p.choice("side", ("Buy", "Sell"), required=True))
    order_type = OrderType(p.choice("orderType", ("Market", "Limit"), required=True))
    qty = p.decimal("qty", required=True)
    assert qty is not None
    if p.integer("positionIdx", default=0) != 0:
        raise params_error("position idx not match position mode")
    link_id = p.string("orderLinkId")
    check_link_id(link_id)
    if link_id and link_id in account.link_ids:
        raise SimError(Codes.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
    tif_default = "IOC" if order_type is OrderType.MARKET else "GTC"
    tif = TimeInForce(p.choice("timeInForce", ("GTC", "IOC", "FOK", "PostOnly"), default=tif_default))
    if order_type is OrderType.MARKET:
        tif = TimeInForce.IOC
    reduce_only = p.boolean("reduceOnly")
    close_on_trigger = p.boolean("closeOnTrigger")
    pos = account.position(symbol)
    if qty == 0:
        if not (reduce_only and close_on_trigger):
            raise params_error("The number of contracts exceeds minimum limit allowed")
        qty = min(pos.size, inst.max_market_qty if order_type is OrderType.MARKET else inst.max_qty)
    else:
        check_qty(inst, qty, order_type)
    price = ZERO
    if order_type is OrderType.LIMIT:
        price = p.decimal("price", required=True) or ZERO
        check_price(inst, price)
    trigger = p.decimal("triggerPrice") or ZERO
    direction = p.integer("triggerDirection", default=0, low=0, high=2) or 0
    trigger_by = p.choice("triggerBy", TRIGGERS, default="LastPrice")
    if trigger:
        check_price(inst, trigger, "triggerPrice")
        if direction == 0:
            raise params_error("params error: triggerDirection is required for a conditional order")
        check_trigger_direction(direction, trigger, market.price_for(trigger_by), trigger_by)
    tp = p.decimal("takeProfit") or ZERO
    sl = p.decimal("stopLoss") or ZERO
    if (tp or sl) and reduce_only:
        raise params_error("params error: reduce-only order can not have TP/SL")
    base = trigger or (price if order_type is OrderType.LIMIT else market.last_price)
    for value, name in ((tp, "takeProfit"), (sl, "stopLoss")):
        if value:
            check_price(inst, value, name)
    check_tpsl_sides(side, base, tp or None, sl or None)
    notional_price = price if order_type is OrderType.LIMIT else market.last_price
    if qty * (trigger or notional_price) < inst.min_notional and not reduce_only:
        raise SimError(Codes.MIN_NOTIONAL, "Order notional value below the lower limit")
    now = engine.clock.now_ms()
    if order_type is OrderType.MARKET:
        price = market.protective_price(side)
    return SimOrder(
        order_id=engine.new_id(),
        order_link_id=link_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price,
        time_in_force=tif,
        status=OrderStatus.UNTRIGGERED if trigger else OrderStatus.NEW,
        created_time=now,
        updated_time=now,
        stop_order_type=StopOrderType.STOP if trigger else StopOrderType.NONE,
        trigger_price=trigger,
        trigger_by=TriggerBy(trigger_by) if trigger else None,
        trigger_direction=direction,
        take_profit=tp,
        stop_loss=sl,
        tp_trigger_by=TriggerBy(p.choice("tpTriggerBy", TRIGGERS, default="LastPrice")) if tp else None,
        sl_trigger_by=TriggerBy(p.choice("slTriggerBy", TRIGGERS, default="LastPrice")) if sl else None,
        tpsl_mode=TpSlMode.FULL if (tp or sl) else None,
        reduce_only=reduce_only,
        close_on_trigger=close_on_trigger,
        last_price_on_created=market.last_price,
    )


def opening_cost(account: Account, symbol: str, side: Side, qty: Decimal, price: Decimal) -> Decimal:
    """Initial margin of the part of qty that opens (beyond closing the position) plus the taker fee on all of it."""
    pos = account.position(symbol)
    closing = pos.size if pos.side is not None and pos.side is not side else ZERO
    return max(qty - closing, ZERO) * price / pos.leverage + qty * price * TAKER_FEE


def check_funds(engine: ExchangeEngine, account: Account, order: SimOrder, *, triggered: bool = False) -> None:
    """Reject with 110007 when the order's margin and fee exceed the available balance.

    A conditional order holds no margin until it triggers, so it is checked at creation only
    when `triggered` says it is going live now.
    """
    if order.reduce_only:
        pos = account.position(order.symbol)
        if pos.side is None or pos.side is order.side or pos.size == 0:
            raise SimError(
                Codes.REDUCE_ONLY,
                "current position is zero, cannot fix reduce-only order qty"
                if pos.size == 0
                else "reduce-only order has same side with current position",
            )
        return
    if order.is_conditional and not triggered:
        return
    price = order.price if order.order_type is OrderType.LIMIT else engine.markets[order.symbol].last_price
    if opening_cost(account, order.symbol, order.side, order.qty, price) > account.available_balance(
        engine.instruments
    ):
        raise SimError(Codes.INSUFFICIENT_BALANCE, "ab not enough for new order")


def create_order(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, str]:
    """Validate, book and (when marketable) execute an order; returns the async ack."""
    order = _new_order(engine, account, Params(raw))
    check_funds(engine, account, order)
    if order.reduce_only:
        order.qty = min(order.qty, engine.reduce_only_cap(account, order))
    account.orders[order.order_id] = order
    if order.order_link_id:
        account.link_ids[order.order_link_id] = order.order_id
    if order.is_conditional:
        engine.emit_order_change(account, [order])
    else:
        execute_new(engine, account, order)
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def execute_new(engine: ExchangeEngine, account: Account, order: SimOrder) -> None:
    """Match a newly live order: take what crosses, then rest, cancel or reject per timeInForce."""
    market = engine.markets[order.symbol]
    best = market.ask1_price if order.side is Side.BUY else market.bid1_price
    crosses = order.order_type is OrderType.MARKET or (order.price - best) * order.side.sign >= 0
    execs = []
    if order.time_in_force is TimeInForce.POST_ONLY and crosses:
        engine.close_order(order, OrderStatus.CANCELLED, reason=RejectReason.POST_ONLY_WILL_TAKE)
    elif crosses:
        qty = order.qty if not order.reduce_only else min(order.qty, engine.reduce_only_cap(account, order))
        if order.time_in_force is TimeInForce.FOK and _depth_to(market.book(order.side), order.price, order.side) < qty:
            engine.close_order(order, OrderStatus.CANCELLED, reason=RejectReason.CANCEL_FOR_NO_FULL_FILL)
        else:
            execs = engine.take_liquidity(account, order, order.price, qty)
            engine.settle_status(order)
    if order.status.is_open and order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        reason = RejectReason.NO_IMMEDIATE_QTY if not execs else RejectReason.NO_ERROR
        engine.close_order(order, OrderStatus.CANCELLED, cancel=CancelType.UNKNOWN, reason=reason)
    if execs:
        engine.after_fill(account, order, execs)
    else:
        engine.emit_order_change(account, [order])


def _depth_to(levels: Iterable[tuple[Decimal, Decimal]], limit: Decimal, side: Side) -> Decimal:
    """Size resting from the best level up to limit (levels come best first)."""
    return sum((size for _, size in takewhile(lambda level: (level[0] - limit) * side.sign <= 0, levels)), ZERO)


def find_order(account: Account, p: Params) -> SimOrder:
    """The order named by orderId (preferred) or orderLinkId, or 110001."""
    require_linear(p)
    symbol = p.symbol(required=True)
    order_id = p.string("orderId")
    link_id = p.string("orderLinkId")
    if not order_id and not link_id:
        raise params_error("params error: orderId or orderLinkId is required")
    order = account.orders.get(order_id) if order_id else account.orders.get(account.link_ids.get(link_id, ""))
    if order is None or order.symbol != symbol or not order.status.is_open:
        raise SimError(Codes.ORDER_NOT_FOUND, "order not exists or too late to cancel")
    return order


def cancel_order(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, str]:
    """Cancel one open order (conditional orders become Deactivated)."""
    order = find_order(account, Params(raw))
    _cancel(engine, account, order)
    engine.emit_order_change(account, [order])
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def _cancel(engine: ExchangeEngine, account: Account, order: SimOrder) -> None:
    status = OrderStatus.DEACTIVATED if order.status is OrderStatus.UNTRIGGERED else OrderStatus.CANCELLED
    engine.close_order(order, status, cancel=CancelType.BY_USER)
    pos = account.position(order.symbol)
    if order.stop_order_type is StopOrderType.TAKE_PROFIT:
        pos.take_profit = ZERO
    elif order.stop_order_type is StopOrderType.STOP_LOSS:
        pos.stop_loss = ZERO
    elif order.stop_order_type is StopOrderType.TRAILING_STOP:
        pos.trailing_stop = ZERO


def cancel_all(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """Cancel every open order of a symbol / base coin / settle coin, filtered by kind."""
    p = Params(raw)
    require_linear(p)
    symbol, base, settle = p.symbol(), p.string("baseCoin"), p.string("settleCoin")
    if not (symbol or base or settle):
        raise params_error("params error: symbol, baseCoin or settleCoin is required")
    if symbol:
        engine.market(symbol)
    kind = p.choice("orderFilter", ("Order", "StopOrder", "OpenOrder", "tpslOrder"))
    stop_type = p.string("stopOrderType")
    chosen = []
    for order in account.open_orders():
        inst = engine.instruments[order.symbol]
        if (symbol and order.symbol != symbol) or (not symbol and base and inst.base_coin != base):
            continue
        if not symbol and not base and settle and inst.quote_coin != settle:
            continue
        if kind == "Order" and order.is_conditional or kind == "StopOrder" and not order.is_conditional:
            continue
        if stop_type == "Stop" and order.stop_order_type is not StopOrderType.STOP:
            continue
        chosen.append(order)
    for order in chosen[:500]:
        _cancel(engine, account, order)
    if chosen:
        engine.emit_order_change(account, chosen[:500])
    return {"list": [{"orderId": o.order_id, "orderLinkId": o.order_link_id} for o in chosen[:500]], "success": "1"}
