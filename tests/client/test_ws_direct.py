"""DirectProtocol / DirectConnection: every message websockets' own parser yields, in order, whatever the TCP chunking.

The oracle is websockets' ClientProtocol fed the same bytes; server frames are built with websockets'
Frame.serialize, so the wire format is not ours either.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.exceptions import TooManyFragments
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import Protocol, State
from websockets.uri import parse_uri
from websockets.utils import accept_key

from tui_bot.domain.events import ConnectionState, Event
from tui_bot.exchange.bybit.ws_connection import WsConnection
from tui_bot.exchange.bybit.ws_direct import (
    MAX_FRAGMENTS,
    DirectProtocol,
    connect_direct,
    take_plain_frames,
)

URI = parse_uri("ws://127.0.0.1/v5/public/linear")
SIZES = st.sampled_from([0, 1, 125, 126, 127, 300, 65535, 65536, 70000]) | st.integers(0, 2000)


def server_bytes(frames: list[Frame], extensions: list[PerMessageDeflate] | None = None) -> bytes:
    """Frames as a server sends them (unmasked)."""
    return b"".join(f.serialize(mask=False, extensions=extensions or []) for f in frames)


def upgrade_reply(key: str) -> bytes:
    """A server's 101 answer to a client's Sec-WebSocket-Key."""
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n"
    )


async def read_upgrade(reader: asyncio.StreamReader) -> bytes:
    """Read a client's upgrade request; the 101 answer to it."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    return upgrade_reply(
        next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
    )


def payload(size: int, seed: int) -> bytes:
    return bytes((seed + i) % 251 for i in range(size))


@st.composite
def wire(draw: st.DrawFn) -> tuple[list[Frame], list[bytes]]:
    """A server's frame sequence (whole messages, fragmented ones, pings and pongs) and the messages it carries."""
    frames: list[Frame] = []
    messages: list[bytes] = []
    for seed in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["text", "binary", "fragmented", "ping", "pong"]))
        if kind in ("text", "binary"):
            data = payload(draw(SIZES), seed)
            frames.append(Frame(Opcode.TEXT if kind == "text" else Opcode.BINARY, data))
            messages.append(data)
        elif kind == "fragmented":
            parts = [payload(draw(st.integers(0, 300)), seed + i) for i in range(draw(st.integers(2, 4)))]
            frames.append(Frame(Opcode.TEXT, parts[0], fin=False))
            for i, part in enumerate(parts[1:], 1):
                if draw(st.booleans()):
                    frames.append(Frame(Opcode.PING, b"mid"))  # control frames may sit between fragments
                frames.append(Frame(Opcode.CONT, part, fin=i == len(parts) - 1))
            messages.append(b"".join(parts))
        else:
            frames.append(
                Frame(Opcode.PING if kind == "ping" else Opcode.PONG, payload(draw(st.integers(0, 125)), seed))
            )
    return frames, messages


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


def feed(protocol: DirectProtocol, parts: list[bytes]) -> list[bytes]:
    """Feed the chunks; the messages delivered."""
    messages: list[bytes] = []
    for part in parts:
        protocol.receive_data(part)
        messages.extend(protocol.messages)
        protocol.messages = []
    return messages


@settings(max_examples=300, deadline=None)
@given(wire(), st.lists(st.integers(0, 10**6), max_size=12))
def test_messages_control_frames_and_replies_match_websockets_for_any_chunking(
    sent: tuple[list[Frame], list[bytes]], cuts: list[int]
) -> None:
    frames, expected = sent
    data = server_bytes(frames)
    got = outcome(DirectProtocol, data, cuts, None, False)
    assert got["messages"] == expected
    assert got == outcome(ClientProtocol, data, [], None, False)  # websockets' parser, all bytes at once
    assert got["state"] is State.OPEN and got["error"] is None


def test_plain_frames_are_taken_whole_and_anything_else_is_left_in_place() -> None:
    text, binary = Frame(Opcode.TEXT, b'{"a":1}'), Frame(Opcode.BINARY, b"\x00\x01")
    buffer = bytearray(server_bytes([text, binary, Frame(Opcode.PING, b"p"), text]))
    out: list[bytes] = []
    take_plain_frames(buffer, None, out)
    assert out == [b'{"a":1}', b"\x00\x01"]
    assert bytes(buffer) == server_bytes([Frame(Opcode.PING, b"p"), text])

    whole = server_bytes([Frame(Opcode.TEXT, b"x" * 300)])
    for cut in range(len(whole)):  # a frame cut anywhere stays, byte for byte
        buffer, out = bytearray(whole[:cut]), []
        take_plain_frames(buffer, None, out)
        assert out == [] and bytes(buffer) == whole[:cut]

    buffer, out = bytearray(whole), []
    take_plain_frames(buffer, 299, out)  # over the size limit: left for websockets to refuse
    assert out == [] and bytes(buffer) == whole


