"""Every REST response the exchange emits has the shape of its golden frame; bad input never breaks it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import (
    BTC,
    ETH,
    client_for,
    drive_to,
    executions,
    extra_client,
    ok,
    order,
    place,
    px,
)
from tui_bot.sim.server import SimExchange
from tui_bot.sim.stepper import settle_funding


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    """A signed client on the manually stepped exchange."""
    client = client_for(manual_sim)
    yield client
    await client.close()


def golden(resp: dict[str, Any], fixture: str) -> dict[str, Any]:
    """Assert success and the fixture's shape; return the result."""
    result = ok(resp)
    assert_matches_golden(resp, fixture)
    return result


async def test_market_data_shapes(mrest: SignedRest, manual_sim: SimExchange) -> None:
    await manual_sim.step(3)
    golden(await mrest.get("/v5/market/time", signed=False), "rest_market_time")
    insts = golden(
        await mrest.get("/v5/market/instruments-info", {"category": "linear"}, signed=False), "rest_instruments_info"
    )
    assert len(insts["list"]) == 3 and insts["nextPageCursor"] == ""
    one = golden(
        await mrest.get("/v5/market/instruments-info", {"category": "linear", "symbol": ETH}, signed=False),
        "rest_instruments_info",
    )
    assert [i["symbol"] for i in one["list"]] == [ETH]
    tickers = golden(await mrest.get("/v5/market/tickers", {"category": "linear"}, signed=False), "rest_tickers")
    assert {t["symbol"] for t in tickers["list"]} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    for interval in ("1", "15", "60", "D", "W", "M"):
        params = {"category": "linear", "symbol": BTC, "interval": interval, "limit": 3}
        kline = golden(await mrest.get("/v5/market/kline", params, signed=False), "rest_kline")
        assert len(kline["list"]) == 3 and all(len(row) == 7 for row in kline["list"])


