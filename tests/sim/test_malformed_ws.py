"""Malformed WebSocket frames on the public, private and trade sockets, one table row each, answered as Bybit does."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader as FrameBuffer

from tests.golden import assert_matches_golden
from tests.sim.served import assert_no_traceback, served_exchange
from tests.sim.ws_helpers import authenticate, now_ms, open_ws, recv_json, recv_until, send
from tui_bot.sim.server import SimExchange

DECODE = "Failed to decode incoming data: "
PATHS = {"public": "/v5/public/linear", "private": "/v5/private", "trade": "/v5/trade"}
DECODE_GOLDEN = {
    "public": "ws_public_decode_error",
    "private": "ws_private_decode_error",
    "trade": "ws_trade_decode_error",
}
DECODE_REPLY: dict[str, dict[str, object]] = {
    "public": {"success": False, "op": "", "req_id": ""},
    "private": {"success": False, "op": ""},
    "trade": {"retCode": 10001, "op": ""},
}


@dataclass(frozen=True)
class FrameCase:
    """One malformed frame on one socket and Bybit's reply: fields it carries, a message pattern, fields it lacks."""

    id: str
    socket: str
    frame: str | bytes
    reply: dict[str, object]
    message: str
    golden: str | None = None
    absent: tuple[str, ...] = ()
    auth: bool = True


def undecodable(socket: str, frame: str | bytes, detail: str, case_id: str) -> FrameCase:
    """A frame the gateway cannot decode: the socket's failure shape, no op, no request id."""
    absent = () if socket == "public" else ("req_id", "reqId")
    return FrameCase(
        f"{socket}-{case_id}",
        socket,
        frame,
        DECODE_REPLY[socket],
        "^" + re.escape(DECODE + detail) + "$",
        DECODE_GOLDEN[socket],
        absent,
    )


NOW = "<now>"  # replaced by the current time in ms when the frame is sent


def _trade(op: str, args: object, req_id: str, header: object = None) -> str:
    head = {"X-BAPI-TIMESTAMP": NOW, "X-BAPI-RECV-WINDOW": "10000"} if header is None else header
    return json.dumps({"reqId": req_id, "header": head, "op": op, "args": args})


HUGE_ARGS = json.dumps({"req_id": "huge", "op": "subscribe", "args": [f"nosuch.{i}" for i in range(20_000)]})
BAD_ORDER = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": 0.01}

