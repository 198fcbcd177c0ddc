"""Amending an order (over the trade socket and REST; a lost answer read back, never resent), closing part of a
position (rounded down to the qty step, refused below the minimum), against the embedded exchange."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.core.conftest import sim_of, wait_for
from tests.core.test_resilience import settled
from tui_bot.core.orders import OrderInvalid
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.domain.requests import AmendRequest
from tui_bot.runtime import Runtime
from tui_bot.sim import rest as sim_rest
from tui_bot.sim import ws_trade
from tui_bot.sim.records import SimOrder

BTC = "BTCUSDT"


def count_amends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every amend the exchange applies, over either path (the exchange's own handler still runs)."""
    seen: list[str] = []
    path, handler = ws_trade.OPS["order.amend"]

    def counted(engine: Any, account: Any, raw: dict[str, Any]) -> dict[str, str]:
        seen.append(raw.get("orderId") or raw.get("orderLinkId", ""))
        return handler(engine, account, raw)

    monkeypatch.setitem(ws_trade.OPS, "order.amend", (path, counted))
    monkeypatch.setitem(sim_rest.PRIVATE_POST, path, counted)
    return seen


async def resting_buy(rt: Runtime) -> tuple[SimOrder, Decimal]:
    """A limit buy 10 % under the market (it rests), as the exchange holds it, and the instrument's tick."""
    await settled(rt)
    inst = rt.engine.state.instruments[BTC]
    last = rt.engine.state.last_price(BTC)
    assert last is not None
    price = floor_to_step(last * Decimal("0.9"), inst.tick_size)
    ack = await rt.orders.place(BTC, Side.BUY, Decimal("0.010"), order_type=OrderType.LIMIT, price=price)
    sim = sim_of(rt)
    return sim.engine.accounts[sim.api_key].orders[ack.order_id], inst.tick_size


@pytest.mark.parametrize("via", ["ws", "rest"])
async def test_an_amend_changes_price_and_qty_and_the_order_stream_shows_it(
    runtime: Runtime, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.orders.via = via
    order, tick = await resting_buy(runtime)
    seen = count_amends(monkeypatch)
    new_price = order.price - 10 * tick
    ack = await runtime.orders.amend(
        AmendRequest(BTC, order.order_id, order.order_link_id, qty=Decimal("0.020"), price=new_price)
    )
    assert (ack.order_id, ack.order_link_id) == (order.order_id, order.order_link_id)
    assert (order.price, order.qty, order.status) == (new_price, Decimal("0.020"), OrderStatus.NEW)
    assert seen == [order.order_id]
    state = runtime.engine.state
    await wait_for(lambda: state.open_orders[order.order_id].price == new_price)
    assert state.open_orders[order.order_id].qty == Decimal("0.020")


@pytest.mark.parametrize("via", ["ws", "rest"])
async def test_an_amend_whose_answer_is_lost_is_read_back_not_resent(
    runtime: Runtime, via: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.orders.via = via
    order, tick = await resting_buy(runtime)
    assert runtime.client.trade is not None
    runtime.client.trade.request_timeout = 0.5
    seen = count_amends(monkeypatch)
    sim_of(runtime).faults.lost_replies = 1
    new_price = order.price - 5 * tick
    ack = await runtime.orders.amend(AmendRequest(BTC, order.order_id, order.order_link_id, price=new_price))
    assert sim_of(runtime).faults.lost_replies == 0, "the fault must have fired"
    assert ack.order_id == order.order_id and order.price == new_price
    assert runtime.orders.resolved_by_query == 1
    assert seen == [order.order_id], "applied once, never sent again"


async def test_part_of_a_position_closes_rounded_down_and_a_part_below_the_minimum_is_refused(
    runtime: Runtime,
) -> None:
    await settled(runtime)
    await runtime.orders.place(BTC, Side.BUY, Decimal("0.007"))
    state = runtime.engine.state
    await wait_for(lambda: BTC in state.positions and state.positions[BTC].size == Decimal("0.007"))
    await runtime.orders.close_position(BTC, percent=50)  # 0.0035 rounds down to 0.003
    await wait_for(lambda: state.positions[BTC].size == Decimal("0.004"))
    sim = sim_of(runtime)
    closing = [o for o in sim.engine.accounts[sim.api_key].orders.values() if o.side is Side.SELL]
    assert [(o.qty, o.reduce_only, o.order_type) for o in closing] == [(Decimal("0.003"), True, OrderType.MARKET)]
    await runtime.orders.close_position(BTC, percent=25)  # 0.001: the minimum, allowed
    await wait_for(lambda: state.positions[BTC].size == Decimal("0.003"))
    with pytest.raises(OrderInvalid, match=r"25 % of 0.003 is 0.000, below the minimum quantity 0.001"):
        await runtime.orders.close_position(BTC, percent=25)
    assert sim.engine.accounts[sim.api_key].positions[BTC].size == Decimal("0.003")
    assert len([o for o in sim.engine.accounts[sim.api_key].orders.values() if o.side is Side.SELL]) == 2
