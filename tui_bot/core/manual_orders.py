"""The trader's order intents as the order service sends them: one place for every console backend that sends."""

from __future__ import annotations

from tui_bot.core.orders import OrderService, trigger_of
from tui_bot.domain.enums import OrderType
from tui_bot.domain.intents import AmendOrderIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.order_ids import OrderReason
from tui_bot.domain.requests import AmendRequest, OrderAck, TradingStopRequest


async def place_intent(orders: OrderService, intent: PlaceOrderIntent) -> OrderAck:
    """Set the ticket's leverage first when it names one (a refusal sends nothing), then the order."""
    if intent.leverage is not None:
        await orders.set_leverage(intent.symbol, intent.leverage)
    price = intent.price if intent.order_type is OrderType.LIMIT else None
    return await orders.place(
        intent.symbol,
        intent.side,
        intent.qty,
        order_type=intent.order_type,
        price=price,
        take_profit=intent.take_profit,
        stop_loss=intent.stop_loss,
        reason=OrderReason.MANUAL_ENTRY,
        reduce_only=intent.reduce_only,
        time_in_force=intent.time_in_force,
        trigger=trigger_of(intent),
    )


async def amend_intent(orders: OrderService, intent: AmendOrderIntent) -> OrderAck:
    """Change a working order's price and/or qty (by its orderId; its orderLinkId resolves a lost answer)."""
    request = AmendRequest(intent.symbol, intent.order_id, intent.order_link_id, qty=intent.qty, price=intent.price)
    return await orders.amend(request)


async def trading_stop_intent(orders: OrderService, intent: TradingStopIntent) -> None:
    """Set the position's TP and/or SL on the exchange (trading-stop)."""
    await orders.set_trading_stop(
        TradingStopRequest(intent.symbol, take_profit=intent.take_profit, stop_loss=intent.stop_loss)
    )