CASES = [
    # non-string ops and request ids: decoded like numbers-as-text, anything else fails the frame
    *[undecodable(s, '{"op": ["ping"]}', "op: not number or string", "op-list") for s in PATHS],
    *[undecodable(s, '{"op": {"a": 1}}', "op: not number or string", "op-object") for s in PATHS],
    *[undecodable(s, '{"op": true}', "op: not number or string", "op-bool") for s in PATHS],
    undecodable("public", '{"op": "ping", "req_id": {"id": 1}}', "req_id: not number or string", "req_id-object"),
    undecodable("private", '{"op": "ping", "req_id": [1]}', "req_id: not number or string", "req_id-list"),
    undecodable("trade", '{"op": "ping", "reqId": false}', "reqId: not number or string", "reqId-bool"),
    FrameCase(
        "public-op-number",
        "public",
        '{"op": 7, "req_id": "n"}',
        {"success": False, "op": "7", "req_id": "n"},
        "^error:invalid op$",
        "ws_public_subscribe_fail",
    ),
    FrameCase(
        "trade-op-number",
        "trade",
        '{"op": 7, "reqId": "n"}',
        {"retCode": 10404, "op": "7", "reqId": "n"},
        "^unsupported op: 7$",
        "ws_trade_order_error",
    ),
    FrameCase(
        "public-req_id-number",
        "public",
        '{"op": "ping", "req_id": 42}',
        {"success": True, "op": "ping", "req_id": "42"},
        "^pong$",
        "ws_public_pong",
    ),
    FrameCase(
        "private-req_id-number",
        "private",
        '{"op": "ping", "req_id": 42}',
        {"op": "pong", "req_id": "42"},
        "",
        "ws_private_pong",
    ),
    FrameCase(
        "trade-reqId-number",
        "trade",
        '{"op": "ping", "reqId": 42}',
        {"retCode": 0, "op": "pong", "reqId": "42"},
        "^OK$",
    ),
    # frames that are not a JSON object, and binary frames
    *[undecodable(s, "{", "not valid JSON", "not-json") for s in PATHS],
    *[undecodable(s, "", "not valid JSON", "empty-text") for s in PATHS],
    *[undecodable(s, '[{"op": "ping"}]', "not a JSON object", "json-array") for s in PATHS],
    *[undecodable(s, b'{"op": "ping"}', "a binary frame, not JSON text", "binary") for s in PATHS],
    # args of the wrong shape, a topic with a trailing newline, a huge args list
    undecodable("public", '{"op": "subscribe", "args": "tickers.BTCUSDT"}', "args: not an array", "args-string"),
    undecodable(
        "public",
        '{"op": "subscribe", "args": [{"topic": "tickers.BTCUSDT"}]}',
        "args: not number or string",
        "args-object",
    ),
    undecodable("private", '{"op": "subscribe", "args": [["order"]]}', "args: not number or string", "args-nested"),
    FrameCase(
        "public-args-empty",
        "public",
        '{"op": "subscribe", "req_id": "e", "args": []}',
        {"success": False, "op": "subscribe", "req_id": "e"},
        "^error:args invalid$",
        "ws_public_subscribe_fail",
    ),
    FrameCase(
        "public-topic-newline",
        "public",
        '{"op": "subscribe", "req_id": "nl", "args": ["tickers.BTCUSDT\\n"]}',
        {"success": False, "op": "subscribe", "req_id": "nl"},
        "^error:handler not found,topic:tickers.BTCUSDT\n$",
        "ws_public_subscribe_fail",
    ),
    FrameCase(
        "public-args-20000",
        "public",
        HUGE_ARGS,
        {"success": False, "op": "subscribe", "req_id": "huge"},
        "^error:handler not found,topic:nosuch.0$",
        "ws_public_subscribe_fail",
    ),
    FrameCase(
        "private-topic-number",
        "private",
        '{"op": "subscribe", "req_id": "t", "args": [5]}',
        {"success": False, "op": "subscribe", "req_id": "t"},
        "^error:handler not found,topic:5$",
        "ws_private_subscribe_ok",
    ),
    FrameCase(
        "private-auth-expires-exponent",
        "private",
        '{"op": "auth", "args": ["KEY", "1e13", "sig"]}',
        {"success": False, "op": "auth"},
        "^Params Error$",
        "ws_private_auth_fail",
        auth=False,
    ),
    FrameCase(
        "private-auth-expires-underscores",
        "private",
        '{"op": "auth", "args": ["KEY", "1_999_999_999_999", "sig"]}',
        {"success": False, "op": "auth"},
        "^Params Error$",
        "ws_private_auth_fail",
        auth=False,
    ),
    FrameCase(
        "trade-auth-expires-list",
        "trade",
        '{"op": "auth", "args": ["KEY", [1], "sig"]}',
        {"retCode": 10001, "op": "auth"},
        "^Params Error$",
        "ws_trade_auth_fail",
        auth=False,
    ),
    # the trade socket's header and args
    undecodable(
        "trade", _trade("order.create", [BAD_ORDER], "h1", header="now"), "header: not an object", "header-string"
    ),
    undecodable(
        "trade",
        _trade("order.create", [BAD_ORDER], "h2", header={"X-BAPI-TIMESTAMP": {"ms": 1}}),
        "header.X-BAPI-TIMESTAMP: not number or string",
        "header-timestamp-object",
    ),
    FrameCase(
        "trade-header-timestamp-text",
        "trade",
        _trade("order.create", [BAD_ORDER], "h3", header={"X-BAPI-TIMESTAMP": "soon"}),
        {"retCode": 10001, "op": "order.create", "reqId": "h3"},
        "X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-header-timestamp-spaces",
        "trade",
        _trade("order.create", [BAD_ORDER], "h4", header={"X-BAPI-TIMESTAMP": f" {NOW} "}),
        {"retCode": 10001, "op": "order.create", "reqId": "h4"},
        "X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-header-recv-window-underscore",
        "trade",
        _trade("order.create", [BAD_ORDER], "h5", header={"X-BAPI-TIMESTAMP": NOW, "X-BAPI-RECV-WINDOW": "10_000"}),
        {"retCode": 10001, "op": "order.create", "reqId": "h5"},
        "X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-args-object",
        "trade",
        _trade("order.create", BAD_ORDER, "a1"),
        {"retCode": 10001, "reqId": "a1"},
        "args must hold exactly one request object",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-args-two",
        "trade",
        _trade("order.cancel", [{}, {}], "a2"),
        {"retCode": 10001, "reqId": "a2"},
        "args must hold exactly one request object",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-qty-number",
        "trade",
        _trade("order.create", [BAD_ORDER], "a3"),
        {"retCode": 10001, "reqId": "a3"},
        "^params error: qty invalid type, expect string$",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-reqId-37-chars",
        "trade",
        _trade("order.create", [BAD_ORDER], "r" * 37),
        {"retCode": 10001},
        "reqId too long",
        "ws_trade_order_error",
    ),
    FrameCase(
        "trade-batch-op",
        "trade",
        _trade("order.create-batch", [BAD_ORDER], "b1"),
        {"retCode": 10404, "reqId": "b1"},
        "^unsupported op: order.create-batch$",
        "ws_trade_order_error",
    ),
]


