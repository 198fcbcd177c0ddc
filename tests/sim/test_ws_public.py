"""Public linear stream of the embedded exchange, driven by a raw websockets client (§5)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.golden import assert_matches_golden, assert_shape, load_fixture
from tests.sim.ws_helpers import (
    closed_within,
    collect,
    is_op,
    is_topic,
    open_ws,
    public_ticker,
    recv_json,
    recv_until,
    send,
    subscribe_public,
    subscribe_with_snapshot,
    until,
    urls,
)
from tui_bot.sim.server import SimExchange

TICKER = "tickers.BTCUSDT"
SNAPSHOT_FIELDS = set(load_fixture("ws_ticker_snapshot")["data"])


async def test_subscribe_ack_echoes_req_id_and_carries_conn_id(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        ack = await subscribe_public(ws, [TICKER], req_id="sub-1")
        assert_matches_golden(ack, "ws_public_subscribe_ok")
        assert ack == {"success": True, "ret_msg": "", "conn_id": ack["conn_id"], "req_id": "sub-1", "op": "subscribe"}
        assert ack["conn_id"]
        await send(ws, {"op": "subscribe", "args": ["tickers.ETHUSDT"]})
        bare = await recv_until(ws, is_op("subscribe"))
        assert bare["success"] is True and bare["req_id"] == "" and bare["conn_id"] == ack["conn_id"]


@pytest.mark.parametrize("topic", ["tickers.BTCUSDT", "kline.1.BTCUSDT", "orderbook.50.BTCUSDT", "orderbook.1.BTCUSDT"])
async def test_subscribe_ack_comes_before_the_first_snapshot(manual_sim: SimExchange, topic: str) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await send(ws, {"req_id": "s", "op": "subscribe", "args": [topic]})
        first, second = await recv_json(ws), await recv_json(ws)
    assert (first["op"], first["req_id"], first["success"]) == ("subscribe", "s", True), first
    assert (second["topic"], second["type"]) == (topic, "snapshot"), second


async def test_one_ack_then_the_snapshots_in_request_order(manual_sim: SimExchange) -> None:
    topics = ["orderbook.200.ETHUSDT", "tickers.BTCUSDT", "publicTrade.BTCUSDT", "kline.5.SOLUSDT"]
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await send(ws, {"req_id": "many", "op": "subscribe", "args": topics})
        frames = [await recv_json(ws) for _ in range(4)]
        assert await collect(ws, 0.2) == [], "publicTrade has no snapshot on subscribe; nothing else follows"
    assert (frames[0]["op"], frames[0]["req_id"]) == ("subscribe", "many")
    assert [(f["topic"], f["type"]) for f in frames[1:]] == [(t, "snapshot") for t in topics if "Trade" not in t]


async def test_each_connection_gets_its_own_conn_id(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as first, open_ws(urls(sim).public_ws) as second:
        await send(first, {"op": "ping"})
        await send(second, {"op": "ping"})
        assert (await recv_json(first))["conn_id"] != (await recv_json(second))["conn_id"]


async def test_ticker_snapshot_then_deltas_with_only_changed_fields(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await send(ws, {"req_id": "t", "op": "subscribe", "args": [TICKER]})
        snapshot = await recv_until(ws, is_topic(TICKER))
        assert snapshot["type"] == "snapshot"
        assert_matches_golden(snapshot, "ws_ticker_snapshot")
        assert set(snapshot["data"]) == SNAPSHOT_FIELDS
        state = dict(snapshot["data"])
        deltas = await collect(ws, 0.5, is_topic(TICKER))
    assert len(deltas) >= 3, f"only {len(deltas)} ticker frames in 0.5 s at 20 ms steps"
    golden_data = load_fixture("ws_ticker_snapshot")["data"]
    last_cs = snapshot["cs"]
    for delta in deltas:
        assert delta["type"] == "delta", delta
        assert set(delta) == {"topic", "type", "ts", "cs", "data"}
        assert type(delta["cs"]) is int and type(delta["ts"]) is int
        assert delta["cs"] > last_cs, (last_cs, delta["cs"])
        last_cs = delta["cs"]
        data = delta["data"]
        assert data["symbol"] == "BTCUSDT"
        changed = {k: v for k, v in data.items() if k != "symbol"}
        assert changed, "a delta must carry at least one changed field"
        assert set(changed) < SNAPSHOT_FIELDS, set(changed) - SNAPSHOT_FIELDS
        assert_shape(data, {k: golden_data[k] for k in data})
        unchanged = {k: v for k, v in changed.items() if state[k] == v}
        assert not unchanged, f"delta repeats unchanged fields {unchanged}"
        state.update(changed)
    assert any("lastPrice" in d["data"] for d in deltas)


async def test_deltas_follow_the_market_step(manual_sim: SimExchange) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        _, snapshot = await subscribe_with_snapshot(ws, TICKER)
        assert snapshot["type"] == "snapshot"
        assert await collect(ws, 0.2, is_topic(TICKER)) == [], "no deltas while the market is still"
        await manual_sim.step(1)
        first = await recv_until(ws, is_topic(TICKER))
        await manual_sim.step(1)
        second = await recv_until(ws, is_topic(TICKER))
        assert (first["type"], second["type"]) == ("delta", "delta")
        assert second["cs"] > first["cs"]


async def test_kline_snapshot_matches_golden(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await send(ws, {"req_id": "k", "op": "subscribe", "args": ["kline.1.BTCUSDT"]})
        frame = await recv_until(ws, is_topic("kline.1.BTCUSDT"))
    assert_matches_golden(frame, "ws_kline")
    assert frame["type"] == "snapshot"
    bar = frame["data"][0]
    assert bar["interval"] == "1" and bar["confirm"] is False
    assert bar["start"] % 60_000 == 0 and bar["end"] == bar["start"] + 59_999
    assert Decimal(bar["low"]) <= Decimal(bar["close"]) <= Decimal(bar["high"])


async def test_public_trade_matches_golden(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        ack = await subscribe_public(ws, ["publicTrade.BTCUSDT"])
        assert ack["success"] is True
        frame = await recv_until(ws, is_topic("publicTrade.BTCUSDT"))
    assert_matches_golden(frame, "ws_public_trade")
    assert frame["type"] == "snapshot" and frame["data"]
    times = [trade["T"] for trade in frame["data"]]
    assert times == sorted(times)
    assert all(t["s"] == "BTCUSDT" and t["S"] in ("Buy", "Sell") and Decimal(t["v"]) > 0 for t in frame["data"])


async def test_unsubscribe_acks_and_stops_data(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await subscribe_public(ws, [TICKER])
        await recv_until(ws, is_topic(TICKER, "delta"))
        await send(ws, {"req_id": "unsub-1", "op": "unsubscribe", "args": [TICKER]})
        ack = await recv_until(ws, is_op("unsubscribe", "unsub-1"))
        assert_matches_golden(ack, "ws_public_unsubscribe_ok")
        assert ack["success"] is True
        assert await collect(ws, 0.3, is_topic(TICKER)) == []


async def test_ping_answers_pong(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await send(ws, {"req_id": "ping-1", "op": "ping"})
        pong = await recv_json(ws)
    assert_matches_golden(pong, "ws_public_pong")
    assert (pong["success"], pong["ret_msg"], pong["req_id"], pong["op"]) == (True, "pong", "ping-1", "ping")


async def test_invalid_symbol_fails_with_bybit_text(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        ack = await subscribe_public(ws, ["tickers.BTCUSDX"], req_id="sub-1")
        assert_matches_golden(ack, "ws_public_subscribe_fail")
        assert ack["success"] is False
        assert ack["ret_msg"] == "Invalid symbol :[tickers.BTCUSDX]"
        assert await collect(ws, 0.2, lambda f: "topic" in f) == []


async def test_unknown_topic_fails_with_handler_not_found(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        for topic in ("liquidations.BTCUSDT", "kline.2.BTCUSDT", "order"):
            ack = await subscribe_public(ws, [topic], req_id=topic)
            assert ack["success"] is False
            assert ack["ret_msg"] == f"error:handler not found,topic:{topic}"


async def test_duplicate_subscribe_fails_but_keeps_streaming(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        assert (await subscribe_public(ws, [TICKER], req_id="a"))["success"] is True
        again = await subscribe_public(ws, [TICKER], req_id="b")
        assert again["success"] is False
        assert again["ret_msg"] == f"error:already subscribed,topic:{TICKER}"
        frames = await collect(ws, 0.3, is_topic(TICKER))
    assert frames and all(f["type"] == "delta" for f in frames), "no second snapshot, deltas continue"


async def test_malformed_json_gets_an_error_frame_and_socket_keeps_serving(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        for garbage in ("{not json", "[1, 2]", '"text"'):
            await send(ws, garbage)
            error = await recv_json(ws)
            assert error["success"] is False and error["ret_msg"], error
            assert set(error) == {"success", "ret_msg", "conn_id", "req_id", "op"}
        await send(ws, {"req_id": "p", "op": "ping"})
        assert (await recv_json(ws))["ret_msg"] == "pong"
        ack, snapshot = await subscribe_with_snapshot(ws, TICKER)
        assert ack["success"] is True and snapshot["type"] == "snapshot"


async def test_binary_frame_gets_an_error_frame(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await ws.send(b"\x00\x01")
        error = await recv_json(ws)
        assert error["success"] is False
        await send(ws, {"op": "ping"})
        assert (await recv_json(ws))["ret_msg"] == "pong"


async def test_unknown_op_fails(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        await send(ws, {"req_id": "u1", "op": "hello", "args": []})
        reply = await recv_json(ws)
    assert reply["success"] is False
    assert reply["ret_msg"] == "error:invalid op"
    assert (reply["op"], reply["req_id"]) == ("hello", "u1")


async def test_empty_args_fail(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        reply = await subscribe_public(ws, [], req_id="e")
    assert reply["success"] is False and reply["ret_msg"]


async def test_other_clients_keep_streaming_while_one_sends_garbage(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as good, open_ws(urls(sim).public_ws) as bad:
        _, snapshot = await subscribe_with_snapshot(good, TICKER)

        async def abuse() -> list[dict]:
            for i in range(50):
                await send(bad, "\x7f{{{" * (i + 1))
            return [await recv_json(bad) for _ in range(50)]

        errors, frames = await asyncio.gather(abuse(), collect(good, 0.5, is_topic(TICKER)))
        assert all(
            e["success"] is False and e["ret_msg"] == "Failed to decode incoming data: not valid JSON" for e in errors
        )
        assert len(frames) >= 3, f"good client starved: {len(frames)} frames"
        sequence = [snapshot["cs"]] + [f["cs"] for f in frames]
        assert sequence == sorted(set(sequence)), "cs keeps increasing for the well-behaved client"
        await send(bad, {"op": "ping"})
        assert (await recv_json(bad))["ret_msg"] == "pong"


async def test_idle_connection_is_closed_but_streaming_one_is_not() -> None:
    async with (
        SimExchange(seed=7, step_seconds=0.02, idle_timeout=1.5) as sim,
        open_ws(urls(sim).public_ws) as idle,
        open_ws(urls(sim).public_ws) as busy,
    ):
        await subscribe_public(busy, [TICKER])
        await send(idle, {"op": "ping"})
        assert (await recv_json(idle))["ret_msg"] == "pong"
        assert await closed_within(idle, 4.0), "an idle connection must be closed after idle_timeout"
        assert idle.close_code == 1000
        assert await collect(busy, 0.2, is_topic(TICKER)), "data pushes count as activity"
        await send(busy, {"op": "ping"})
        assert (await recv_until(busy, is_op("ping")))["ret_msg"] == "pong"


async def test_closed_connections_leave_no_writer_tasks(sim: SimExchange) -> None:
    for _ in range(5):
        async with open_ws(urls(sim).public_ws) as ws:
            await send(ws, {"op": "ping"})
            assert (await recv_json(ws))["ret_msg"] == "pong"

    def writers() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if getattr(t.get_coro(), "__qualname__", "") == "Peer._drain"]

    assert await until(lambda: not sim.public.peers)
    assert await until(lambda: not writers()), f"{len(writers())} writer tasks outlive their connections"


async def test_late_subscriber_converges_with_the_early_one(manual_sim: SimExchange) -> None:
    async with open_ws(urls(manual_sim).public_ws) as early, open_ws(urls(manual_sim).public_ws) as late:
        _, first = await subscribe_with_snapshot(early, TICKER)
        early_state = dict(first["data"])
        await manual_sim.step(3)
        _, joined = await subscribe_with_snapshot(late, TICKER)
        late_state = dict(joined["data"])
        await manual_sim.step(3)
        for ws, state in ((early, early_state), (late, late_state)):
            for frame in await collect(ws, 0.15, is_topic(TICKER)):
                assert frame["type"] == "delta"
                state.update(frame["data"])
        oracle = await public_ticker(manual_sim)
    assert late_state == early_state
    common = set(oracle) & set(early_state)
    assert {k: early_state[k] for k in common} == {k: oracle[k] for k in common}
