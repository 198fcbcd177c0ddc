"""Raw-socket helpers for the WebSocket tests: connect, authenticate, and receive with short deadlines."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tui_bot.exchange.bybit.signing import ws_auth_signature
from tui_bot.sim.server import SimExchange

PRIVATE_TOPICS = ["order", "execution", "position", "wallet"]
Frame = dict[str, Any]


def now_ms() -> int:
    """Local wall-clock time in ms (the exchange's clock without skew)."""
    return time.time_ns() // 1_000_000


def urls(sim: SimExchange) -> Any:
    """The running exchange's URLs (fails loudly when it was not started)."""
    assert sim.urls is not None, "exchange not started"
    return sim.urls


def auth_frame(
    api_key: str,
    api_secret: str,
    *,
    expires: int | str | None = None,
    grace_ms: int = 5000,
    req_id: str | None = None,
    signature: str | None = None,
) -> Frame:
    """An op:auth frame signed like pybit ("GET/realtime" + expires)."""
    expires = now_ms() + grace_ms if expires is None else expires
    sign = signature if signature is not None else ws_auth_signature(api_secret, expires)
    frame: Frame = {"op": "auth", "args": [api_key, expires, sign]}
    if req_id is not None:
        frame["req_id"] = req_id
    return frame


async def send(ws: ClientConnection, payload: Frame | str) -> None:
    """Send a dict as JSON or a raw string as-is."""
    await ws.send(payload if isinstance(payload, str) else json.dumps(payload))


async def recv_text(ws: ClientConnection, timeout: float = 2.0) -> str:
    """The next text frame, or an assertion failure after timeout seconds."""
    try:
        data = await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        raise AssertionError(f"no frame within {timeout}s") from None
    assert isinstance(data, str), f"expected a text frame, got {data!r}"
    return data


async def recv_json(ws: ClientConnection, timeout: float = 2.0) -> Frame:
    """The next frame parsed as a JSON object."""
    frame = json.loads(await recv_text(ws, timeout))
    assert isinstance(frame, dict), frame
    return frame


async def recv_until(ws: ClientConnection, predicate: Callable[[Frame], bool], timeout: float = 2.0) -> Frame:
    """Skip frames until one satisfies predicate; fail when none does within timeout."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {timeout}s; saw {seen[-5:]}")
        try:
            frame = await recv_json(ws, remaining)
        except AssertionError:
            raise AssertionError(f"no matching frame within {timeout}s; saw {seen[-5:]}") from None
        if predicate(frame):
            return frame
        seen.append(json.dumps(frame)[:160])


async def collect(
    ws: ClientConnection, seconds: float, predicate: Callable[[Frame], bool] = lambda f: True
) -> list[Frame]:
    """Every frame matching predicate received during the next `seconds` seconds."""
    deadline = time.monotonic() + seconds
    frames: list[Frame] = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            text = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            break
        frame = json.loads(text)
        if predicate(frame):
            frames.append(frame)
    return frames


async def collect_texts(ws: ClientConnection, seconds: float) -> list[str]:
    """Every raw text frame received during the next `seconds` seconds."""
    deadline = time.monotonic() + seconds
    texts: list[str] = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            data = await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            break
        assert isinstance(data, str)
        texts.append(data)
    return texts


async def closed_within(ws: ClientConnection, seconds: float) -> bool:
    """True when the server closes (or drops) the socket within seconds, reading frames meanwhile."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(ws.recv(), remaining)
        except TimeoutError:
            return False
        except ConnectionClosed:
            return True
    return False


def is_topic(topic: str, type_: str | None = None) -> Callable[[Frame], bool]:
    """A predicate for data frames of one topic (and optionally one type)."""
    return lambda f: f.get("topic") == topic and (type_ is None or f.get("type") == type_)


def is_op(op: str, req_id: str | None = None) -> Callable[[Frame], bool]:
    """A predicate for control responses of one op (and optionally one req_id/reqId)."""

    def match(frame: Frame) -> bool:
        rid = frame.get("req_id", frame.get("reqId"))
        return frame.get("op") == op and (req_id is None or rid == req_id)

    return match


@asynccontextmanager
async def open_ws(url: str) -> AsyncIterator[ClientConnection]:
    """A raw client socket without protocol pings (so idle timing is under the test's control)."""
    async with connect(url, ping_interval=None, open_timeout=5, close_timeout=1) as ws:
        yield ws


async def subscribe_public(ws: ClientConnection, topics: list[str], req_id: str = "sub-1") -> Frame:
    """Subscribe and return the ack (data frames before it are skipped)."""
    await send(ws, {"req_id": req_id, "op": "subscribe", "args": topics})
    return await recv_until(ws, is_op("subscribe", req_id))


async def subscribe_with_snapshot(ws: ClientConnection, topic: str, req_id: str = "sub-1") -> tuple[Frame, Frame]:
    """Subscribe to one topic and return (ack, first data frame) whichever arrives first."""
    await send(ws, {"req_id": req_id, "op": "subscribe", "args": [topic]})
    ack: Frame | None = None
    snapshot: Frame | None = None
    while ack is None or snapshot is None:
        frame = await recv_until(ws, lambda f: is_op("subscribe", req_id)(f) or f.get("topic") == topic)
        if frame.get("topic") == topic:
            snapshot = snapshot or frame
        else:
            ack = frame
    return ack, snapshot


async def authenticate(ws: ClientConnection, sim: SimExchange, *, req_id: str | None = "auth-1") -> Frame:
    """Send a valid private/trade auth frame and return the response."""
    await send(ws, auth_frame(sim.api_key, sim.api_secret, req_id=req_id))
    return await recv_until(ws, is_op("auth"))


@asynccontextmanager
async def private_ws(sim: SimExchange, topics: list[str] | None = None) -> AsyncIterator[ClientConnection]:
    """An authenticated private socket subscribed to topics (the four all-in-one topics by default)."""
    async with open_ws(urls(sim).private_ws) as ws:
        ack = await authenticate(ws, sim)
        assert ack["success"] is True, ack
        await send(ws, {"req_id": "s1", "op": "subscribe", "args": topics or PRIVATE_TOPICS})
        sub = await recv_until(ws, is_op("subscribe", "s1"))
        assert sub["success"] is True, sub
        yield ws


async def private_data(ws: ClientConnection, count: int, timeout: float = 3.0) -> list[Frame]:
    """The next count private data frames (frames carrying a topic), control frames skipped."""
    frames = []
    for _ in range(count):
        frames.append(await recv_until(ws, lambda f: "topic" in f, timeout))
    return frames


def trade_frame(
    op: str,
    args: list[Frame] | None,
    req_id: str | None = None,
    *,
    timestamp: int | None = None,
    recv_window: str | None = "5000",
    header: Frame | None = None,
) -> Frame:
    """A trade-socket request frame with the X-BAPI-TIMESTAMP header block."""
    if header is None:
        header = {"X-BAPI-TIMESTAMP": str(timestamp if timestamp is not None else now_ms())}
        if recv_window is not None:
            header["X-BAPI-RECV-WINDOW"] = recv_window
    frame: Frame = {"header": header, "op": op}
    if args is not None:
        frame["args"] = args
    if req_id is not None:
        frame["reqId"] = req_id
    return frame


@asynccontextmanager
async def trade_ws(sim: SimExchange, *, auth: bool = True) -> AsyncIterator[ClientConnection]:
    """A trade socket, authenticated unless auth is False."""
    async with open_ws(urls(sim).trade_ws) as ws:
        if auth:
            ack = await authenticate(ws, sim, req_id=None)
            assert ack["retCode"] == 0, ack
        yield ws


async def trade_call(ws: ClientConnection, op: str, args: list[Frame] | None, req_id: str, **kwargs: Any) -> Frame:
    """Send one trade request and return the response carrying the same reqId."""
    await send(ws, trade_frame(op, args, req_id, **kwargs))
    return await recv_until(ws, lambda f: f.get("reqId") == req_id)


async def until(predicate: Callable[[], bool], timeout: float = 2.0, interval: float = 0.02) -> bool:
    """Poll predicate until it holds (True) or timeout passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Blocking variant of until() for the synchronous pybit tests."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


async def admin_post(sim: SimExchange, path: str, body: Frame) -> tuple[int, str]:
    """POST JSON to the admin endpoint; returns (HTTP status, body text)."""
    async with aiohttp.ClientSession() as session, session.post(f"{urls(sim).admin}{path}", json=body) as resp:
        return resp.status, await resp.text()


async def public_ticker(sim: SimExchange, symbol: str = "BTCUSDT") -> Frame:
    """The REST /v5/market/tickers item of symbol (public, unsigned)."""
    url = f"{urls(sim).rest}/v5/market/tickers?category=linear&symbol={symbol}"
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        body = await resp.json()
    assert body["retCode"] == 0, body
    return body["result"]["list"][0]


def market_order(side: str = "Buy", qty: str = "0.010", **extra: Any) -> Frame:
    """A linear BTCUSDT market order body."""
    return {"category": "linear", "symbol": "BTCUSDT", "side": side, "orderType": "Market", "qty": qty, **extra}


def limit_order(price: str, side: str = "Buy", qty: str = "0.010", **extra: Any) -> Frame:
    """A linear BTCUSDT GTC limit order body."""
    return {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": side,
        "orderType": "Limit",
        "qty": qty,
        "price": price,
        "timeInForce": "GTC",
        **extra,
    }


def tick_price(reference: str, factor: str) -> str:
    """reference * factor rounded to BTCUSDT's 0.10 tick, as a wire string."""
    return str((Decimal(reference) * Decimal(factor)).quantize(Decimal("0.1")))
