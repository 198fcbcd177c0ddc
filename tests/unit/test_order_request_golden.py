"""The order/create bodies the client sends for the ticket's extras match golden frames written from bybit-v5.md."""

from __future__ import annotations

from decimal import Decimal

from tests.golden import load_fixture
from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy
from tui_bot.domain.requests import OrderRequest
from tui_bot.exchange.bybit.order_params import order_params


def test_a_conditional_entry_sends_trigger_price_direction_and_by() -> None:
    request = OrderRequest(
        "BTCUSDT",
        Side.BUY,
        OrderType.MARKET,
        Decimal("0.010"),
        "tb-me-0001",
        take_profit=Decimal("104000.0"),
        stop_loss=Decimal("99000.0"),
        trigger_price=Decimal("101000.0"),
        trigger_direction=1,
        trigger_by=TriggerBy.MARK,
    )
    assert order_params(request) == load_fixture("request_order_create_conditional")


def test_a_post_only_reduce_only_limit_sends_time_in_force_and_reduce_only() -> None:
    request = OrderRequest(
        "ETHUSDT",
        Side.SELL,
        OrderType.LIMIT,
        Decimal("0.50"),
        "tb-me-0002",
        price=Decimal("3050.25"),
        time_in_force=TimeInForce.POST_ONLY,
        reduce_only=True,
    )
    assert order_params(request) == load_fixture("request_order_create_limit_reduce_only")
