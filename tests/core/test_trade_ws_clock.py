"""After the exchange's clock jumps, an order over the trade WebSocket refused with 10002 (its timestamp outside the
receive window) resyncs the clock and is sent once more under the same orderLinkId, as REST does: never twice
more, never as a second order. The exchange's clock-skew fault makes the jump; its trade socket is watched."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.core.conftest import sim_of, wait_for
from tests.golden import assert_matches_golden
from tests.sim.ws_helpers import market_order, trade_call, trade_ws
from tui_bot.domain.enums import Side
from tui_bot.exchange.bybit.parse import decode_trade
from tui_bot.exchange.errors import RetryableError
from tui_bot.runtime import Runtime
from tui_bot.sim.admin import apply_fault
from tui_bot.sim.connection import Peer
from tui_bot.sim.server import SimExchange
from tui_bot.sim.ws_request import WsRequest

BTC = "BTCUSDT"
JUMP_MS = 30_000


def watch_order_creates(sim: SimExchange, *, jump_each_ms: int = 0) -> list[str]:
    """The orderLinkId of every order.create the exchange's trade socket receives (its clock jumping jump_each_ms
    ahead before each, when asked)."""
    seen: list[str] = []
    handle = sim.trade.handle

    def watched(peer: Peer, request: WsRequest) -> None:
        if request.op == "order.create":
            seen.append(request.args[0].get("orderLinkId", ""))
            sim.clock.skew_ms += jump_each_ms
        handle(peer, request)

    sim.trade.handle = watched  # type: ignore[method-assign]
    return seen


def orders_with_link(sim: SimExchange, link: str) -> list[Any]:
    return [o for o in sim.engine.accounts[sim.api_key].orders.values() if o.order_link_id == link]


async def test_a_10002_is_retried_once_after_a_clock_resync_under_the_same_order_link_id(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await wait_for(lambda: runtime.client.trade_ready)
    seen = watch_order_creates(sim)
    apply_fault(sim, "clock-skew", {"ms": JUMP_MS})
    ack = await runtime.orders.place(BTC, Side.BUY, Decimal("0.010"))
    assert len(seen) == 2 and seen[0] == seen[1] == ack.order_link_id, seen
    assert [o.order_id for o in orders_with_link(sim, ack.order_link_id)] == [ack.order_id], "one order"
    assert abs(runtime.client.rest.clock_offset_ms - JUMP_MS) < 1000
    await wait_for(lambda: runtime.engine.state.positions.get(BTC) is not None)
    assert runtime.engine.state.positions[BTC].size == Decimal("0.010")


async def test_a_second_10002_is_the_callers_and_nothing_was_placed(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await wait_for(lambda: runtime.client.trade_ready)
    seen = watch_order_creates(sim, jump_each_ms=JUMP_MS)
    with pytest.raises(RetryableError) as refused:
        await runtime.orders.place(BTC, Side.BUY, Decimal("0.010"))
    assert refused.value.code == 10002
    assert len(seen) == 2 and seen[0] == seen[1]
    assert orders_with_link(sim, seen[0]) == []


async def test_the_exchanges_10002_reply_on_the_trade_socket_matches_the_golden_frame(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order()], "c-0003", timestamp=sim.clock.now_ms() - JUMP_MS)
    assert_matches_golden(reply, "ws_trade_order_timestamp_error")
    control = decode_trade(json.dumps(reply))
    assert (control.ret_code, control.success, control.req_id) == (10002, False, "c-0003")
    assert control.message.startswith("invalid request, please check your server timestamp or recv_window param.")
