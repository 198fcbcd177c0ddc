"""The embedded exchange's network latency: every REST response and WS frame waits for it, in order."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.sim.ws_helpers import closed_within, open_ws, recv_json, send, until, urls
from tui_bot.sim.server import SimExchange

LATENCY_MS = 120


@pytest.fixture
async def slow_sim() -> AsyncIterator[SimExchange]:
    """A still exchange LATENCY_MS away."""
    exchange = SimExchange(seed=7, autostep=False, latency_ms=LATENCY_MS)
    await exchange.start()
    yield exchange
    await exchange.stop()


async def test_a_rest_response_arrives_no_sooner_than_the_latency(slow_sim: SimExchange) -> None:
    async with aiohttp.ClientSession() as session:
        for path in (
            "/v5/market/time",
            "/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=1",
            "/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=0",
        ):
            started = time.monotonic()
            async with session.get(f"{urls(slow_sim).rest}{path}") as response:
                body = await response.json()
            assert time.monotonic() - started >= LATENCY_MS / 1000, path
            assert body["retCode"] in (0, 10001)


async def test_a_ws_reply_arrives_no_sooner_than_the_latency(slow_sim: SimExchange) -> None:
    async with open_ws(urls(slow_sim).public_ws) as ws:
        started = time.monotonic()
        await send(ws, {"req_id": "p", "op": "ping"})
        pong = await recv_json(ws)
        assert time.monotonic() - started >= LATENCY_MS / 1000
    assert pong["ret_msg"] == "pong"


async def test_frames_keep_their_order_on_a_slow_connection(slow_sim: SimExchange) -> None:
    async with open_ws(urls(slow_sim).public_ws) as ws:
        for i in range(30):
            await send(ws, {"req_id": f"p{i}", "op": "ping"})
        await send(ws, {"req_id": "s", "op": "subscribe", "args": ["orderbook.50.BTCUSDT", "tickers.BTCUSDT"]})
        assert await until(lambda: any(p.topics for p in slow_sim.public.peers))
        await slow_sim.step(2)
        frames = [await recv_json(ws) for _ in range(37)]
    assert [f["req_id"] for f in frames[:30]] == [f"p{i}" for i in range(30)]
    assert frames[30]["op"] == "subscribe"
    labels = [(f["topic"], f["type"]) for f in frames[31:]]
    assert labels == [
        ("orderbook.50.BTCUSDT", "snapshot"),
        ("tickers.BTCUSDT", "snapshot"),
        *[("tickers.BTCUSDT", "delta"), ("orderbook.50.BTCUSDT", "delta")] * 2,
    ]


async def test_a_shutdown_still_delivers_what_was_queued(slow_sim: SimExchange) -> None:
    async with open_ws(urls(slow_sim).public_ws) as ws:
        asked = time.monotonic()
        await send(ws, {"req_id": "last", "op": "ping"})
        assert await until(lambda: any(p.last_client_frame > asked for p in slow_sim.public.peers))
        await slow_sim.stop()
        assert (await recv_json(ws))["req_id"] == "last"
        assert await closed_within(ws, 2), "the close follows the queued reply"
    assert ws.close_code == 1001


def test_latency_must_be_a_sane_number_of_ms() -> None:
    for bad in (-1, 5001, float("nan")):
        with pytest.raises(ValueError, match="latency must be 0-5000 ms"):
            SimExchange(latency_ms=bad)
