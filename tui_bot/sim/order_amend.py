"""order/amend: change qty, price, trigger or attached TP/SL of a working order."""

from __future__ import annotations

from typing import Any

from tui_bot.domain.enums import OrderStatus, OrderType, Side, StopOrderType, TriggerBy
from tui_bot.domain.models import Order
from tui_bot.domain.numbers import ZERO
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import params_error
from tui_bot.sim.order_entry import (
    TRIGGERS,
    check_price,
    check_qty,
    check_tpsl_sides,
    check_trigger_direction,
    execute_new,
    find_order,
)
from tui_bot.sim.params import Params

_UNCHANGED = "The order remains unchanged as the parameters entered match the existing ones."


def amend_order(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, str]:
    """Apply the given fields to an open order; omitted fields stay as they are."""
    p = Params(raw)
    order = find_order(account, p)
    inst = engine.instruments[order.symbol]
    market = engine.markets[order.symbol]
    before = (order.qty, order.price, order.trigger_price, order.take_profit, order.stop_loss,
              order.trigger_by, order.tp_trigger_by, order.sl_trigger_by)
    qty = p.decimal("qty")
    if qty is not None:
        check_qty(inst, qty, order.order_type)
        if qty <= order.cum_exec_qty:
            raise params_error("params error: qty must be greater than the filled qty")
        order.qty = qty
    price = p.decimal("price")
    if price is not None and order.order_type is OrderType.LIMIT:
        check_price(inst, price)
        order.price = price
    trigger = p.decimal("triggerPrice")
    if trigger is not None and order.is_conditional:
        check_price(inst, trigger, "triggerPrice")
        by = p.choice("triggerBy", TRIGGERS, default=(order.trigger_by or TriggerBy.LAST).value)
        check_trigger_direction(order.trigger_direction, trigger, market.price_for(by), by)
        order.trigger_price = trigger
        order.trigger_by = TriggerBy(by)
        _sync_position_tpsl(account, order)
    _amend_attached_tpsl(order, p, market.last_price)
    after = (order.qty, order.price, order.trigger_price, order.take_profit, order.stop_loss,
             order.trigger_by, order.tp_trigger_by, order.sl_trigger_by)
    if after == before:
        raise params_error(_UNCHANGED)
    order.updated_time = engine.clock.now_ms()
    if order.status is not OrderStatus.UNTRIGGERED and order.order_type is OrderType.LIMIT:
        best = market.ask1_price if order.side is Side.BUY else market.bid1_price
        if (order.price - best) * order.side.sign >= 0:
            execute_new(engine, account, order)
            return {"orderId": order.order_id, "orderLinkId": order.order_link_id}
    engine.emit_order_change(account, [order])
    return {"orderId": order.order_id, "orderLinkId": order.order_link_id}


def _amend_attached_tpsl(order: Order, p: Params, last_price: object) -> None:
    """takeProfit / stopLoss on an entry order ('0' removes them)."""
    tp = p.decimal("takeProfit")
    sl = p.decimal("stopLoss")
    if tp is None and sl is None:
        return
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


def _sync_position_tpsl(account: Account, order: Order) -> None:
    """Amending a system TP/SL order's trigger moves the position's TP/SL field too."""
    pos = account.position(order.symbol)
    if order.stop_order_type is StopOrderType.TAKE_PROFIT:
        pos.take_profit = order.trigger_price
    elif order.stop_order_type is StopOrderType.STOP_LOSS:
        pos.stop_loss = order.trigger_price
    elif order.stop_order_type is StopOrderType.TRAILING_STOP and pos.size == ZERO:
        pos.trailing_stop = ZERO
