"""One test per retCode over the raw signed REST client: code, meaningful retMsg, error envelope."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.sim.rest_helpers import (
    BTC,
    START_BALANCE,
    assert_error,
    executions,
    extra_client,
    get_order,
    ok,
    order,
    place,
    position,
    px,
    stop_orders,
    usdt,
)
from tui_bot.sim.server import SimExchange

CREATE = "/v5/order/create"


def last(sim: SimExchange, symbol: str = BTC) -> Decimal:
    return sim.engine.markets[symbol].last_price


def resting_buy(sim: SimExchange, **extra: Any) -> dict[str, Any]:
    """A limit buy 10% under the market (it rests)."""
    return order("Buy", "Limit", "0.001", price=px(last(sim) * Decimal("0.9")), **extra)


async def open_orders(rest: SignedRest) -> list[dict[str, Any]]:
    return ok(await rest.get("/v5/order/realtime", {"category": "linear", "symbol": BTC}))["list"]


# -- authentication: 10003 / 10004 / 10002 ---------------------------------------------------------


async def test_10003_unknown_api_key(rest: SignedRest) -> None:
    resp = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, api_key="UNKNOWNKEY123")
    assert_error(resp, 10003, r"api key is invalid")
    resp = await rest.post(CREATE, order(), api_key="UNKNOWNKEY123")
    assert_error(resp, 10003, r"api key is invalid")


async def test_10004_wrong_secret(rest: SignedRest) -> None:
    ts = int(time.time() * 1000)
    resp = await rest.get(
        "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, secret="not-the-secret", timestamp=ts
    )
    assert_error(resp, 10004, r"error sign")
    assert resp["retMsg"] == (
        "Error sign, please check your signature generation algorithm: origin_string[***accountType=UNIFIED]"
    )
    resp = await rest.post(CREATE, order(), secret="not-the-secret")
    assert_error(resp, 10004, r"error sign")
    assert rest.api_key not in resp["retMsg"] and resp["retMsg"].endswith(f"[***{json.dumps(order())}]")
    assert await executions(rest, symbol=BTC) == []


async def test_10004_body_differs_from_signed_payload(rest: SignedRest, sim: SimExchange) -> None:
    signed = json.dumps(order(qty="0.001"))
    sent = json.dumps(order(qty="0.002"))
    headers = rest.sign_headers(signed)
    async with rest.session.post(f"{rest.base}{CREATE}", data=sent, headers=headers) as http:
        assert http.status == 200
        resp = await http.json()
    assert_error(resp, 10004, r"error sign")
    assert f"origin_string[***{sent}]" in resp["retMsg"] and rest.api_key not in resp["retMsg"]
    assert await open_orders(rest) == []
    assert await executions(rest, symbol=BTC) == []


async def test_10004_query_differs_from_signed_string(rest: SignedRest) -> None:
    headers = rest.sign_headers("category=linear&symbol=BTCUSDT")
    url = f"{rest.base}/v5/position/list?symbol=BTCUSDT&category=linear"
    async with rest.session.get(url, headers=headers) as http:
        resp = await http.json()
    assert_error(resp, 10004, r"error sign")


async def test_10002_timestamp_too_old(rest: SignedRest) -> None:
    stale = int(time.time() * 1000) - 6000
    resp = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp=stale)
    assert_error(resp, 10002, r"recv_window")
    assert f"req_timestamp[{stale}]" in resp["retMsg"] and "recv_window[5000]" in resp["retMsg"]
    resp = await rest.post(CREATE, order(), timestamp=stale)
    assert_error(resp, 10002, r"server timestamp")
    assert await executions(rest, symbol=BTC) == []
    wider = await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp=stale, recv_window=10000)
    ok(wider)


async def test_10002_timestamp_more_than_one_second_ahead(rest: SignedRest) -> None:
    ahead = int(time.time() * 1000) + 1500
    resp = await rest.post(CREATE, order(), timestamp=ahead)
    assert_error(resp, 10002, r"recv_window")
    assert f"req_timestamp[{ahead}]" in resp["retMsg"]
    slightly = int(time.time() * 1000) + 300
    ok(await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp=slightly))


async def test_10002_server_clock_skew(rest: SignedRest, sim: SimExchange) -> None:
    sim.clock.skew_ms = 20_000
    resp = await rest.get("/v5/position/list", {"category": "linear", "symbol": BTC})
    assert_error(resp, 10002, r"recv_window")
    sim.clock.skew_ms = 0
    ok(await rest.get("/v5/position/list", {"category": "linear", "symbol": BTC}))


# -- 10001 parameter errors --------------------------------------------------------------------------

BAD_CREATES: list[tuple[str, Any, str]] = [
    ("missing-symbol", {k: v for k, v in order().items() if k != "symbol"}, r"symbol is required"),
    ("bad-side", order(side="Long"), r"side invalid"),
    ("lowercase-side", order(side="buy"), r"side invalid"),
    ("qty-json-number", {**order(), "qty": 0.01}, r"qty invalid type"),
    ("qty-underscore", order(qty="0.00_1"), r"qty invalid"),
    ("qty-spaces", order(qty=" 0.001 "), r"qty invalid"),
    ("qty-exponent", order(qty="1e-3"), r"qty invalid"),
    ("qty-plus", order(qty="+0.001"), r"qty invalid"),
    ("price-nan", order("Buy", "Limit", "0.001", price="NaN"), r"price invalid"),
    ("qty-off-step", order(qty="0.0015"), r"qtyStep"),
    ("qty-below-min", order(qty="0.0001"), r"minimum limit"),
    ("price-off-tick", order("Buy", "Limit", "0.001", price="100000.05"), r"price must be a multiple of tickSize"),
    ("limit-without-price", order("Buy", "Limit", "0.001"), r"price is required"),
    ("link-id-37-chars", order(orderLinkId="a" * 37), r"orderLinkId"),
    ("link-id-bang", order(orderLinkId="bad!id!"), r"orderLinkId"),
    ("category-spot", order() | {"category": "spot"}, r"category spot"),
    ("position-idx-1", order(positionIdx=1), r"position idx not match position mode"),
    ("unknown-symbol", order(symbol="BTCUSDX"), r"symbol invalid"),
    ("malformed-json", '{"category": "linear", "symbol": "BTCUSDT",', r"not valid JSON"),
    ("json-list", json.dumps([order()]), r"must be a JSON object"),
]


@pytest.mark.parametrize(("body", "pattern"), [(b, p) for _, b, p in BAD_CREATES], ids=[n for n, _, _ in BAD_CREATES])
async def test_10001_order_create_parameter_errors(rest: SignedRest, body: Any, pattern: str) -> None:
    resp = await rest.post(CREATE, body)
    assert_error(resp, 10001, pattern)
    assert await open_orders(rest) == []
    assert await executions(rest, symbol=BTC) == []


async def test_10001_link_id_of_36_allowed_chars_is_accepted(rest: SignedRest, sim: SimExchange) -> None:
    link = "Az09_-" * 6
    order_id = await place(rest, resting_buy(sim, orderLinkId=link))
    assert (await get_order(rest, link_id=link))["orderId"] == order_id


async def test_10001_bad_trading_stop_changes_nothing(rest: SignedRest, sim: SimExchange) -> None:
    await place(rest, order("Buy"))
    base = {"category": "linear", "symbol": BTC, "tpslMode": "Full", "positionIdx": 0}
    tp = px(last(sim) * Decimal("1.3"))
    for bad, pattern in (
        ({"trailingStop": "150.05"}, r"trailingStop"),
        ({"trailingStop": "1e40"}, r"trailingStop"),
        ({"trailingStop": "100", "activePrice": "1.05"}, r"activePrice"),
    ):
        resp = await rest.post("/v5/position/trading-stop", {**base, "takeProfit": tp, **bad})
        assert_error(resp, 10001, pattern)
    assert_error(
        await rest.post("/v5/position/trading-stop", {**base, "positionIdx": 1, "takeProfit": tp}),
        10001,
        r"position idx not match",
    )
    assert_error(
        await rest.post("/v5/position/trading-stop", {**base, "takeProfit": px(last(sim) * Decimal("0.7"))}),
        10001,
        r"TakeProfit.*should be higher",
    )
    assert await stop_orders(rest) == []
    pos = await position(rest)
    assert (Decimal(pos["takeProfit"]), Decimal(pos["stopLoss"]), Decimal(pos["trailingStop"])) == (0, 0, 0)


# -- business errors -------------------------------------------------------------------------------


async def test_110007_insufficient_available_balance(rest: SignedRest) -> None:
    resp = await rest.post(CREATE, order(qty="90"))
    assert_error(resp, 110007, r"not enough|insufficient")
    assert await open_orders(rest) == []
    pos = await position(rest)
    assert (pos["side"], Decimal(pos["size"])) == ("", 0)
    assert Decimal((await usdt(rest))["walletBalance"]) == START_BALANCE


async def test_110007_amend_beyond_available_balance_changes_nothing(rest: SignedRest, sim: SimExchange) -> None:
    body = resting_buy(sim, orderLinkId="amend-big")
    order_id = await place(rest, body)
    amend = {"category": "linear", "symbol": BTC, "orderId": order_id}
    assert_error(await rest.post("/v5/order/amend", {**amend, "qty": "90"}), 110007, r"insufficient|not enough")
    row = await get_order(rest, order_id)
    assert (Decimal(row["qty"]), Decimal(row["price"]), row["orderStatus"]) == (
        Decimal("0.001"),
        Decimal(body["price"]),
        "New",
    )
    ok(await rest.post("/v5/order/amend", {**amend, "qty": "0.003"}))
    assert Decimal((await get_order(rest, order_id))["qty"]) == Decimal("0.003")


async def test_10001_rejected_amend_is_atomic(rest: SignedRest, sim: SimExchange) -> None:
    body = resting_buy(sim)
    order_id = await place(rest, body)
    amend = {"category": "linear", "symbol": BTC, "orderId": order_id}
    wrong_tp = px(Decimal(body["price"]) * Decimal("0.9"))
    resp = await rest.post(
        "/v5/order/amend", {**amend, "qty": "0.002", "price": px(Decimal(body["price"]) - 10), "takeProfit": wrong_tp}
    )
    assert_error(resp, 10001, r"TakeProfit.*should be higher")
    row = await get_order(rest, order_id)
    assert (Decimal(row["qty"]), Decimal(row["price"]), Decimal(row["takeProfit"])) == (
        Decimal("0.001"),
        Decimal(body["price"]),
        0,
    )
    assert_error(await rest.post("/v5/order/amend", {**amend, "qty": "0.001"}), 10001, r"remains unchanged")
    assert_error(await rest.post("/v5/order/amend", {**amend, "qty": "0.0015"}), 10001, r"qtyStep")


async def test_110017_reduce_only_with_no_position(rest: SignedRest) -> None:
    resp = await rest.post(CREATE, order("Sell", reduceOnly=True))
    assert_error(resp, 110017, r"position is zero")
    assert await executions(rest, symbol=BTC) == []


async def test_110017_reduce_only_on_the_same_side(rest: SignedRest) -> None:
    await place(rest, order("Buy"))
    resp = await rest.post(CREATE, order("Buy", reduceOnly=True))
    assert_error(resp, 110017, r"same side")
    assert Decimal((await position(rest))["size"]) == Decimal("0.010")


async def test_110043_leverage_not_modified(rest: SignedRest) -> None:
    body = {"category": "linear", "symbol": BTC, "buyLeverage": "10", "sellLeverage": "10"}
    assert_error(await rest.post("/v5/position/set-leverage", body), 110043, r"leverage not modified")
    ok(await rest.post("/v5/position/set-leverage", {**body, "buyLeverage": "12", "sellLeverage": "12"}))
    assert_error(
        await rest.post("/v5/position/set-leverage", {**body, "buyLeverage": "12", "sellLeverage": "12"}),
        110043,
        r"leverage not modified",
    )
    assert Decimal((await position(rest))["leverage"]) == 12


async def test_34040_trading_stop_not_modified(rest: SignedRest, sim: SimExchange) -> None:
    await place(rest, order("Buy"))
    body = {
        "category": "linear",
        "symbol": BTC,
        "tpslMode": "Full",
        "positionIdx": 0,
        "takeProfit": px(last(sim) * Decimal("1.3")),
    }
    assert ok(await rest.post("/v5/position/trading-stop", body)) == {}
    assert_error(await rest.post("/v5/position/trading-stop", body), 34040, r"not modified")
    stops = await stop_orders(rest)
    assert [(o["stopOrderType"], Decimal(o["triggerPrice"])) for o in stops] == [
        ("TakeProfit", Decimal(body["takeProfit"]))
    ]


async def test_110072_duplicate_order_link_id(rest: SignedRest, sim: SimExchange) -> None:
    first = await place(rest, resting_buy(sim, orderLinkId="dup-0001"))
    resp = await rest.post(CREATE, resting_buy(sim, orderLinkId="dup-0001"))
    assert_error(resp, 110072, r"OrderLinkedID is duplicate")
    assert [o["orderId"] for o in await open_orders(rest)] == [first]


async def test_110094_notional_below_minimum(rest: SignedRest) -> None:
    resp = await rest.post(CREATE, order("Buy", "Limit", "0.001", price="4000.0"))
    assert_error(resp, 110094, r"notional value below the lower limit")
    assert await open_orders(rest) == []
    ok(await rest.post(CREATE, order("Buy", "Limit", "0.001", price="5000.0")))


async def test_110092_rising_trigger_below_current_price(rest: SignedRest, sim: SimExchange) -> None:
    below = px(last(sim) * Decimal("0.95"))
    resp = await rest.post(CREATE, order(triggerPrice=below, triggerDirection=1))
    assert_error(resp, 110092, r"expect Rising")
    assert f"trigger_price[{below}]" in resp["retMsg"]
    assert await stop_orders(rest) == []


async def test_110093_falling_trigger_above_current_price(rest: SignedRest, sim: SimExchange) -> None:
    above = px(last(sim) * Decimal("1.05"))
    resp = await rest.post(CREATE, order("Sell", triggerPrice=above, triggerDirection=2))
    assert_error(resp, 110093, r"expect Falling")
    assert await stop_orders(rest) == []
    order_id = await place(rest, order("Sell", triggerPrice=px(last(sim) * Decimal("0.95")), triggerDirection=2))
    [conditional] = await stop_orders(rest)
    assert (conditional["orderId"], conditional["orderStatus"]) == (order_id, "Untriggered")
    assert (conditional["stopOrderType"], conditional["triggerDirection"]) == ("Stop", 2)


async def test_110001_cancel_unknown_filled_and_cancelled_orders(rest: SignedRest, sim: SimExchange) -> None:
    body = {"category": "linear", "symbol": BTC, "orderId": "00000000-0000-4000-8000-000000000000"}
    assert_error(await rest.post("/v5/order/cancel", body), 110001, r"order not exists")
    filled = await place(rest, order("Buy", orderLinkId="filled-0001"))
    assert (await get_order(rest, filled))["orderStatus"] == "Filled"
    assert_error(await rest.post("/v5/order/cancel", {**body, "orderId": filled}), 110001, r"order not exists")
    del body["orderId"]
    assert_error(
        await rest.post("/v5/order/cancel", {**body, "orderLinkId": "filled-0001"}), 110001, r"order not exists"
    )
    resting = await place(rest, resting_buy(sim))
    ok(await rest.post("/v5/order/cancel", {**body, "orderId": resting}))
    assert_error(await rest.post("/v5/order/cancel", {**body, "orderId": resting}), 110001, r"too late to cancel")
    assert_error(
        await rest.post("/v5/order/amend", {**body, "orderId": resting, "qty": "0.002"}), 110001, r"order not exists"
    )


# -- rate limits -----------------------------------------------------------------------------------


async def test_10006_eleventh_order_create_in_one_second(rest: SignedRest, sim: SimExchange) -> None:
    first_ms = sim.clock.held_ms = sim.clock.now_ms()  # the exchange sees the whole burst in one millisecond
    for i in range(10):
        ok(await rest.post(CREATE, resting_buy(sim, orderLinkId=f"burst-{i:02d}")))
        assert rest.last_headers["X-Bapi-Limit"] == "10"
        assert rest.last_headers["X-Bapi-Limit-Status"] == str(9 - i)
    resp = await rest.post(CREATE, resting_buy(sim, orderLinkId="burst-10"))
    sim.clock.held_ms = None
    assert_error(resp, 10006, r"too many visits")
    headers = rest.last_headers
    assert headers["X-Bapi-Limit"] == "10" and headers["X-Bapi-Limit-Status"] == "0"
    reset = int(headers["X-Bapi-Limit-Reset-Timestamp"])
    assert reset == first_ms + 1000, "the window opened at the first order"
    assert reset > resp["time"]
    assert len(await open_orders(rest)) == 10
    assert all(o["orderLinkId"] != "burst-10" for o in await open_orders(rest))
    other = extra_client(sim, "SECONDKEY0001")
    try:
        ok(await other.post(CREATE, resting_buy(sim, orderLinkId="other-key-0001")))
        assert other.last_headers["X-Bapi-Limit-Status"] == "9"
    finally:
        await other.close()
    sim.clock.skew_ms = 1100
    ok(await rest.post(CREATE, resting_buy(sim, orderLinkId="burst-after")))
    assert rest.last_headers["X-Bapi-Limit-Status"] == "9"


async def test_rate_limit_headers_on_a_normal_private_response(rest: SignedRest) -> None:
    ok(await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}))
    headers = rest.last_headers
    assert headers["X-Bapi-Limit"] == "50" and headers["X-Bapi-Limit-Status"] == "49"
    assert abs(int(headers["X-Bapi-Limit-Reset-Timestamp"]) - time.time() * 1000) < 2000
    ok(await rest.get("/v5/account/fee-rate", {"category": "linear", "symbol": BTC}))
    assert (rest.last_headers["X-Bapi-Limit"], rest.last_headers["X-Bapi-Limit-Status"]) == ("5", "4")
    ok(
        await rest.post(
            "/v5/position/set-leverage", {"category": "linear", "symbol": BTC, "buyLeverage": "3", "sellLeverage": "3"}
        )
    )
    assert (rest.last_headers["X-Bapi-Limit"], rest.last_headers["X-Bapi-Limit-Status"]) == ("10", "9")