@asynccontextmanager
async def socket_for(sim: SimExchange, case: FrameCase) -> AsyncIterator[ClientConnection]:
    """An open socket of the case's kind, authenticated when the case says so (public sockets never are)."""
    async with open_ws(f"ws://{sim.host}:{sim.port}{PATHS[case.socket]}") as ws:
        if case.socket != "public" and case.auth:
            ack = await authenticate(ws, sim, req_id=None)
            assert ack.get("success", ack.get("retCode") == 0) is True, ack
        yield ws


def check_reply(reply: dict[str, object], case: FrameCase) -> None:
    for key, value in case.reply.items():
        assert reply.get(key) == value, f"{key}: {reply}"
    for key in case.absent:
        assert key not in reply, f"{key} in {reply}"
    message = reply.get("ret_msg", reply.get("retMsg", ""))
    assert isinstance(message, str) and re.search(case.message, message), f"{message!r} !~ {case.message!r}"
    if case.golden is not None:
        assert_matches_golden(reply, case.golden)


async def assert_pings(ws: ClientConnection, socket: str) -> None:
    """The same socket still answers a ping."""
    await send(ws, {"op": "ping", "req_id": "alive", "reqId": "alive"})
    pong = await recv_until(ws, lambda f: f.get("op") in ("ping", "pong"))
    assert pong.get("ret_msg", "pong") == "pong" and pong.get("retCode", 0) == 0, pong


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_malformed_frame_gets_bybits_reply_on_the_same_socket(
    case: FrameCase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good), socket_for(sim, case) as ws:
        await ws.send(case.frame.replace(NOW, str(now_ms())) if isinstance(case.frame, str) else case.frame)
        check_reply(await recv_json(ws), case)
        await assert_pings(ws, case.socket)
        await good.assert_served()
    assert_no_traceback(caplog)


# -- frames that end the connection as the WebSocket protocol requires ----------------------------


