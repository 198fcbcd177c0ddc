"""order/amend: change qty, price, trigger or attached TP/SL of a working order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import OrderStatus, OrderType, Side, StopOrderType, TriggerBy
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import ZERO
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError, params_error
from tui_bot.sim.order_entry import (
    TRIGGERS,
    check_price,
    check_qty,
    check_tpsl_sides,
    check_trigger_direction,
    execute_new,
    find_order,
    opening_cost,
)
from tui_bot.sim.params import Params
from tui_bot.sim.records import SimOrder

_UNCHANGED = "The order remains unchanged as the parameters entered match the existing ones."
_TOO_LATE = "order not exists or too late to replace"
_FIELDS = ("qty", "price", "trigger_price", "take_profit", "stop_loss", "trigger_by", "tp_trigger_by", "sl_trigger_by")


def amend_order(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, str]:
    """Apply the given fields to an open order; omitted fields stay, and a rejected amend changes nothing."""
    p = Params(raw)
    try:
        order = find_order(account, p)
    except SimError as err:
        if err.code == Codes.ORDER_NOT_FOUND:
            raise SimError(Codes.ORDER_NOT_FOUND, _TOO_LATE) from None
        raise
    market = engine.markets[order.symbol]
    before = tuple(getattr(order, name) for name in _FIELDS)
    try:
        _apply_fields(engine, account, order, p)
    except SimError:
        for name, value in zip(_FIELDS, before, strict=True):
            setattr(order, name, value)
        raise
    if tuple(getattr(order, name) for name in _FIELDS) == before:
        raise params_error(_UNCHANGED)
    if order.trigger_price != before[2]:
        _sync_position_tpsl(account, order)
    order.updated_time = engine.clock.now_ms()
    if order.status is not OrderStatus.UNTRIGGERED and order.order_type is OrderType.LIMIT:
        best = market.ask1_price if order.side is Side.BUY else market.bid1_price
        if (order.price - best) * order.side.sign >= 0:
            execute_new(engine, account, order)
            return {"orderId": order.order_id, "orderLinkId": order.order_link_id}
    engine.emit_order_change(account, [order])
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def _apply_fields(engine: ExchangeEngine, account: Account, order: SimOrder, p: Params) -> None:
    """Validate and set qty, price, trigger and attached TP/SL (raises SimError on the first bad one)."""
    inst = engine.instruments[order.symbol]
    market = engine.markets[order.symbol]
    qty = p.decimal("qty")
    if qty is not None:
        check_qty(inst, qty, order.order_type)
        if qty <= order.cum_exec_qty:
            raise params_error("params error: qty must be greater than the filled qty")
    price = p.decimal("price")
    if price is not None and order.order_type is OrderType.LIMIT:
        check_price(inst, price)
    else:
        price = None
    _check_funds(engine, account, order, order.qty if qty is None else qty, order.price if price is None else price)
    order.qty = order.qty if qty is None else qty
    order.price = order.price if price is None else price
    trigger = p.decimal("triggerPrice")
    if trigger is not None and order.is_conditional:
        check_price(inst, trigger, "triggerPrice")
        by = p.choice("triggerBy", TRIGGERS, default=(order.trigger_by or TriggerBy.LAST).value)
        check_trigger_direction(order.trigger_direction, trigger, market.price_for(by), by)
        order.trigger_price = trigger
        order.trigger_by = TriggerBy(by)
    _amend_attached_tpsl(order, p, inst)


def _check_funds(engine: ExchangeEngine, account: Account, order: SimOrder, qty: Decimal, price: Decimal) -> None:
    """An amend that raises a working limit order's margin must fit the available balance (110007)."""
    if order.reduce_only or order.is_conditional or order.order_type is not OrderType.LIMIT:
        return
    needed = opening_cost(account, order.symbol, order.side, qty - order.cum_exec_qty, price)
    held = account.order_margin(order, engine.instruments[order.symbol])
    if needed > held and needed - held > account.available_balance(engine.instruments):
        raise SimError(Codes.INSUFFICIENT_BALANCE, "Insufficient available balance")


def _amend_attached_tpsl(order: SimOrder, p: Params, inst: Instrument) -> None:
    """takeProfit / stopLoss on an entry order ('0' removes them), each on the tick grid inside the price band."""
    tp = p.decimal("takeProfit")
    sl = p.decimal("stopLoss")
    if tp is None and sl is None:
        return
    for value, name in ((tp, "takeProfit"), (sl, "stopLoss")):
        if value:
            check_price(inst, value, name)
    if order.reduce_only or order.is_conditional and order.stop_order_type is not StopOrderType.STOP:
        raise params_error("params error: this order can not carry TP/SL")
    base = order.trigger_price or order.price
    check_tpsl_sides(order.side, base, tp or None, sl or None)
    if tp is not None:
        order.take_profit = tp
        order.tp_trigger_by = TriggerBy(p.choice("tpTriggerBy", TRIGGERS, default="LastPrice")) if tp else None
    if sl is not None:
        order.stop_loss = sl
        order.sl_trigger_by = TriggerBy(p.choice("slTriggerBy", TRIGGERS, default="LastPrice")) if sl else None


def _sync_position_tpsl(account: Account, order: SimOrder) -> None:
    """Amending a system TP/SL order's trigger moves the position's TP/SL field too."""
    pos = account.position(order.symbol)
    if order.stop_order_type is StopOrderType.TAKE_PROFIT:
        pos.take_profit = order.trigger_price
    elif order.stop_order_type is StopOrderType.STOP_LOSS:
        pos.stop_loss = order.trigger_price
    elif order.stop_order_type is StopOrderType.TRAILING_STOP and pos.size == ZERO:
        pos.trailing_stop = ZERO