async def test_order_and_account_shapes(mrest: SignedRest, manual_sim: SimExchange) -> None:
    market = manual_sim.engine.markets[BTC]
    last = market.last_price
    flat = golden(await mrest.get("/v5/position/list", {"category": "linear", "symbol": BTC}), "rest_position_list")
    assert flat["list"][0]["side"] == "" and flat["list"][0]["seq"] == -1
    golden(await mrest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}), "rest_wallet_balance")
    golden(await mrest.get("/v5/account/fee-rate", {"category": "linear", "symbol": BTC}), "rest_fee_rate")
    assert_matches_golden(
        await mrest.post(
            "/v5/position/set-leverage",
            {"category": "linear", "symbol": BTC, "buyLeverage": "20", "sellLeverage": "20"},
        ),
        "rest_envelope_ok",
    )
    flat = golden(await mrest.get("/v5/position/list", {"category": "linear", "symbol": BTC}), "rest_position_list")
    assert (flat["list"][0]["size"], flat["list"][0]["leverage"]) == ("0", "20"), "a flat symbol's leverage"

    ack = golden(
        await mrest.post("/v5/order/create", order("Buy", qty="0.010", orderLinkId="shape-mkt")), "rest_order_create"
    )
    assert ack["orderLinkId"] == "shape-mkt"
    assert_matches_golden(
        await mrest.post(
            "/v5/position/trading-stop",
            {
                "category": "linear",
                "symbol": BTC,
                "tpslMode": "Full",
                "positionIdx": 0,
                "takeProfit": px(last * Decimal("1.1")),
                "stopLoss": px(last * Decimal("0.9")),
                "trailingStop": "500",
            },
        ),
        "rest_envelope_ok",
    )
    await place(
        mrest,
        order(
            "Buy",
            "Limit",
            "0.002",
            price=px(last * Decimal("0.95")),
            orderLinkId="shape-lmt",
            takeProfit=px(last * Decimal("1.05")),
            stopLoss=px(last * Decimal("0.9")),
        ),
    )
    await place(
        mrest, order("Buy", triggerPrice=px(last * Decimal("1.04")), triggerDirection=1, orderLinkId="shape-cond")
    )
    await place(mrest, order("Buy", "Limit", "0.001", price=px(last * Decimal("0.94")), orderLinkId="shape-amend"))
    amended = golden(
        await mrest.post(
            "/v5/order/amend",
            {"category": "linear", "symbol": BTC, "orderLinkId": "shape-amend", "price": px(last * Decimal("0.93"))},
        ),
        "rest_order_amend",
    )
    assert amended["orderLinkId"] == "shape-amend"

    params = {"category": "linear", "symbol": BTC}
    open_rows = golden(await mrest.get("/v5/order/realtime", params), "rest_order_realtime")["list"]
    kinds = sorted(o["stopOrderType"] for o in open_rows)
    assert kinds == ["", "", "Stop", "StopLoss", "TakeProfit", "TrailingStop"]
    golden(await mrest.get("/v5/order/realtime", {**params, "orderFilter": "StopOrder"}), "rest_order_realtime")
    closed = golden(await mrest.get("/v5/order/realtime", {**params, "openOnly": 1}), "rest_order_realtime")["list"]
    assert [o["orderLinkId"] for o in closed] == ["shape-mkt"]
    golden(await mrest.get("/v5/order/history", params), "rest_order_realtime")

    cancel = golden(await mrest.post("/v5/order/cancel", {**params, "orderLinkId": "shape-amend"}), "rest_order_cancel")
    assert cancel["orderLinkId"] == "shape-amend"
    every = golden(await mrest.post("/v5/order/cancel-all", {**params, "orderFilter": "Order"}), "rest_cancel_all")
    assert [o["orderLinkId"] for o in every["list"]] == ["shape-lmt"] and every["success"] == "1"
    golden(
        await mrest.post("/v5/order/cancel-all", {**params, "orderFilter": "StopOrder", "stopOrderType": "Stop"}),
        "rest_cancel_all",
    )
    empty = golden(
        await mrest.post("/v5/order/cancel-all", {"category": "linear", "settleCoin": "USDT", "orderFilter": "Order"}),
        "rest_cancel_all",
    )
    assert empty["list"] == []

    settle_funding(manual_sim.engine)
    drive_to(manual_sim, BTC, last + 40)
    opened = golden(
        await mrest.get("/v5/position/list", {"category": "linear", "settleCoin": "USDT"}), "rest_position_list"
    )
    assert [p["side"] for p in opened["list"]] == ["Buy"]
    golden(
        await mrest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED", "coin": "USDT"}), "rest_wallet_balance"
    )
    golden(await mrest.post("/v5/order/create", order("Sell", qty="0.010", reduceOnly=True)), "rest_order_create")
    golden(await mrest.get("/v5/position/list", params), "rest_position_list")
    pnl = golden(await mrest.get("/v5/position/closed-pnl", params), "rest_closed_pnl")
    assert len(pnl["list"]) == 1
    fills = golden(await mrest.get("/v5/execution/list", params), "rest_execution_list")
    assert sorted(e["execType"] for e in fills["list"]) == ["Funding", "Trade", "Trade"]
    golden(await mrest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}), "rest_wallet_balance")
    golden(await mrest.get("/v5/account/fee-rate", {"category": "linear"}), "rest_fee_rate")


# -- robustness ------------------------------------------------------------------------------------