@asynccontextmanager
async def raw_socket(sim: SimExchange, path: str) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """A TCP connection that has completed the WebSocket handshake, for frames a normal client cannot send."""
    reader, writer = await asyncio.open_connection(sim.host, sim.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {sim.host}:{sim.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):  # the server may have ended the connection first
            await writer.wait_closed()


class ServerFrames:
    """The frames a raw connection receives (server frames are unmasked), parsed by websockets' frame parser."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buffer = FrameBuffer()  # bytes read but not yet parsed carry over to the next frame

    async def next(self) -> Frame:
        parser = Frame.parse(self.buffer.read_exact, mask=False)
        while True:
            try:
                next(parser)
            except StopIteration as done:
                return done.value
            data = await asyncio.wait_for(self.reader.read(65536), 2)
            assert data, "the server closed the connection without a frame"
            self.buffer.feed_data(data)


@pytest.mark.parametrize("socket", list(PATHS))
async def test_an_unmasked_client_frame_closes_the_socket_with_1002(
    socket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Masked frames are read as usual; an unmasked one, even behind a masked one in the same write, fails with 1002."""
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good), raw_socket(sim, PATHS[socket]) as (reader, writer):
        frames = ServerFrames(reader)
        ping = Frame(Opcode.TEXT, b'{"op": "ping", "req_id": "m", "reqId": "m"}')
        writer.write(ping.serialize(mask=True))
        pong = json.loads((await frames.next()).data)
        assert pong["op"] in ("ping", "pong") and pong.get("req_id", pong.get("reqId")) == "m", pong
        writer.write(ping.serialize(mask=True) + ping.serialize(mask=False))
        frame = await frames.next()
        while frame.opcode is Opcode.TEXT:  # the masked ping's pong may or may not leave before the close
            frame = await frames.next()
        assert frame.opcode is Opcode.CLOSE and Close.parse(frame.data).code == 1002, frame
        assert await asyncio.wait_for(reader.read(), 2) == b"", "the connection stays open after the close frame"
        await good.assert_served()
    assert_no_traceback(caplog)


async def test_frames_split_across_writes_are_checked_frame_by_frame(caplog: pytest.LogCaptureFixture) -> None:
    """A masked frame sent a byte per write (a 126-length header among them) is read; an unmasked one sent so fails."""
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good), raw_socket(sim, PATHS["public"]) as (reader, writer):
        frames = ServerFrames(reader)
        padded = json.dumps({"op": "ping", "req_id": "s" * 200}).encode()  # over 125 bytes: a 16-bit length
        for frame in (Frame(Opcode.TEXT, padded), Frame(Opcode.TEXT, b'{"op": "ping", "req_id": "t"}')):
            for byte in frame.serialize(mask=True):
                writer.write(bytes([byte]))
                await writer.drain()
            assert json.loads((await frames.next()).data)["ret_msg"] == "pong"
        for byte in Frame(Opcode.TEXT, b'{"op": "ping"}').serialize(mask=False):
            writer.write(bytes([byte]))
            await writer.drain()
        close = await frames.next()
        assert close.opcode is Opcode.CLOSE and Close.parse(close.data).code == 1002, close
        await good.assert_served()
    assert_no_traceback(caplog)


async def closed_with(ws: ClientConnection) -> int | None:
    """The close code the server ends the socket with (None when it stays open for 2 s)."""
    try:
        await asyncio.wait_for(ws.recv(), 2)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    return None


@pytest.mark.parametrize("socket", list(PATHS))
@pytest.mark.parametrize(
    ("frame", "code"),
    [("x" * ((1 << 20) + 1), 1009), (b"\xff\xfe not utf-8", 1007)],
    ids=["oversized-1009", "not-utf8-text-1007"],
)
async def test_a_frame_the_protocol_refuses_closes_with_its_code(
    socket: str, frame: str | bytes, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A text frame over 1 MiB closes with 1009, one that is not UTF-8 with 1007; a new connection is served."""
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good):
        url = f"ws://{sim.host}:{sim.port}{PATHS[socket]}"
        async with open_ws(url) as ws:
            await ws.send(frame, text=True)
            assert await closed_with(ws) == code
        async with open_ws(url) as again:
            await assert_pings(again, socket)
        await good.assert_served()
    assert_no_traceback(caplog)