def test_oversized_frame_fails_the_connection_with_1009_like_websockets() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=100)
    direct.receive_data(server_bytes([Frame(Opcode.TEXT, b"ok"), Frame(Opcode.TEXT, b"x" * 101)]))
    assert direct.messages == [b"ok"]
    assert direct.close_sent is not None and direct.close_sent.code == CloseCode.MESSAGE_TOO_BIG


def test_masked_frame_from_the_server_is_a_protocol_error() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    direct.receive_data(Frame(Opcode.TEXT, b"hi").serialize(mask=True, extensions=[]))
    assert direct.messages == []
    assert direct.close_sent is not None and direct.close_sent.code == CloseCode.PROTOCOL_ERROR


def test_close_frame_ends_delivery_and_is_answered() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    close = Frame(Opcode.CLOSE, Close(CloseCode.NORMAL_CLOSURE, "bye").serialize())
    direct.receive_data(server_bytes([Frame(Opcode.TEXT, b"1"), close, Frame(Opcode.TEXT, b"after close")]))
    assert direct.messages == [b"1"]
    assert direct.state is State.CLOSING and direct.close_rcvd is not None and direct.close_rcvd.reason == "bye"
    assert direct.data_to_send()  # the close is echoed


def test_end_of_stream_inside_a_frame_is_an_abnormal_closure() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    direct.receive_data(server_bytes([Frame(Opcode.TEXT, b"whole"), Frame(Opcode.TEXT, b"cut short")])[:-3])
    direct.receive_eof()
    assert direct.messages == [b"whole"]
    assert isinstance(direct.parser_exc, EOFError)


def test_compressed_messages_go_through_websockets_own_parser() -> None:
    def deflate() -> PerMessageDeflate:
        return PerMessageDeflate(
            remote_no_context_takeover=False,
            local_no_context_takeover=False,
            remote_max_window_bits=15,
            local_max_window_bits=15,
        )

    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    direct.extensions = [deflate()]
    sender = deflate()
    texts = [b'{"topic":"tickers.BTCUSDT","n":%d}' % i for i in range(5)]
    data = server_bytes([Frame(Opcode.TEXT, t) for t in texts], [sender])
    assert feed(direct, chunks(data, [7, 19, 40])) == texts


def any_frame(rng: random.Random) -> bytes:
    """One frame as a (possibly misbehaving) server might send it: any opcode, RSV or mask bit, any length form."""
    opcode = rng.choice([1, 2, 0, 9, 10, 8, 3, 1, 1, 2])
    size = rng.choice([0, 1, 5, 125, 126, 127, 200, 300, 65535, 65536, rng.randint(0, 500)])
    if opcode in (8, 9, 10) and rng.random() < 0.9:
        size = min(size, 125)
    data = (bytes(rng.randrange(256) for _ in range(min(size, 50))) * (size // 50 + 1))[:size]
    if opcode == 8 and rng.random() < 0.8:
        data = Close(CloseCode.NORMAL_CLOSURE, "bye").serialize()
    masked = rng.random() < 0.03
    first = (0x80 if rng.random() < 0.8 else 0) | (0x40 if rng.random() < 0.03 else 0) | opcode
    flag = 0x80 if masked else 0
    if len(data) < 126 and rng.random() < 0.9:
        head = bytes([first, len(data) | flag])
    elif len(data) < 65536 and rng.random() < 0.8:
        head = bytes([first, 126 | flag]) + struct.pack("!H", len(data))
    else:
        head = bytes([first, 127 | flag]) + struct.pack("!Q", len(data))
    return head + (b"\0\0\0\0" if masked else b"") + data


def any_stream(rng: random.Random) -> bytes:
    """Mostly well-formed traffic with fragments and pings, some arbitrary frames, sometimes trailing garbage."""
    out = []
    for _ in range(rng.randint(1, 15)):
        roll = rng.random()
        if roll < 0.5:
            size = rng.choice([0, 3, 130, 70000 if rng.random() < 0.05 else 10])
            out.append(server_bytes([Frame(Opcode.TEXT, bytes(rng.randrange(256) for _ in range(size)))]))
        elif roll < 0.65:
            parts = rng.randint(2, 4)
            for i in range(parts):
                data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
                out.append(server_bytes([Frame(Opcode.TEXT if i == 0 else Opcode.CONT, data, fin=i == parts - 1)]))
                if rng.random() < 0.3:
                    out.append(server_bytes([Frame(Opcode.PING, b"x")]))
        else:
            out.append(any_frame(rng))
    if rng.random() < 0.1:
        out.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 20))))
    return b"".join(out)