CREATE = "/v5/order/create"
BAD_POSTS: list[tuple[str, Any, int]] = [
    (CREATE, "not json at all", 10001),
    (CREATE, "[1, 2, 3]", 10001),
    (CREATE, "42", 10001),
    (CREATE, "null", 10001),
    (CREATE, '"a string"', 10001),
    (CREATE, "", 10001),
    (CREATE, '{"category": "linear", "symbol": "BTC\u00e9USDT"}', 10001),
    (CREATE, {"category": 5}, 10001),
    (CREATE, order(symbol=["BTCUSDT"]), 10001),
    (CREATE, order(qty="NaN"), 10001),
    (CREATE, order(qty="-1"), 10001),
    (CREATE, order(qty="1e999999"), 10001),
    (CREATE, order(qty="abc"), 10001),
    (CREATE, order(qty={"v": "1"}), 10001),
    (CREATE, order("Buy", "Limit", "0.001", price="Infinity"), 10001),
    (CREATE, order("Buy", "Limit", "0.001", price="0"), 10001),
    (CREATE, order("Buy", "Limit", "0.001", price="1999999.800000000000000000000000000001"), 10001),
    (CREATE, order(triggerPrice="120000.0", triggerDirection="1"), 10001),
    (CREATE, order(triggerPrice="120000.0", triggerDirection=7), 10001),
    (CREATE, order(triggerPrice="120000.0"), 10001),
    (CREATE, order(reduceOnly="yes"), 10001),
    (CREATE, order(timeInForce="GTX"), 10001),
    (CREATE, order(orderType="Stop"), 10001),
    (CREATE, order(orderLinkId=123), 10001),
    (CREATE, order(takeProfit="abc"), 10001),
    (CREATE, order(positionIdx=1.5), 10001),
    (CREATE, order(positionIdx="0"), 10001),
    ("/v5/order/amend", {}, 10001),
    ("/v5/order/amend", {"category": "linear", "symbol": BTC, "orderId": 7}, 10001),
    ("/v5/order/amend", {"category": "linear", "symbol": BTC, "orderLinkId": "nope", "qty": "abc"}, 110001),
    ("/v5/order/cancel", {"category": "linear", "symbol": BTC, "orderId": ["x"]}, 10001),
    ("/v5/order/cancel-all", {"category": "linear"}, 10001),
    ("/v5/order/cancel-all", {"category": "linear", "symbol": BTC, "orderFilter": "Bogus"}, 10001),
    (
        "/v5/position/set-leverage",
        {"category": "linear", "symbol": BTC, "buyLeverage": "abc", "sellLeverage": "abc"},
        10001,
    ),
    (
        "/v5/position/set-leverage",
        {"category": "linear", "symbol": BTC, "buyLeverage": "0", "sellLeverage": "0"},
        10001,
    ),
    (
        "/v5/position/set-leverage",
        {"category": "linear", "symbol": BTC, "buyLeverage": "1000", "sellLeverage": "1000"},
        10001,
    ),
    (
        "/v5/position/set-leverage",
        {"category": "linear", "symbol": BTC, "buyLeverage": "5", "sellLeverage": "6"},
        10001,
    ),
    ("/v5/position/trading-stop", {"category": "linear", "symbol": BTC, "tpslMode": "Half", "positionIdx": 0}, 10001),
    (
        "/v5/position/trading-stop",
        {"category": "linear", "symbol": BTC, "tpslMode": "Full", "positionIdx": 0, "trailingStop": "1e40"},
        10001,
    ),
    (
        "/v5/position/trading-stop",
        {"category": "linear", "symbol": BTC, "tpslMode": "Full", "positionIdx": 0, "takeProfit": "-5"},
        10001,
    ),
]
BAD_GETS: list[tuple[str, dict[str, Any], int]] = [
    ("/v5/order/realtime", {"category": "linear", "symbol": BTC, "limit": "abc"}, 10001),
    ("/v5/order/realtime", {"category": "linear", "symbol": BTC, "limit": 0}, 10001),
    ("/v5/order/realtime", {"category": "linear", "symbol": BTC, "openOnly": 9}, 10001),
    ("/v5/order/realtime", {"category": "linear"}, 10001),
    ("/v5/order/history", {"category": "linear", "cursor": "zzzz"}, 10001),
    ("/v5/order/history", {"category": "linear", "cursor": "b2Zmc2V0PWFiYw"}, 10001),
    ("/v5/execution/list", {"category": "linear", "startTime": "abc"}, 10001),
    ("/v5/execution/list", {"category": "linear", "startTime": 2000000000000, "endTime": 1000}, 10001),
    ("/v5/execution/list", {"category": "linear", "limit": 100000}, 10001),
    ("/v5/position/list", {"category": "futures", "symbol": BTC}, 10001),
    ("/v5/position/list", {"category": "spot"}, 10001),
    ("/v5/position/closed-pnl", {"category": "option"}, 10001),
    ("/v5/order/realtime", {"category": "Linear", "symbol": BTC}, 10001),
    ("/v5/position/list", {"category": "linear"}, 10001),
    ("/v5/position/list", {"category": "linear", "symbol": "btcusdt"}, 10001),
    ("/v5/position/closed-pnl", {"category": "linear", "limit": -3}, 10001),
    ("/v5/account/wallet-balance", {"accountType": "SPOT"}, 10001),
    ("/v5/account/wallet-balance", {}, 10001),
    ("/v5/account/fee-rate", {"category": "linear", "symbol": "NOPEUSDT"}, 10001),
]
BAD_PUBLIC: list[tuple[str, dict[str, Any]]] = [
    ("/v5/market/kline", {"category": "linear", "symbol": BTC, "interval": "7"}),
    ("/v5/market/kline", {"category": "linear", "symbol": "NOPEUSDT", "interval": "1"}),
    ("/v5/market/kline", {"category": "linear", "symbol": BTC, "interval": "1", "limit": -1}),
    ("/v5/market/kline", {"category": "linear", "symbol": BTC, "interval": "1", "start": "soon"}),
    ("/v5/market/kline", {"category": "linear", "interval": "1"}),
    ("/v5/market/instruments-info", {"category": "linear", "limit": "x"}),
    ("/v5/market/instruments-info", {}),
    ("/v5/market/tickers", {"category": "perpetual"}),
    ("/v5/market/kline", {"category": "option", "symbol": BTC, "interval": "1"}),
    ("/v5/market/tickers", {"category": "linear", "symbol": "X"}),
]


