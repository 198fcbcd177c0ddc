"""TradeConnection against the embedded exchange, plus a tiny local venue that stays silent or drops the socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.client import Recorder, decode_trade, until
from tui_bot.domain.events import ConnectionState
from tui_bot.exchange.bybit.reconnect import ReconnectPolicy
from tui_bot.exchange.bybit.trade_ws import TradeConnection
from tui_bot.exchange.errors import SendTimeoutError
from tui_bot.sim.server import SimExchange

OrderHandler = Callable[[ServerConnection, dict[str, Any]], Awaitable[None]]
Factory = Callable[..., tuple[TradeConnection, Recorder]]


def market(qty: str = "0.010", **extra: Any) -> dict[str, Any]:
    return {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": qty, **extra}


@pytest.fixture
async def connections() -> AsyncIterator[list[TradeConnection]]:
    made: list[TradeConnection] = []
    yield made
    for conn in made:
        await conn.stop()


@pytest.fixture
def make(connections: list[TradeConnection]) -> Factory:
    """Build a trade connection with fast timings against any URL."""

    def build(url: str, credentials: tuple[str, str], **options: Any) -> tuple[TradeConnection, Recorder]:
        recorder = Recorder()
        options = {"reconnect": ReconnectPolicy(initial=0.02, cap=0.1), "request_timeout": 2.0, **options}
        conn = TradeConnection(
            "trade",
            url,
            credentials=credentials,
            decode_trade=options.pop("decode", decode_trade),
            on_events=recorder,
            **options,
        )
        connections.append(conn)
        return conn, recorder

    return build


def sim_trade(sim: SimExchange, make: Factory, **options: Any) -> tuple[TradeConnection, Recorder]:
    assert sim.urls is not None
    return make(sim.urls.trade_ws, (sim.api_key, sim.api_secret), **options)


async def ready(conn: TradeConnection) -> None:
    await until(lambda: conn.is_ready, what=f"{conn.name} ready")


@asynccontextmanager
async def local_venue(on_order: OrderHandler) -> AsyncIterator[str]:
    """A trade socket that accepts any auth, answers pings, and hands order ops to on_order."""

    async def handler(ws: ServerConnection) -> None:
        async for raw in ws:
            msg = orjson.loads(raw)
            echo = {"reqId": msg["reqId"]} if "reqId" in msg else {}
            if msg.get("op") == "auth":
                await ws.send(
                    orjson.dumps({"retCode": 0, "retMsg": "OK", "op": "auth", "connId": "c", **echo}).decode()
                )
            elif msg.get("op") == "ping":
                await ws.send(
                    orjson.dumps({"retCode": 0, "retMsg": "OK", "op": "pong", "data": ["1"], **echo}).decode()
                )
            else:
                await on_order(ws, msg)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v5/trade"


async def ignore(ws: ServerConnection, msg: dict[str, Any]) -> None:
    """Never answer."""


async def answer_without_req_id(ws: ServerConnection, msg: dict[str, Any]) -> None:
    """A permission error that carries no reqId, as ccxt reports Bybit sometimes sends."""
    await ws.send(orjson.dumps({"retCode": 10005, "retMsg": "Permission denied", "op": msg["op"]}).decode())


async def drop(ws: ServerConnection, msg: dict[str, Any]) -> None:
    """Cut the connection without a close handshake."""
    ws.transport.abort()


# -- against the embedded exchange -----------------------------------------------------------------


async def test_order_create_returns_control_with_order_id(sim: SimExchange, make: Factory) -> None:
    conn, rec = sim_trade(sim, make)
    conn.start()
    await ready(conn)
    reply = await conn.request("order.create", market(orderLinkId="ws-test-0001"))
    assert reply.success and reply.ret_code == 0 and reply.op == "order.create"
    assert reply.data["orderId"] and reply.data["orderLinkId"] == "ws-test-0001"
    assert reply.req_id.startswith(conn._prefix) and len(reply.req_id) <= 36
    assert rec.state_list() == [ConnectionState.CONNECTING, ConnectionState.LIVE]


async def test_business_errors_are_returned_not_raised(sim: SimExchange, make: Factory) -> None:
    conn, _ = sim_trade(sim, make)
    conn.start()
    await ready(conn)
    sim.faults.order_rejects.append((110007, "Insufficient available balance"))
    rejected = await conn.request("order.create", market())
    assert not rejected.success and rejected.ret_code == 110007 and rejected.data == {}
    invalid = await conn.request("order.create", {"category": "linear", "symbol": "BTCUSDT", "side": "Buy"})
    assert invalid.ret_code == 10001, invalid
    assert conn.is_ready


async def test_request_ids_are_unique_per_connection(sim: SimExchange, make: Factory) -> None:
    conn, _ = sim_trade(sim, make)
    conn.start()
    await ready(conn)
    replies = await asyncio.gather(*(conn.request("order.create", market()) for _ in range(5)))
    assert [r.ret_code for r in replies] == [0] * 5
    assert len({r.req_id for r in replies}) == 5 and len({r.data["orderId"] for r in replies}) == 5


async def test_request_when_not_ready_raises_connection_error(sim: SimExchange, make: Factory) -> None:
    conn, _ = sim_trade(sim, make)
    with pytest.raises(ConnectionError, match="not ready"):
        await conn.request("order.create", market())


async def test_wrong_secret_goes_down_and_requests_are_refused(sim: SimExchange, make: Factory) -> None:
    assert sim.urls is not None
    conn, rec = make(sim.urls.trade_ws, (sim.api_key, "0" * 36))
    conn.start()
    await until(lambda: rec.state_list().count(ConnectionState.DOWN) >= 2, what="two auth failures")
    assert all(reason.startswith("auth failed: ") for state, reason in rec.states() if state is ConnectionState.DOWN)
    assert not conn.is_ready
    with pytest.raises(ConnectionError):
        await conn.request("order.create", market())


async def test_now_ms_corrects_for_the_server_clock(sim: SimExchange, make: Factory) -> None:
    sim.clock.skew_ms = 8_000
    naive, _ = sim_trade(sim, make)
    corrected, _ = sim_trade(sim, make, now_ms=sim.clock.now_ms)
    naive.start()
    corrected.start()
    await ready(naive)
    await ready(corrected)
    assert (await naive.request("order.create", market())).ret_code == 10002
    assert (await corrected.request("order.create", market())).ret_code == 0


async def test_trade_pongs_give_rtt(sim: SimExchange, make: Factory) -> None:
    conn, _ = sim_trade(sim, make, ping_interval=0.1)
    conn.start()
    await until(lambda: len(conn.stats.ping_rtt_ms) >= 2, what="two trade pongs")
    assert 0 < conn.stats.ping_rtt_ms.summary().max < 1000


async def test_with_the_real_trade_decoder(sim: SimExchange, make: Factory) -> None:
    parse = pytest.importorskip("tui_bot.exchange.bybit.parse")
    conn, _ = sim_trade(sim, make, decode=parse.decode_trade, ping_interval=0.1)
    conn.start()
    await ready(conn)
    reply = await conn.request("order.create", market())
    assert reply.ret_code == 0 and reply.data["orderId"]
    await until(lambda: len(conn.stats.ping_rtt_ms) >= 1, what="a pong through parse.decode_trade")
    assert conn.stats.decode_errors == 0


# -- against a local venue that misbehaves ---------------------------------------------------------


async def test_unanswered_request_raises_send_timeout(make: Factory) -> None:
    async with local_venue(ignore) as url:
        conn, _ = make(url, ("key", "secret"), request_timeout=0.2)
        conn.start()
        await ready(conn)
        started = time.monotonic()
        with pytest.raises(SendTimeoutError) as caught:
            await conn.request("order.create", market(orderLinkId="maybe-placed"))
        assert time.monotonic() - started >= 0.15, "raised before the request timeout"
        assert caught.value.request.startswith(conn._prefix) and "order.create" in str(caught.value)
        assert conn.is_ready and not conn._replies


async def test_reply_without_req_id_does_not_leave_the_caller_hanging(make: Factory) -> None:
    async with local_venue(answer_without_req_id) as url:
        conn, _ = make(url, ("key", "secret"), request_timeout=0.2)
        conn.start()
        await ready(conn)
        with pytest.raises(SendTimeoutError):
            await conn.request("order.create", market())
        assert conn.stats.decode_errors == 0 and conn.is_ready


async def test_pending_request_fails_with_connection_error_when_the_socket_drops(make: Factory) -> None:
    async with local_venue(drop) as url:
        conn, rec = make(url, ("key", "secret"), request_timeout=5.0)
        conn.start()
        await ready(conn)
        with pytest.raises(ConnectionError):  # waiting out the 5 s timeout would raise SendTimeoutError instead
            await conn.request("order.create", market())
        await until(lambda: conn.is_ready and conn.stats.reconnects == 1, what="reconnected")
        assert ConnectionState.RECONNECTING in rec.state_list()


async def test_stop_fails_pending_requests_and_leaves_no_tasks(make: Factory) -> None:
    async with local_venue(ignore) as url:
        conn, rec = make(url, ("key", "secret"), request_timeout=5.0)
        conn.start()
        await ready(conn)
        pending = asyncio.create_task(conn.request("order.create", market()))
        await until(lambda: bool(conn._replies), what="request in flight")
        await conn.stop()
        with pytest.raises(ConnectionError):
            await pending
        assert rec.state_list()[-1] is ConnectionState.STOPPED and not conn.is_ready
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("ws:") and not t.done()]
