"""The embedded exchange's liquidation (POST /_sim/liquidate): orders cancelled, the position taken over by a
CreateByLiq order without orderLinkId, whose fill is a BustTrade execution."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.ws_helpers import (
    admin_post,
    market_order,
    private_data,
    private_ws,
    public_ticker,
    recv_until,
    tick_price,
)
from tui_bot.sim.server import SimExchange


async def _long_with_take_profit(rest: SignedRest, sim: SimExchange) -> None:
    last = (await public_ticker(sim))["lastPrice"]
    body = market_order(orderLinkId="liq-entry-1", takeProfit=tick_price(last, "1.2"))
    assert (await rest.post("/v5/order/create", body))["retCode"] == 0


async def test_liquidation_cancels_orders_and_takes_the_position_over(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        await _long_with_take_profit(rest, sim)
        await recv_until(ws, lambda f: f.get("topic") == "wallet")
        bust = tick_price((await public_ticker(sim))["lastPrice"], "0.9")
        status, text = await admin_post(sim, "/liquidate", {"symbol": "BTCUSDT", "price": bust})
        assert status == 200, text
        cancelled, order, execution, position, _wallet = await private_data(ws, 5)
    assert [f["topic"] for f in (cancelled, order, execution, position)] == ["order", "order", "execution", "position"]
    [tp] = cancelled["data"]
    assert (tp["stopOrderType"], tp["orderStatus"], tp["cancelType"]) == (
        "TakeProfit",
        "Deactivated",
        "CancelAllBeforeLiq",
    )
    assert_matches_golden(order, "ws_order_liquidation")
    assert_matches_golden(execution, "ws_execution_liquidation")
    liq, fill = order["data"][0], execution["data"][0]
    assert (liq["createType"], liq["orderLinkId"], liq["orderStatus"], liq["side"]) == (
        "CreateByLiq",
        "",
        "Filled",
        "Sell",
    )
    assert (fill["execType"], fill["createType"], fill["orderLinkId"]) == ("BustTrade", "CreateByLiq", "")
    assert fill["orderId"] == liq["orderId"] and Decimal(fill["execPrice"]) == Decimal(bust)
    assert Decimal(fill["closedSize"]) == Decimal("0.010")
    assert Decimal(position["data"][0]["size"]) == 0 and position["data"][0]["side"] == ""


async def test_the_execution_list_and_closed_pnl_show_the_bust_trade(sim: SimExchange, rest: SignedRest) -> None:
    await _long_with_take_profit(rest, sim)
    status, text = await admin_post(sim, "/liquidate", {"symbol": "BTCUSDT"})
    assert status == 200, text
    query = {"category": "linear", "symbol": "BTCUSDT"}
    newest = (await rest.get("/v5/execution/list", query))["result"]["list"][0]
    assert (newest["execType"], newest["createType"], newest["orderLinkId"]) == ("BustTrade", "CreateByLiq", "")
    closed = (await rest.get("/v5/position/closed-pnl", query))["result"]["list"][0]
    assert (closed["execType"], closed["orderId"]) == ("BustTrade", newest["orderId"])


async def test_bad_liquidate_requests_are_refused_with_a_reason(sim: SimExchange, rest: SignedRest) -> None:
    status, text = await admin_post(sim, "/liquidate", {"symbol": "BTCUSDT"})
    assert (status, text) == (400, "bad liquidate request: no open position in BTCUSDT to liquidate")
    await _long_with_take_profit(rest, sim)
    for body, words in (
        ({"symbol": "BTCUSDT", "price": "100.05"}, "not a positive multiple of the tick size"),
        ({"symbol": "NOPEUSDT"}, "symbol invalid"),
        ({"price": "1"}, "symbol"),
    ):
        status, text = await admin_post(sim, "/liquidate", body)
        assert status == 400 and words in text, (body, text)
    position = (await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"}))["result"]["list"][0]
    assert Decimal(position["size"]) == Decimal("0.010"), "a refused liquidation changes nothing"