async def _bad_post(client: SignedRest, path: str, body: Any) -> dict[str, Any]:
    payload = body if isinstance(body, str) else json.dumps(body)
    return await client.post(path, payload)


async def test_malformed_requests_never_break_the_server(mrest: SignedRest, manual_sim: SimExchange) -> None:
    clients: list[SignedRest] = []
    try:
        outcomes = []
        for index, (path, body, code) in enumerate(BAD_POSTS):
            if index % 8 == 0:
                clients.append(extra_client(manual_sim, f"BURSTKEY{index:04d}"))
                ok(await clients[-1].post(CREATE, order("Buy")))
            outcomes.append((path, body, code, await _bad_post(clients[-1], path, body)))
        for path, params, code in BAD_GETS:
            outcomes.append((path, params, code, await mrest.get(path, params)))
        for path, params in BAD_PUBLIC:
            outcomes.append((path, params, 10001, await mrest.get(path, params, signed=False)))
        wrong = [(p, b, c, r["retCode"], r["retMsg"]) for p, b, c, r in outcomes if r["retCode"] != c]
        assert not wrong, "unexpected answers:\n" + "\n".join(map(repr, wrong))
        for *_, resp in outcomes:
            assert resp["result"] == {} and resp["retMsg"]
            assert_matches_golden(resp, "rest_envelope_error")
    finally:
        for client in clients:
            await client.close()

    async with mrest.session.get(f"{mrest.base}/v5/order/realtime?category=linear&symbol=BTCUSDT") as http:
        unsigned = await http.json()
    assert unsigned["retCode"] == 10003 and unsigned["result"] == {}
    garbled = await mrest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp="not-a-number")
    assert garbled["retCode"] == 10001 and "X-BAPI-TIMESTAMP" in garbled["retMsg"] and garbled["result"] == {}

    fresh = extra_client(manual_sim, "AFTERBURST0001")
    try:
        ok(await fresh.post(CREATE, order("Buy", orderLinkId="after-burst")))
        [fill] = await executions(fresh, orderLinkId="after-burst")
        assert Decimal(fill["execQty"]) == Decimal("0.010")
        golden(await fresh.get("/v5/position/list", {"category": "linear", "symbol": BTC}), "rest_position_list")
    finally:
        await fresh.close()
    golden(await mrest.get("/v5/market/time", signed=False), "rest_market_time")
