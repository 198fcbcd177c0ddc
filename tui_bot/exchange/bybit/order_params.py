"""Bybit v5 request bodies for order create and amend (numbers as strings, as Bybit requires)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import OrderType
from tui_bot.domain.numbers import plain
from tui_bot.domain.requests import AmendRequest, OrderRequest

CATEGORY = "linear"


def _num(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def order_params(req: OrderRequest) -> dict[str, Any]:
    """order/create body for a request (strings for numbers, as Bybit requires)."""
    params: dict[str, Any] = {
        "category": CATEGORY,
        "symbol": req.symbol,
        "side": req.side.value,
        "orderType": req.order_type.value,
        "qty": plain(req.qty),
        "orderLinkId": req.order_link_id,
    }
    if req.order_type is OrderType.LIMIT:
        params["price"] = _num(req.price)
    if req.time_in_force is not None:
        params["timeInForce"] = req.time_in_force.value
    if req.take_profit:
        params.update(takeProfit=_num(req.take_profit), tpTriggerBy=req.tp_trigger_by.value)
    if req.stop_loss:
        params.update(stopLoss=_num(req.stop_loss), slTriggerBy=req.sl_trigger_by.value)
    if req.reduce_only:
        params["reduceOnly"] = True
    if req.close_on_trigger:
        params["closeOnTrigger"] = True
    if req.trigger_price:
        params.update(
            triggerPrice=_num(req.trigger_price), triggerDirection=req.trigger_direction, triggerBy=req.trigger_by.value
        )
    return params


def amend_params(req: AmendRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"category": CATEGORY, "symbol": req.symbol}
    if req.order_id:
        params["orderId"] = req.order_id
    else:
        params["orderLinkId"] = req.order_link_id
    for key, value in (
        ("qty", req.qty),
        ("price", req.price),
        ("takeProfit", req.take_profit),
        ("stopLoss", req.stop_loss),
        ("triggerPrice", req.trigger_price),
    ):
        if value is not None:
            params[key] = plain(value)
    return params
