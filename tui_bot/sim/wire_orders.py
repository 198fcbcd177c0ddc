"""Bybit v5 wire dicts of orders and executions (REST rows and private WS items), for sim.wire to hand out."""

from __future__ import annotations

from tui_bot.domain.models import Execution, Instrument
from tui_bot.sim.records import AnyOrder
from tui_bot.sim.wire_account import fmt_amount, fmt_price, fmt_qty

Wire = dict[str, object]


def _order_fees(o: AnyOrder, inst: Instrument) -> Wire:
    """Fill-derived order fields (avgPrice "" until the first fill; cumFeeDetail {} when no fee)."""
    return {
        "avgPrice": "" if o.cum_exec_qty == 0 else fmt_price(o.avg_price, inst),
        "leavesQty": fmt_qty(o.leaves_qty, inst),
        "leavesValue": fmt_amount(o.leaves_qty * o.price),
        "cumExecQty": fmt_qty(o.cum_exec_qty, inst),
        "cumExecValue": fmt_amount(o.cum_exec_value),
        "cumExecFee": fmt_amount(o.cum_exec_fee),
        "cumFeeDetail": {inst.quote_coin: fmt_amount(o.cum_exec_fee)} if o.cum_exec_fee else {},
    }


def _order_triggers(o: AnyOrder, inst: Instrument) -> Wire:
    """Conditional and TP/SL order fields ("" for unused enums, "0" for unset prices)."""
    return {
        "stopOrderType": o.stop_order_type.value,
        "triggerPrice": fmt_price(o.trigger_price, inst),
        "takeProfit": fmt_price(o.take_profit, inst),
        "stopLoss": fmt_price(o.stop_loss, inst),
        "tpslMode": o.tpsl_mode.value if o.tpsl_mode else "",
        "tpLimitPrice": fmt_price(o.tp_limit_price, inst),
        "slLimitPrice": fmt_price(o.sl_limit_price, inst),
        "tpTriggerBy": o.tp_trigger_by.value if o.tp_trigger_by else "",
        "slTriggerBy": o.sl_trigger_by.value if o.sl_trigger_by else "",
        "triggerDirection": o.trigger_direction,
        "triggerBy": o.trigger_by.value if o.trigger_by else "",
    }


_ORDER_CONSTANTS: Wire = {
    "blockTradeId": "",
    "isLeverage": "",
    "orderIv": "",
    "marketUnit": "",
    "slippageToleranceType": "UNKNOWN",
    "slippageTolerance": "0",
    "ocoTriggerBy": "UNKNOWN",
    "placeType": "",
    "smpType": "None",
    "smpGroup": 0,
    "smpOrderId": "",
    "rpiTakerAccess": False,
    "rpiMatchedQty": "0",
}


def order_to_wire(o: AnyOrder, inst: Instrument, *, ws: bool) -> Wire:
    """The order object (§3.9): REST adds extraFees (order/history lists it, "" for linear), WS adds
    category, feeCurrency, brokerOrderPrice, closedPnl; neither has spot's basePrice."""
    wire: Wire = {
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "parentOrderLinkId": o.parent_order_link_id,
        "symbol": o.symbol,
        "price": fmt_price(o.price, inst),
        "qty": fmt_qty(o.qty, inst),
        "side": o.side.value,
        "positionIdx": o.position_idx,
        "orderStatus": o.status.value,
        "createType": o.create_type.value,
        "cancelType": o.cancel_type.value,
        "rejectReason": o.reject_reason.value,
        **_order_fees(o, inst),
        "timeInForce": o.time_in_force.value,
        "orderType": o.order_type.value,
        **_order_triggers(o, inst),
        "lastPriceOnCreated": fmt_price(o.last_price_on_created, inst),
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": o.close_on_trigger,
        "createdTime": str(o.created_time),
        "updatedTime": str(o.updated_time),
        **_ORDER_CONSTANTS,
    }
    if ws:
        wire.update(category="linear", feeCurrency="", brokerOrderPrice="", closedPnl=fmt_amount(o.closed_pnl))
    else:
        wire["extraFees"] = ""
    return wire


def execution_to_wire(e: Execution, inst: Instrument, *, ws: bool, category: str = "linear") -> Wire:
    """An execution: REST list item (§3.11, execFeeV2) or WS item (§6.5, category/execPnl)."""
    wire: Wire = {
        "symbol": e.symbol,
        "orderId": e.order_id,
        "orderLinkId": e.order_link_id,
        "side": e.side.value,
        "orderPrice": fmt_price(e.order_price, inst),
        "orderQty": fmt_qty(e.order_qty, inst),
        "leavesQty": fmt_qty(e.leaves_qty, inst),
        "createType": e.create_type.value,
        "orderType": e.order_type.value if e.order_type else "UNKNOWN",
        "stopOrderType": e.stop_order_type.value,
        "execFee": fmt_amount(e.exec_fee),
        "execId": e.exec_id,
        "execPrice": fmt_price(e.exec_price, inst),
        "execQty": fmt_qty(e.exec_qty, inst),
        "execType": e.exec_type.value,
        "execValue": fmt_amount(e.exec_value),
        "execTime": str(e.exec_time),
        "feeCurrency": "",
        "isMaker": e.is_maker,
        "feeRate": fmt_amount(e.fee_rate),
        "markPrice": fmt_price(e.mark_price, inst),
        "indexPrice": fmt_price(e.index_price, inst),
        "closedSize": fmt_qty(e.closed_size, inst),
        "seq": e.seq,
        "extraFees": "",
        "blockTradeId": "",
        "tradeIv": "",
        "markIv": "",
        "underlyingPrice": "",
    }
    if ws:
        wire.update(category=category, isLeverage="", execPnl=fmt_amount(e.exec_pnl), marketUnit="")
    else:
        wire["execFeeV2"] = ""
    return wire
