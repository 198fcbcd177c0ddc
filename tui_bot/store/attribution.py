"""Whose an execution or order is: the rules, in one place.

- One of our orderLinkIds (see tui_bot.domain.order_ids) names its bot and reason.
- The exchange's own orders (position TP/SL, trailing stop, liquidation, ADL: known by execType, createType or
  stopOrderType; they carry no orderLinkId) and funding belong to the bot whose open trade in the symbol they act on
  (the holder); with no such trade, to ``external``.
- Anything else (another program's id, or none on a user order) is ``external``; its orderLinkId stays stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui_bot.domain.enums import CreateType, ExecType, StopOrderType
from tui_bot.domain.models import Execution, Order
from tui_bot.domain.order_ids import OrderReason, parse_order_id

EXTERNAL = "external"
"""The bot name of fills and trades of other programs (and of exchange orders on positions none of ours hold)."""

Holder = Callable[[str], str | None]
"""The bot holding a symbol's position (its open trade), or None."""

_BY_EXEC_TYPE = {
    ExecType.BUST_TRADE: "liquidation",
    ExecType.ADL_TRADE: "adl",
    ExecType.FUNDING: "funding",
}
_BY_CREATE_TYPE = {
    CreateType.BY_TAKE_PROFIT: "take_profit",
    CreateType.BY_PARTIAL_TAKE_PROFIT: "take_profit",
    CreateType.BY_STOP_LOSS: "stop_loss",
    CreateType.BY_PARTIAL_STOP_LOSS: "stop_loss",
    CreateType.BY_TRAILING_STOP: "trailing_stop",
    CreateType.BY_LIQ: "liquidation",
}
_BY_STOP_ORDER_TYPE = {
    StopOrderType.TAKE_PROFIT: "take_profit",
    StopOrderType.PARTIAL_TAKE_PROFIT: "take_profit",
    StopOrderType.STOP_LOSS: "stop_loss",
    StopOrderType.PARTIAL_STOP_LOSS: "stop_loss",
    StopOrderType.TRAILING_STOP: "trailing_stop",
}


@dataclass(frozen=True, slots=True)
class Attribution:
    """Whose it is and why: our id's reason, the exchange's kind ("take_profit", "liquidation", "funding", …),
    or None for another program's order."""

    bot: str
    reason: str | None


def reason_name(reason: OrderReason) -> str:
    """The stored spelling of an order reason ("take_profit", "manual_exit", …)."""
    return reason.name.lower()


def system_kind(exec_type: ExecType, create_type: CreateType, stop_order_type: StopOrderType) -> str | None:
    """What the exchange did on its own (liquidation, adl, funding, take_profit, …); None for a program's order."""
    return _BY_EXEC_TYPE.get(exec_type) or _BY_CREATE_TYPE.get(create_type) or _BY_STOP_ORDER_TYPE.get(stop_order_type)


def _attribute(order_link_id: str, symbol: str, kind: str | None, holder: Holder) -> Attribution:
    parsed = parse_order_id(order_link_id)
    if parsed is not None:
        return Attribution(parsed.bot, reason_name(parsed.reason))
    if kind is None:
        return Attribution(EXTERNAL, None)
    return Attribution(holder(symbol) or EXTERNAL, kind)


def attribute_execution(execution: Execution, holder: Holder) -> Attribution:
    """Whose an execution is (see the module's rules)."""
    kind = system_kind(execution.exec_type, execution.create_type, execution.stop_order_type)
    return _attribute(execution.order_link_id, execution.symbol, kind, holder)


def attribute_order(order: Order, holder: Holder) -> Attribution:
    """Whose an order is: ours by its id; the exchange's TP/SL made from one of our orders that order's bot (its
    parentOrderLinkId), other exchange orders the holder's; else external."""
    kind = system_kind(ExecType.TRADE, order.create_type, order.stop_order_type)
    parent = parse_order_id(order.parent_order_link_id)
    by_parent: Holder = holder if parent is None else (lambda _symbol: parent.bot)
    return _attribute(order.order_link_id, order.symbol, kind, by_parent)


def exit_reason(execution: Execution) -> str:
    """Why a reducing fill happened: our id's reason, the exchange's TP/SL/liquidation kind, or "external"."""
    parsed = parse_order_id(execution.order_link_id)
    if parsed is not None:  # a ticket order (tagged manual entry) that reduced the position is a manual exit
        return reason_name(OrderReason.MANUAL_EXIT if parsed.reason is OrderReason.MANUAL_ENTRY else parsed.reason)
    return system_kind(execution.exec_type, execution.create_type, execution.stop_order_type) or EXTERNAL
