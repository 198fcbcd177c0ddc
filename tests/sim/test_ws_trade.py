"""Trade (order-entry) stream of the embedded exchange: auth, create/amend/cancel, errors, ping (§7)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.ws_helpers import (
    auth_frame,
    authenticate,
    limit_order,
    market_order,
    now_ms,
    open_ws,
    private_ws,
    public_ticker,
    recv_json,
    recv_until,
    send,
    tick_price,
    trade_call,
    trade_frame,
    trade_ws,
    urls,
)
from tui_bot.sim.server import SimExchange

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HEADER_KEYS = {"X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp", "Traceid", "Timenow"}


async def open_orders(rest: SignedRest) -> list[dict]:
    reply = await rest.get("/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"})
    assert reply["retCode"] == 0, reply
    return reply["result"]["list"]


async def test_auth_ok_shape(sim: SimExchange) -> None:
    async with open_ws(urls(sim).trade_ws) as ws:
        reply = await authenticate(ws, sim, req_id=None)
    assert_matches_golden(reply, "ws_trade_auth_ok")
    assert (reply["retCode"], reply["retMsg"], reply["op"]) == (0, "OK", "auth")
    assert reply["connId"]


async def test_auth_echoes_req_id(sim: SimExchange) -> None:
    async with open_ws(urls(sim).trade_ws) as ws:
        frame = auth_frame(sim.api_key, sim.api_secret)
        frame["reqId"] = "a-1"
        await send(ws, frame)
        reply = await recv_json(ws)
    assert (reply["retCode"], reply["reqId"]) == (0, "a-1")


@pytest.mark.parametrize("case", ["bad-signature", "unknown-key", "expired"])
async def test_bad_auth_gives_nonzero_ret_code(sim: SimExchange, case: str) -> None:
    frame = {
        "bad-signature": auth_frame(sim.api_key, sim.api_secret, signature="f" * 64),
        "unknown-key": auth_frame("NOSUCHKEY123", sim.api_secret),
        "expired": auth_frame(sim.api_key, sim.api_secret, expires=now_ms() - 1),
    }[case]
    async with open_ws(urls(sim).trade_ws) as ws:
        await send(ws, frame)
        reply = await recv_json(ws)
        assert_matches_golden(reply, "ws_trade_auth_fail")
        assert reply["retCode"] != 0 and reply["op"] == "auth" and reply["retMsg"]
        if case == "bad-signature":
            assert reply["retCode"] == 10004
        create = await trade_call(ws, "order.create", [market_order()], "after-bad-auth")
    assert create["retCode"] != 0 and create["data"] == {}


async def test_repeat_auth_gives_20001(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        again = await authenticate(ws, sim, req_id=None)
    assert again["retCode"] == 20001


async def test_create_before_auth_fails(sim: SimExchange, rest: SignedRest) -> None:
    async with trade_ws(sim, auth=False) as ws:
        reply = await trade_call(ws, "order.create", [market_order()], "c-0")
    assert reply["retCode"] != 0 and reply["data"] == {} and reply["op"] == "order.create"
    positions = await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert Decimal(positions["result"]["list"][0]["size"]) == 0


async def test_order_create_ok(sim: SimExchange, rest: SignedRest) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order(orderLinkId="mkt-buy-0001")], "c-0001")
    assert_matches_golden(reply, "ws_trade_order_create_ok")
    assert (reply["reqId"], reply["retCode"], reply["retMsg"], reply["op"]) == ("c-0001", 0, "OK", "order.create")
    assert reply["data"]["orderLinkId"] == "mkt-buy-0001" and UUID.match(reply["data"]["orderId"])
    header = reply["header"]
    assert set(header) == HEADER_KEYS and all(isinstance(v, str) for v in header.values())
    assert header["X-Bapi-Limit"] == "10" and int(header["X-Bapi-Limit-Status"]) < 10
    assert abs(int(header["Timenow"]) - now_ms()) < 5000
    assert reply["retExtInfo"] == {} and reply["connId"]
    positions = await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    pos = positions["result"]["list"][0]
    assert (pos["side"], Decimal(pos["size"])) == ("Buy", Decimal("0.010"))


async def test_req_id_is_omitted_when_not_sent(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        await send(ws, trade_frame("order.create", [market_order()]))
        reply = await recv_json(ws)
    assert reply["retCode"] == 0 and "reqId" not in reply


async def test_order_amend_and_cancel(sim: SimExchange, rest: SignedRest) -> None:
    last = (await public_ticker(sim))["lastPrice"]
    price, new_price = tick_price(last, "0.95"), tick_price(last, "0.96")
    async with trade_ws(sim) as ws:
        created = await trade_call(ws, "order.create", [limit_order(price, orderLinkId="lim-a")], "c-1")
        assert created["retCode"] == 0, created
        order_id = created["data"]["orderId"]
        amended = await trade_call(
            ws,
            "order.amend",
            [{"category": "linear", "symbol": "BTCUSDT", "orderId": order_id, "price": new_price}],
            "a-1",
        )
        assert (amended["retCode"], amended["op"], amended["reqId"]) == (0, "order.amend", "a-1"), amended
        assert_matches_golden(amended, "ws_trade_order_amend_ok")
        assert amended["data"] == {"orderId": order_id, "orderLinkId": "lim-a"}
        [live] = await open_orders(rest)
        assert Decimal(live["price"]) == Decimal(new_price)
        cancelled = await trade_call(
            ws, "order.cancel", [{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "lim-a"}], "x-1"
        )
        assert (cancelled["retCode"], cancelled["op"]) == (0, "order.cancel"), cancelled
        assert cancelled["data"] == {"orderId": order_id, "orderLinkId": "lim-a"}
        assert await open_orders(rest) == []
        again = await trade_call(
            ws, "order.cancel", [{"category": "linear", "symbol": "BTCUSDT", "orderId": order_id}], "x-2"
        )
        too_late = await trade_call(
            ws, "order.amend", [{"category": "linear", "symbol": "BTCUSDT", "orderId": order_id, "qty": "0.002"}], "a-2"
        )
    assert again["retCode"] == 110001 and again["data"] == {}
    assert_matches_golden(too_late, "ws_trade_order_amend_error")
    assert (too_late["retCode"], too_late["retMsg"]) == (110001, "order not exists or too late to replace")


async def test_business_error_qty_below_minimum(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order(qty="0.0001")], "c-0002")
    assert_matches_golden(reply, "ws_trade_order_error")
    assert (reply["retCode"], reply["data"], reply["reqId"]) == (10001, {}, "c-0002")
    assert reply["retMsg"]


async def test_business_error_insufficient_balance(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order(qty="50.000")], "c-big")
    assert_matches_golden(reply, "ws_trade_order_error")
    assert (reply["retCode"], reply["data"]) == (110007, {})


async def test_duplicate_req_id_gives_20006(sim: SimExchange) -> None:
    price = tick_price((await public_ticker(sim))["lastPrice"], "0.95")
    async with trade_ws(sim) as ws:
        first = await trade_call(ws, "order.create", [limit_order(price)], "same-id")
        second = await trade_call(ws, "order.create", [limit_order(price)], "same-id")
    assert first["retCode"] == 0
    assert (second["retCode"], second["data"]) == (20006, {})


async def test_req_id_uniqueness_is_per_connection(sim: SimExchange) -> None:
    price = tick_price((await public_ticker(sim))["lastPrice"], "0.95")
    for _ in range(2):
        async with trade_ws(sim) as ws:
            assert (await trade_call(ws, "order.create", [limit_order(price)], "r-1"))["retCode"] == 0


async def test_missing_header_timestamp_gives_10001(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        missing = await trade_call(ws, "order.create", [market_order()], "h-1", header={"X-BAPI-RECV-WINDOW": "5000"})
        no_header = await trade_call(ws, "order.create", [market_order()], "h-2", header={})
    assert (missing["retCode"], missing["data"]) == (10001, {})
    assert no_header["retCode"] == 10001


async def test_stale_header_timestamp_gives_10002(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order()], "t-1", timestamp=now_ms() - 60_000)
    assert reply["retCode"] == 10002


async def test_ping_answers_pong(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        before = now_ms()
        await send(ws, {"op": "ping"})
        pong = await recv_json(ws)
    assert_matches_golden(pong, "ws_trade_pong")
    assert (pong["retCode"], pong["op"]) == (0, "pong")
    assert before - 1000 <= int(pong["data"][0]) <= now_ms() + 1000


async def test_unknown_op_gives_10404(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.teleport", [market_order()], "u-1")
    assert (reply["retCode"], reply["op"], reply["data"]) == (10404, "order.teleport", {})


async def test_malformed_json_keeps_the_socket(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        await send(ws, "{oops")
        error = await recv_json(ws)
        assert error["retCode"] == 10001
        reply = await trade_call(ws, "order.create", [market_order()], "after-garbage")
    assert reply["retCode"] == 0


async def test_req_id_longer_than_36_chars_is_refused(sim: SimExchange) -> None:
    async with trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order()], "r" * 37)
    assert (reply["retCode"], reply["data"]) == (10001, {})


async def test_trade_socket_order_is_confirmed_on_the_private_stream(sim: SimExchange) -> None:
    async with private_ws(sim) as private, trade_ws(sim) as ws:
        reply = await trade_call(ws, "order.create", [market_order(orderLinkId="via-trade-ws")], "c-9")
        frame = await recv_until(private, lambda f: f.get("topic") == "order")
    order = frame["data"][0]
    assert (order["orderId"], order["orderLinkId"], order["orderStatus"]) == (
        reply["data"]["orderId"],
        "via-trade-ws",
        "Filled",
    )
