"""Fault controls of the embedded exchange, each observed through a real client (§9 rehearsals)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import SignedRest, console_script
from tests.sim.ws_helpers import (
    admin_post,
    auth_frame,
    closed_within,
    collect,
    collect_texts,
    is_topic,
    market_order,
    now_ms,
    open_ws,
    private_data,
    private_ws,
    public_ticker,
    recv_json,
    recv_until,
    send,
    subscribe_with_snapshot,
    trade_call,
    trade_ws,
    until,
    urls,
)
from tui_bot.cli import main as cli_main
from tui_bot.sim.server import SimExchange

TICKER = "tickers.BTCUSDT"
ORACLE_FIELDS = ("lastPrice", "markPrice", "indexPrice", "bid1Price", "ask1Price", "volume24h", "turnover24h")


@pytest.fixture
async def still_rest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    client = SignedRest(urls(manual_sim).rest, manual_sim.api_key, manual_sim.api_secret)
    yield client
    await client.close()


# -- drop -------------------------------------------------------------------------


async def test_drop_private_closes_and_a_reconnect_with_reauth_works(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        assert sim.drop_connections("private") == 1
        assert await closed_within(ws, 2.0), "the client must see its private socket go away"
    assert await until(lambda: not sim.private.peers)
    async with private_ws(sim) as again:
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        frame = await recv_until(again, lambda f: f.get("topic") == "order")
    assert frame["data"][0]["orderStatus"] == "Filled"


async def test_drop_public_closes_and_a_resubscribe_gets_a_fresh_snapshot(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws, open_ws(urls(sim).trade_ws) as trade:
        await subscribe_with_snapshot(ws, TICKER)
        assert sim.drop_connections("public") == 1
        assert await closed_within(ws, 2.0)
        await send(trade, {"op": "ping"})
        assert (await recv_json(trade))["op"] == "pong", "dropping public leaves the trade socket alone"
    async with open_ws(urls(sim).public_ws) as again:
        ack, snapshot = await subscribe_with_snapshot(again, TICKER)
    assert ack["success"] is True and snapshot["type"] == "snapshot"


async def test_drop_all_closes_every_kind(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as pub, private_ws(sim) as priv, trade_ws(sim) as trade:
        assert sim.drop_connections("all") == 3
        results = await asyncio.gather(*(closed_within(ws, 2.0) for ws in (pub, priv, trade)))
    assert results == [True, True, True]


# -- stall ------------------------------------------------------------------------


async def test_stall_withholds_ticker_deltas_then_sends_the_accumulated_change(manual_sim: SimExchange) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_with_snapshot(ws, "tickers.ETHUSDT")
        _, snapshot = await subscribe_with_snapshot(ws, TICKER, req_id="sub-2")
        await manual_sim.step(1)
        state = dict(snapshot["data"])
        for frame in await collect(ws, 0.1, is_topic(TICKER)):
            state.update(frame["data"])
        before = await public_ticker(manual_sim)
        manual_sim.faults.stall(TICKER, 0.5)
        stalled_at = time.monotonic()
        await manual_sim.step(10)
        during = await collect(ws, 0.15)
        assert [f for f in during if f.get("topic") == TICKER] == [], "no BTCUSDT deltas while stalled"
        assert [f for f in during if f.get("topic") == "tickers.ETHUSDT"], "other topics keep flowing"
        moved = await public_ticker(manual_sim)
        assert moved["volume24h"] != before["volume24h"], "the market kept trading during the stall"
        await asyncio.sleep(max(0.0, 0.55 - (time.monotonic() - stalled_at)))
        await manual_sim.step(1)
        first = await recv_until(ws, is_topic(TICKER))
        oracle = await public_ticker(manual_sim)
    assert first["type"] == "delta"
    state.update(first["data"])
    assert {k: state[k] for k in ORACLE_FIELDS} == {k: oracle[k] for k in ORACLE_FIELDS}, (
        "the first delta after a stall brings the client up to date"
    )
    assert first["data"]["volume24h"] == oracle["volume24h"]


async def test_stall_private_topic_delays_then_delivers(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        sim.faults.stall("position", 0.4)
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        early = await collect(ws, 0.25, lambda f: "topic" in f)
        late = await recv_until(ws, lambda f: f.get("topic") == "position", timeout=2.0)
    assert [f["topic"] for f in early] == ["order", "execution", "wallet"]
    assert Decimal(late["data"][0]["size"]) == Decimal("0.010")


# -- duplicate / reorder ----------------------------------------------------------


async def test_duplicate_sends_the_next_private_message_twice(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        sim.faults.duplicate_private += 1
        assert (await rest.post("/v5/order/create", market_order()))["retCode"] == 0
        texts = [t for t in await collect_texts(ws, 0.4) if '"topic"' in t]
    topics = [json.loads(t)["topic"] for t in texts]
    assert topics == ["order", "order", "execution", "position", "wallet"]
    assert texts[0] == texts[1], "the duplicate is the very same message text"
    assert sim.faults.duplicate_private == 0


async def test_reorder_reverses_the_next_four_private_messages(sim: SimExchange, rest: SignedRest) -> None:
    async with private_ws(sim) as ws:
        sim.faults.reorder_private = 4
        ack = await rest.post("/v5/order/create", market_order())
        frames = await private_data(ws, 4)
        rest_of = await collect(ws, 0.2, lambda f: "topic" in f)
    assert [f["topic"] for f in frames] == ["wallet", "position", "execution", "order"]
    assert rest_of == []
    assert frames[3]["data"][0]["orderId"] == ack["result"]["orderId"]
    assert frames[2]["data"][0]["seq"] == frames[1]["data"][0]["seq"]


# -- REST faults ------------------------------------------------------------------


@pytest.mark.parametrize("code", [10006, 10016])
async def test_rest_error_hits_the_next_request_only(sim: SimExchange, rest: SignedRest, code: int) -> None:
    sim.faults.rest_errors.extend([code])
    failed = await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    headers = dict(rest.last_headers)
    ok = await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert (failed["retCode"], failed["result"]) == (code, {})
    assert failed["retMsg"]
    if code == 10006:
        reset = int(headers["X-Bapi-Limit-Reset-Timestamp"])
        assert now_ms() - 1000 <= reset <= now_ms() + 5000
        assert headers["X-Bapi-Limit-Status"] == "0"
    assert ok["retCode"] == 0 and ok["result"]["list"]


async def test_rest_error_also_fails_an_order_create_which_is_not_booked(sim: SimExchange, rest: SignedRest) -> None:
    sim.faults.rest_errors.extend([10016])
    failed = await rest.post("/v5/order/create", market_order())
    assert failed["retCode"] == 10016
    positions = await rest.get("/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"})
    assert Decimal(positions["result"]["list"][0]["size"]) == 0


async def test_clock_skew_breaks_signed_rest_and_short_private_auth(sim: SimExchange, rest: SignedRest) -> None:
    sim.clock.skew_ms = 3000
    query = {"category": "linear", "symbol": "BTCUSDT"}
    skewed = await rest.get("/v5/position/list", query, recv_window=2000)
    assert skewed["retCode"] == 10002, skewed
    assert "server_timestamp" in skewed["retMsg"]
    tolerant = await rest.get("/v5/position/list", query, recv_window=5000)
    assert tolerant["retCode"] == 0, "a 3 s lag still fits a 5 s recv window (server - window <= ts)"
    async with open_ws(urls(sim).private_ws) as ws:
        await send(ws, auth_frame(sim.api_key, sim.api_secret, expires=now_ms() + 1000))
        refused = await recv_json(ws)
    assert (refused["success"], refused["ret_msg"]) == (False, "Params Error")
    sim.clock.skew_ms = -3000
    ahead = await rest.get("/v5/position/list", query)
    assert ahead["retCode"] == 10002, "a timestamp more than 1 s ahead of the server fails"
    sim.clock.skew_ms = 0
    assert (await rest.get("/v5/position/list", query, recv_window=2000))["retCode"] == 0
    async with open_ws(urls(sim).private_ws) as ws:
        await send(ws, auth_frame(sim.api_key, sim.api_secret, expires=now_ms() + 1000))
        assert (await recv_json(ws))["success"] is True


async def test_reject_order_fails_the_next_create_only(sim: SimExchange, rest: SignedRest) -> None:
    sim.faults.order_rejects.append((110007, "ab not enough for new order"))
    rejected = await rest.post("/v5/order/create", market_order())
    accepted = await rest.post("/v5/order/create", market_order())
    assert (rejected["retCode"], rejected["retMsg"], rejected["result"]) == (110007, "ab not enough for new order", {})
    assert accepted["retCode"] == 0 and accepted["result"]["orderId"]


async def test_wiped_order_cache_hides_closed_orders_from_realtime_not_from_history(
    sim: SimExchange, rest: SignedRest
) -> None:
    link = {"orderLinkId": "wipe-cache-0001"}
    assert (await rest.post("/v5/order/create", market_order(**link)))["retCode"] == 0
    query = {"category": "linear", "symbol": "BTCUSDT", **link}
    assert [o["orderStatus"] for o in (await rest.get("/v5/order/realtime", query))["result"]["list"]] == ["Filled"]
    status, text = await admin_post(sim, "/faults/wipe-order-cache", {})
    assert status == 200, text
    assert (await rest.get("/v5/order/realtime", query))["result"]["list"] == []
    assert [o["orderStatus"] for o in (await rest.get("/v5/order/history", query))["result"]["list"]] == ["Filled"]
    await admin_post(sim, "/faults/clear", {})
    assert len((await rest.get("/v5/order/realtime", query))["result"]["list"]) == 1


async def test_reject_order_applies_to_the_trade_socket(sim: SimExchange) -> None:
    sim.faults.order_rejects.append((110094, "Order notional value below the lower limit"))
    async with trade_ws(sim) as ws:
        rejected = await trade_call(ws, "order.create", [market_order()], "r-1")
        accepted = await trade_call(ws, "order.create", [market_order()], "r-2")
    assert (rejected["retCode"], rejected["data"]) == (110094, {})
    assert accepted["retCode"] == 0


# -- admin endpoint and CLI --------------------------------------------------------


async def test_admin_endpoint_arms_faults(sim: SimExchange, rest: SignedRest) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await subscribe_with_snapshot(ws, TICKER)
        status, text = await admin_post(sim, "/faults/drop", {"kind": "public"})
        assert status == 200, text
        assert json.loads(text) == {"ok": True, "dropped": 1}
        assert await closed_within(ws, 2.0)
    status, text = await admin_post(sim, "/faults/rest-error", {"code": 10006, "count": 2})
    assert status == 200, text
    codes = [(await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}))["retCode"] for _ in range(3)]
    assert codes == [10006, 10006, 0]
    status, _ = await admin_post(sim, "/faults/clock-skew", {"ms": 3000})
    assert status == 200 and sim.clock.skew_ms == 3000
    status, _ = await admin_post(sim, "/faults/clear", {})
    assert status == 200 and sim.clock.skew_ms == 0


async def test_admin_endpoint_rejects_unknown_fault_and_bad_values(sim: SimExchange) -> None:
    status, text = await admin_post(sim, "/faults/meteor", {})
    assert status == 400 and "meteor" in text
    status, _ = await admin_post(sim, "/faults/rest-error", {"code": 12345})
    assert status == 400
    status, _ = await admin_post(sim, "/faults/stall", {"seconds": 1})
    assert status == 400, "stall needs a topic"
    status, text = await admin_post(sim, "/faults/stall", {"topic": "tickers.*", "seconds": -5})
    assert status == 400 and "seconds: Input should be greater than 0" in text
    assert not sim.faults.rest_errors and not sim.faults.stalls


async def test_admin_endpoint_rejects_typos_instead_of_silently_doing_nothing(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        status, text = await admin_post(sim, "/faults/drop", {"kind": "pubilc"})
        assert status == 400 and "pubilc" in text
        await send(ws, {"op": "ping"})
        assert (await recv_json(ws))["ret_msg"] == "pong", "a rejected drop leaves connections alone"
    status, text = await admin_post(sim, "/faults/duplicate", {"coutn": 2})
    assert status == 400 and "coutn" in text
    status, _ = await admin_post(sim, "/faults/rest-error", {"code": 10006, "count": 0})
    assert status == 400
    assert sim.faults.duplicate_private == 0 and not sim.faults.rest_errors


async def test_cli_fault_drops_public_connections(sim: SimExchange, capsys: pytest.CaptureFixture[str]) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await subscribe_with_snapshot(ws, TICKER)
        code = await asyncio.to_thread(cli_main, ["fault", "drop", "kind=public", "--admin", urls(sim).admin])
        assert code == 0
        assert await closed_within(ws, 2.0)
    assert json.loads(capsys.readouterr().out) == {"ok": True, "dropped": 1}
    code = await asyncio.to_thread(cli_main, ["fault", "rest-error", "code=10016", "--admin", urls(sim).admin])
    assert code == 0 and list(sim.faults.rest_errors) == [10016]


async def test_cli_fault_errors_are_clear_and_non_zero(sim: SimExchange, capsys: pytest.CaptureFixture[str]) -> None:
    admin = urls(sim).admin
    assert cli_main(["fault", "meteor", "--admin", admin]) == 2
    assert "invalid choice: 'meteor'" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_main, ["fault", "drop", "public", "--admin", admin]) == 2
    assert "expected KEY=VALUE, got 'public'" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_main, ["fault", "rest-error", "code=12345", "--admin", admin]) == 2
    assert "code: must be one of 10000, 10006, 10016 (got '12345')" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_main, ["fault", "drop", "kind=pubilc", "--admin", admin]) == 2
    assert "(got 'pubilc')" in capsys.readouterr().err
    assert await asyncio.to_thread(cli_main, ["fault", "clear", "--admin", "http://127.0.0.1:1/_sim"]) == 1
    assert "cannot reach" in capsys.readouterr().err
    assert not sim.faults.rest_errors


async def test_cli_binary_reaches_a_running_exchange(sim: SimExchange) -> None:
    async with open_ws(urls(sim).private_ws) as ws:
        process = await asyncio.create_subprocess_exec(
            str(console_script()),
            "fault",
            "drop",
            "kind=private",
            "--admin",
            urls(sim).admin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, err.decode()
        assert json.loads(out) == {"ok": True, "dropped": 1}
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 2.0)