def outcome(cls: type[ClientProtocol], data: bytes, cuts: list[int], max_size: object, eof: bool) -> dict[str, object]:
    """Everything a protocol makes of the bytes: messages, control frames, replies, state, close codes, errors, rest."""
    protocol = cls(URI, state=State.OPEN, max_size=max_size)  # type: ignore[arg-type]
    messages, control, current, written = [], [], [], 0
    for part in chunks(data, cuts):
        protocol.receive_data(part)
        for event in protocol.events_received():
            if event.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                current.append(bytes(event.data))
                if event.fin:
                    messages.append(b"".join(current))
                    current = []
            else:
                control.append((event.opcode, bytes(event.data)))
        if isinstance(protocol, DirectProtocol):
            messages.extend(protocol.messages)
            protocol.messages = []
        written += sum(len(w) for w in protocol.data_to_send())
    if eof:
        protocol.receive_eof()
        written += sum(len(w) for w in protocol.data_to_send())
    error = protocol.parser_exc
    return {
        "messages": messages,
        "control": control,
        "written": written,
        "state": protocol.state,
        "close_sent": protocol.close_sent,
        "close_rcvd": protocol.close_rcvd,
        "error": (type(error).__name__, str(error)) if error else None,
        "left": bytes(protocol.reader.buffer),
    }


@settings(max_examples=400, deadline=None)
@given(
    st.randoms(use_true_random=False),
    st.sampled_from([None, 100, 300, 1000, 2**20, (1000, 100), (None, 150), (500, None)]),
    st.booleans(),
)
def test_any_server_bytes_end_exactly_as_with_websockets_own_parser(
    rng: random.Random, max_size: object, eof: bool
) -> None:
    data = any_stream(rng)
    cuts = [rng.randrange(len(data) + 1) for _ in range(rng.randint(0, 20))]
    assert outcome(DirectProtocol, data, cuts, max_size, eof) == outcome(ClientProtocol, data, cuts, max_size, eof)


def test_a_whole_frame_inside_a_fragmented_message_is_a_protocol_error_not_a_message() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    direct.receive_data(server_bytes([Frame(Opcode.TEXT, b"part", fin=False), Frame(Opcode.TEXT, b"whole")]))
    assert direct.messages == []
    assert direct.close_sent is not None and direct.close_sent.code == CloseCode.PROTOCOL_ERROR


def test_too_many_fragments_fail_the_connection_like_websockets_asyncio_client() -> None:
    direct = DirectProtocol(URI, state=State.OPEN, max_size=None)
    frames = [Frame(Opcode.TEXT, b"a", fin=False)] + [Frame(Opcode.CONT, b"", fin=False)] * MAX_FRAGMENTS
    direct.receive_data(server_bytes([*frames, Frame(Opcode.CONT, b"z")]))
    assert direct.messages == []
    assert isinstance(direct.parser_exc, TooManyFragments)
    assert direct.close_sent is not None and direct.close_sent.code == CloseCode.MESSAGE_TOO_BIG


def test_frames_in_the_read_that_completes_the_handshake_are_delivered() -> None:
    direct = DirectProtocol(URI, max_size=None)
    request = direct.connect()
    direct.send_request(request)
    response = upgrade_reply(request.headers["Sec-WebSocket-Key"])
    direct.receive_data(response + server_bytes([Frame(Opcode.TEXT, b"first"), Frame(Opcode.TEXT, b"second")]))
    [event] = direct.events_received()
    assert isinstance(event, Response) and event.status_code == 101
    assert direct.state is State.OPEN and direct.messages == [b"first", b"second"]


def test_websockets_frame_loop_is_the_one_ws_direct_was_checked_against() -> None:
    """ws_direct copies Protocol.parse's error handling and relies on recv_frame appending one event per frame.

    If websockets changes these, re-check ws_direct against the new code (and the tests above), then update the hashes.
    """
    sources = {
        f.__qualname__: hashlib.sha256(inspect.getsource(f).encode()).hexdigest()[:16]
        for f in (Protocol.parse, Protocol.recv_frame, ClientProtocol.parse)
    }
    assert sources == WEBSOCKETS_17_SOURCES


WEBSOCKETS_17_SOURCES = {
    "Protocol.parse": "45aaf900644b63c4",
    "Protocol.recv_frame": "4f83d3b90ea62428",
    "ClientProtocol.parse": "fd513a73290749dd",
}


# -- over a real socket ---------------------------------------------------------------------------------


