"""Private stream of the embedded exchange: auth, subscribe, ping and the four account topics (§6, §8.2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.ws_helpers import (
    PRIVATE_TOPICS,
    admin_post,
    auth_frame,
    authenticate,
    collect,
    is_op,
    limit_order,
    market_order,
    now_ms,
    open_ws,
    private_data,
    private_ws,
    public_ticker,
    recv_json,
    recv_until,
    send,
    tick_price,
    urls,
)
from tui_bot.sim.server import SimExchange

ENVELOPE = {"id", "topic", "creationTime", "data"}


async def test_auth_ok_shape(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        reply = await authenticate(ws, sim, req_id=None)
    assert_matches_golden(reply, "ws_private_auth_ok")
    assert (reply["success"], reply["ret_msg"], reply["op"]) == (True, "", "auth")
    assert reply["conn_id"]


async def test_auth_echoes_req_id_and_accepts_string_expires(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        await send(ws, auth_frame(sim.api_key, sim.api_secret, expires=str(now_ms() + 10_000), req_id="auth-7"))
        reply = await recv_json(ws)
    assert reply["success"] is True
    assert reply["req_id"] == "auth-7"


@pytest.mark.parametrize("case", ["bad-signature", "unknown-key", "expired", "wrong-secret", "no-args"])
async def test_auth_failures(sim: SimExchange, case: str) -> None:
    key, secret, expires = sim.api_key, sim.api_secret, now_ms() + 5000
    frame = auth_frame(key, secret, expires=expires)
    if case == "bad-signature":
        frame = auth_frame(key, secret, expires=expires, signature="0" * 64)
    elif case == "unknown-key":
        frame = auth_frame("NOSUCHKEY123", secret, expires=expires)
    elif case == "expired":
        frame = auth_frame(key, secret, expires=now_ms() - 1000)
    elif case == "wrong-secret":
        frame = auth_frame(key, "not-the-secret", expires=expires)
    elif case == "no-args":
        frame = {"op": "auth", "args": []}
    async with open_ws(urls(sim).private_ws) as ws:
        await send(ws, frame)
        reply = await recv_json(ws)
        assert_matches_golden(reply, "ws_private_auth_fail")
        assert (reply["success"], reply["op"]) == (False, "auth")
        assert reply["ret_msg"]
        if case in ("expired", "no-args"):
            assert reply["ret_msg"] == "Params Error"
        await send(ws, {"req_id": "s", "op": "subscribe", "args": ["order"]})
        after = await recv_json(ws)
        assert after["success"] is False, "a failed auth must not authorise the socket"


async def test_repeat_auth_is_refused(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        assert (await authenticate(ws, sim))["success"] is True
        again = await authenticate(ws, sim)
    assert again["success"] is False and again["ret_msg"]


async def test_subscribe_before_auth_fails_then_works_after_auth(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        await send(ws, {"req_id": "s0", "op": "subscribe", "args": ["order"]})
        refused = await recv_json(ws)
        assert (refused["success"], refused["op"], refused["req_id"]) == (False, "subscribe", "s0")
        assert refused["ret_msg"]
        assert (await authenticate(ws, sim))["success"] is True
        await send(ws, {"req_id": "s1", "op": "subscribe", "args": ["order"]})
        assert (await recv_json(ws))["success"] is True


async def test_subscribe_to_the_four_topics(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        await authenticate(ws, sim)
        await send(ws, {"req_id": "s1", "op": "subscribe", "args": PRIVATE_TOPICS})
        ack = await recv_json(ws)
    assert_matches_golden(ack, "ws_private_subscribe_ok")
    assert (ack["success"], ack["op"], ack["req_id"]) == (True, "subscribe", "s1")


async def test_subscribe_rejects_unknown_and_mixed_topics(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        await authenticate(ws, sim)
        for req_id, args in (("u", ["tickers.BTCUSDT"]), ("m", ["order", "order.linear"])):
            await send(ws, {"req_id": req_id, "op": "subscribe", "args": args})
            reply = await recv_until(ws, is_op("subscribe", req_id))
            assert reply["success"] is False and reply["ret_msg"], reply


async def test_ping_answers_private_pong(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        before = now_ms()
        await send(ws, {"req_id": "p1", "op": "ping"})
        pong = await recv_json(ws)
    assert_matches_golden(pong, "ws_private_pong")
    assert (pong["op"], pong["req_id"]) == ("pong", "p1")
    assert "success" not in pong
    assert isinstance(pong["args"], list) and len(pong["args"]) == 1
    assert before - 1000 <= int(pong["args"][0]) <= now_ms() + 1000


async def test_market_fill_pushes_order_execution_position_wallet(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        ack = await rest.post("/v5/order/create", market_order(orderLinkId="mkt-buy-0001"))
        assert ack["retCode"] == 0, ack
        frames = await private_data(ws, 4)
        extra = await collect(ws, 0.2, lambda f: "topic" in f)
    assert [f["topic"] for f in frames] == ["order", "execution", "position", "wallet"]
    assert extra == [], "one market fill gives exactly one message per topic"
    for frame, golden in zip(frames, ("ws_order", "ws_execution", "ws_position", "ws_wallet"), strict=True):
        assert set(frame) == ENVELOPE
        assert type(frame["creationTime"]) is int and isinstance(frame["id"], str) and frame["id"]
        assert isinstance(frame["data"], list) and len(frame["data"]) == 1
        assert_matches_golden(frame, golden)
    order, execution, position, wallet = (f["data"][0] for f in frames)
    assert type(execution["seq"]) is int and type(position["seq"]) is int and type(position["positionIdx"]) is int
    assert type(order["positionIdx"]) is int and type(order["reduceOnly"]) is bool
    assert isinstance(order["cumFeeDetail"], dict) and type(wallet["coin"][0]["marginCollateral"]) is bool
    order_id = ack["result"]["orderId"]
    assert (order["orderId"], order["orderLinkId"], order["orderStatus"]) == (order_id, "mkt-buy-0001", "Filled")
    assert (order["orderType"], order["timeInForce"], order["leavesQty"]) == ("Market", "IOC", "0")
    assert Decimal(order["cumExecQty"]) == Decimal("0.010")
    assert order["cumFeeDetail"] == {"USDT": order["cumExecFee"]}
    assert execution["orderId"] == order_id and execution["isMaker"] is False
    assert Decimal(execution["execFee"]) == Decimal(execution["execValue"]) * Decimal(execution["feeRate"])
    assert Decimal(execution["execPrice"]) == Decimal(order["avgPrice"])
    assert (position["side"], Decimal(position["size"]), position["positionIdx"]) == ("Buy", Decimal("0.010"), 0)
    assert position["seq"] == execution["seq"]
    assert Decimal(position["curRealisedPnl"]) == -Decimal(execution["execFee"])
    assert wallet["accountType"] == "UNIFIED"
    assert Decimal(wallet["coin"][0]["walletBalance"]) == Decimal("10000") - Decimal(execution["execFee"])


async def test_limit_order_lifecycle_new_then_filled(sim: SimExchange, rest: SignedRest) -> None:
    last = (await public_ticker(sim))["lastPrice"]
    price = tick_price(last, "0.99")
    async with private_ws(sim) as ws:
        ack = await rest.post("/v5/order/create", limit_order(price, orderLinkId="lim-1"))
        assert ack["retCode"] == 0, ack
        new = await recv_until(ws, lambda f: f.get("topic") == "order")
        assert_matches_golden(new, "ws_order")
        resting = new["data"][0]
        assert (resting["orderStatus"], resting["orderLinkId"], resting["timeInForce"]) == ("New", "lim-1", "GTC")
        assert Decimal(resting["leavesQty"]) == Decimal("0.010") and Decimal(resting["cumExecQty"]) == 0
        status, text = await admin_post(sim, "/price", {"symbol": "BTCUSDT", "price": tick_price(last, "0.97")})
        assert status == 200, text
        filled = await recv_until(ws, lambda f: f.get("topic") == "order" and f["data"][0]["orderStatus"] != "New")
        execution = await recv_until(ws, lambda f: f.get("topic") == "execution")
    done = filled["data"][0]
    assert (done["orderId"], done["orderStatus"], done["leavesQty"]) == (ack["result"]["orderId"], "Filled", "0")
    assert Decimal(done["avgPrice"]) == Decimal(price)
    fill = execution["data"][0]
    assert fill["isMaker"] is True and Decimal(fill["execPrice"]) == Decimal(price)
    assert_matches_golden(execution, "ws_execution")


async def test_cancel_pushes_cancelled(sim: SimExchange, rest: SignedRest) -> None:
    price = tick_price((await public_ticker(sim))["lastPrice"], "0.95")
    async with private_ws(sim) as ws:
        ack = await rest.post("/v5/order/create", limit_order(price))
        order_id = ack["result"]["orderId"]
        await recv_until(ws, lambda f: f.get("topic") == "order")
        cancel = await rest.post("/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id})
        assert cancel["retCode"] == 0, cancel
        frame = await recv_until(ws, lambda f: f.get("topic") == "order")
        position = await recv_until(ws, lambda f: f.get("topic") == "position")
    assert_matches_golden(frame, "ws_order")
    order = frame["data"][0]
    assert (order["orderId"], order["orderStatus"], order["cancelType"]) == (order_id, "Cancelled", "CancelByUser")
    assert Decimal(order["cumExecQty"]) == 0
    assert position["data"][0]["size"] in ("0", "0.000"), "a cancel re-pushes the (flat) position"


async def test_closing_pushes_a_flat_position(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        await recv_until(ws, lambda f: f.get("topic") == "wallet")
        close = await rest.post("/v5/order/create", market_order("Sell", reduceOnly=True))
        assert close["retCode"] == 0, close
        frames = await private_data(ws, 4)
    assert [f["topic"] for f in frames] == ["order", "execution", "position", "wallet"]
    flat = frames[2]
    assert_matches_golden(flat, "ws_position_flat")
    item = flat["data"][0]
    assert (item["side"], Decimal(item["size"]), Decimal(item["entryPrice"])) == ("", 0, 0)
    assert item["liqPrice"] == "" and item["openTime"] == 0
    assert Decimal(frames[1]["data"][0]["closedSize"]) == Decimal("0.010")


async def test_messages_go_only_to_subscribed_topics(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim, topics=["execution"]) as ws:
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        frames = await collect(ws, 0.3, lambda f: "topic" in f)
    assert [f["topic"] for f in frames] == ["execution"]


async def test_categorised_topic_names_are_kept(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim, topics=["order.linear"]) as ws:
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        frame = await recv_until(ws, lambda f: "topic" in f)
    assert frame["topic"] == "order.linear" and frame["data"][0]["orderStatus"] == "Filled"


async def test_unsubscribe_stops_a_topic(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        await send(ws, {"req_id": "u1", "op": "unsubscribe", "args": ["order"]})
        ack = await recv_until(ws, is_op("unsubscribe", "u1"))
        assert ack["success"] is True
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        frames = await collect(ws, 0.3, lambda f: "topic" in f)
    assert [f["topic"] for f in frames] == ["execution", "position", "wallet"]


async def test_messages_go_only_to_the_owning_account(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        sim.engine.add_account("OTHERKEY000000001", "OTHERSECRET", Decimal("500"))
        other = SignedRest(urls(sim).rest, "OTHERKEY000000001", "OTHERSECRET")
        try:
            assert (await other.post("/v5/order/create", market_order()))["retCode"] == 0
        finally:
            await other.close()
        assert await collect(ws, 0.3, lambda f: "topic" in f) == [], "another account's fill leaked"