async def serve_frames(frames: bytes, *, with_handshake: bool, byte_by_byte: bool) -> tuple[asyncio.Server, str]:
    """A bare loopback server: answers the upgrade, then sends frames (in the same write, or a byte at a time)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        response = await read_upgrade(reader)
        if with_handshake:
            writer.write(response + frames)  # frames in the very chunk that completes the handshake
        else:
            writer.write(response)
            for i in range(len(frames)) if byte_by_byte else [0]:
                writer.write(frames[i : i + 1] if byte_by_byte else frames)
                await writer.drain()
                await asyncio.sleep(0)
        await reader.read()  # until the client goes
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}/v5/public/linear"


@pytest.mark.parametrize(("with_handshake", "byte_by_byte"), [(True, False), (False, True)])
async def test_messages_arrive_in_order_over_loopback(with_handshake: bool, byte_by_byte: bool) -> None:
    texts = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i * 40)) for i in range(8)]
    frames = server_bytes(
        [Frame(Opcode.TEXT, t) for t in texts[:4]]
        + [Frame(Opcode.PING, b"hb")]
        + [Frame(Opcode.TEXT, t) for t in texts[4:]]
    )
    server, url = await serve_frames(frames, with_handshake=with_handshake, byte_by_byte=byte_by_byte)
    got: list[bytes] = []
    stamps: list[int] = []
    done = asyncio.Event()

    def on_message(message: bytes, received_ns: int) -> None:
        got.append(message)
        stamps.append(received_ns)
        if len(got) == len(texts):
            done.set()

    async with server, connect_direct(url, on_message, max_size=1 << 20, close_timeout=1, open_timeout=5):
        await asyncio.wait_for(done.wait(), 5)
    assert got == texts
    assert stamps == sorted(stamps) and stamps[0] > 0


async def test_a_failing_handler_loses_one_message_not_the_socket(caplog: pytest.LogCaptureFixture) -> None:
    texts = [b'{"n":%d}' % i for i in range(5)]
    server, url = await serve_frames(
        server_bytes([Frame(Opcode.TEXT, t) for t in texts]), with_handshake=False, byte_by_byte=False
    )
    got: list[bytes] = []
    done = asyncio.Event()

    def on_message(message: bytes, received_ns: int) -> None:
        if message == texts[1]:
            raise RuntimeError("handler bug")
        got.append(message)
        if message == texts[-1]:
            done.set()

    async with server, connect_direct(url, on_message, max_size=1 << 20, close_timeout=1, open_timeout=5) as ws:
        await asyncio.wait_for(done.wait(), 5)
        assert ws.protocol.state is State.OPEN
    assert got == [texts[0], *texts[2:]]
    assert "message handler failed" in caplog.text


async def stubborn_server(ended: asyncio.Event) -> tuple[asyncio.Server, str]:
    """A server that never answers a close and streams a frame every 5 ms until the client is gone."""

    async def stubborn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await read_upgrade(reader))
        try:
            while not reader.at_eof():  # never answers a close; streams until the client is gone
                writer.write(server_bytes([Frame(Opcode.TEXT, b'{"n":1}')]))
                await writer.drain()
                await asyncio.sleep(0.005)
        except ConnectionError:
            pass
        finally:
            ended.set()

    server = await asyncio.start_server(stubborn, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v5/public/linear"


async def test_a_detached_connection_delivers_nothing_more() -> None:
    server, url = await stubborn_server(asyncio.Event())
    got: list[bytes] = []
    async with (
        server,
        connect_direct(url, lambda m, _: got.append(m), max_size=None, close_timeout=0.1, open_timeout=5) as ws,
    ):
        for _ in range(500):
            if len(got) > 3:
                break
            await asyncio.sleep(0.01)
        ws.detach()
        detached = len(got)
        await asyncio.sleep(0.1)
        assert len(got) == detached and ws.protocol.state is State.OPEN


async def test_nothing_is_delivered_after_stop_even_when_the_server_ignores_our_close() -> None:
    from tui_bot.exchange.bybit.parse import decode_public

    ended = asyncio.Event()
    server, url = await stubborn_server(ended)
    events: list[Event] = []
    conn = WsConnection(
        "public-1", url, decode=decode_public, on_events=events.extend, ping_interval=60, silence_timeout=60
    )
    async with server:
        conn.start()
        for _ in range(500):
            if conn.stats.state is ConnectionState.LIVE and conn.stats.frames > 3:
                break
            await asyncio.sleep(0.01)
        await conn.stop()
        stopped = len(events)
        assert conn.stats.state is ConnectionState.STOPPED
        await asyncio.wait_for(ended.wait(), 5)  # the socket was aborted, not left open
        await asyncio.sleep(0.1)
    assert len(events) == stopped, "frames were handled after stop() returned"
