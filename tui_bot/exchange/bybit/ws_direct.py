"""A websockets client connection that hands each message to a callback as soon as its bytes are parsed.

websockets' asyncio client parses every frame into a `Frame` object, queues it and wakes a `recv()`
awaiting it: about 4.5 µs per message here, more than all of our decoding. Bybit's streams are
plain, unfragmented, uncompressed text frames, so `DirectProtocol` lifts every complete frame of
that shape straight out of the read buffer and `DirectConnection` passes the payloads, in order, to
`on_message(payload, received_ns)` at the end of the same `data_received` call. Anything else (a
control frame, a fragment, a masked or oversized frame, a frame cut by the TCP chunk, or any frame
once an extension was negotiated) goes through websockets' own parser, unchanged: handshake, ping
replies, closing handshake, size limits and protocol errors stay websockets' work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.messages import MAX_FRAGMENTS
from websockets.client import ClientProtocol
from websockets.exceptions import PayloadTooBig, ProtocolError, TooManyFragments
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Protocol
from websockets.uri import WebSocketURI

log = logging.getLogger(__name__)

MessageSink = Callable[[bytes, int], None]

_PLAIN_TEXT, _PLAIN_BINARY = 0x81, 0x82  # FIN set, no RSV bits, opcode text / binary
_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


def take_plain_frames(buffer: bytearray, limit: int | None, out: list[bytes]) -> None:
    """Move every complete, unmasked, final text/binary frame at the head of buffer into out.

    Stops at the first frame of another shape, a frame longer than limit, or an incomplete frame,
    and leaves it (and all after it) in the buffer for the full parser.
    """
    end, pos = len(buffer), 0
    cap = end if limit is None else limit
    view = memoryview(buffer)
    try:
        while end - pos >= 2:
            first = buffer[pos]
            if first != _PLAIN_TEXT and first != _PLAIN_BINARY:
                break
            size, start = buffer[pos + 1], pos + 2
            if size >= 126:  # 126/127: extended length; above 127 the mask bit is set (invalid from a server)
                if size == 126 and end - pos >= 4:
                    size, start = (buffer[pos + 2] << 8) | buffer[pos + 3], pos + 4
                elif size == 127 and end - pos >= 10:
                    size, start = int.from_bytes(view[pos + 2 : pos + 10], "big"), pos + 10
                else:
                    break
            stop = start + size
            if stop > end or size > cap:
                break
            out.append(bytes(view[start:stop]))
            pos = stop
    finally:
        view.release()
    if pos:
        del buffer[:pos]


class DirectFrames(Protocol):
    """Protocol.parse's frame loop with the plain-frame shortcut in front; data messages go to `messages`."""

    messages: list[bytes]
    _fragments: list[bytes]

    def parse(self) -> Generator[None]:
        """Parse frames until EOF or a protocol error (never raises; failures close like websockets does)."""
        try:
            while True:
                if (yield from self.reader.at_eof()):
                    raise EOFError("unexpected end of stream")
                if not self.extensions and self.current_size is None:
                    take_plain_frames(self.reader.buffer, self._frame_limit(), self.messages)
                    if not self.reader.buffer:
                        continue
                frame = yield from Frame.parse(
                    self.reader.read_exact, mask=False, max_size=self._frame_limit(), extensions=self.extensions
                )
                self.recv_frame(frame)
                if frame.opcode in _DATA:
                    self.events.pop()
                    self._collect(frame)
        except ProtocolError as exc:
            self.fail(CloseCode.PROTOCOL_ERROR, str(exc))
            self.parser_exc = exc
        except EOFError as exc:
            self.fail(CloseCode.ABNORMAL_CLOSURE, str(exc))
            self.parser_exc = exc
        except UnicodeDecodeError as exc:
            self.fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
            self.parser_exc = exc
        except PayloadTooBig as exc:
            exc.set_current_size(self.current_size)
            self.fail(CloseCode.MESSAGE_TOO_BIG, str(exc))
            self.parser_exc = exc
        except TooManyFragments as exc:  # the asyncio client's Assembler limit, which this loop replaces
            self.fail(CloseCode.MESSAGE_TOO_BIG, "too many fragments")
            self.parser_exc = exc
        except Exception as exc:
            self.logger.error("parser failed", exc_info=True)
            self.fail(CloseCode.INTERNAL_ERROR)
            self.parser_exc = exc
        yield
        raise AssertionError("parse() shouldn't step after error")

    def _frame_limit(self) -> int | None:
        """The largest frame allowed now (websockets' message and fragment limits)."""
        limit = self.max_message_size
        if limit is not None and self.current_size is not None:
            limit -= self.current_size
        if self.max_fragment_size is not None:
            limit = self.max_fragment_size if limit is None else min(limit, self.max_fragment_size)
        return limit

    def _collect(self, frame: Frame) -> None:
        """A data frame the full parser read: whole messages go to messages, fragments wait for the last one."""
        if frame.fin and not self._fragments:
            self.messages.append(bytes(frame.data))
            return
        if len(self._fragments) >= MAX_FRAGMENTS:
            raise TooManyFragments(MAX_FRAGMENTS)
        self._fragments.append(bytes(frame.data))
        if frame.fin:
            self.messages.append(b"".join(self._fragments))
            self._fragments.clear()


class DirectProtocol(ClientProtocol, DirectFrames):
    """ClientProtocol (handshake) whose frame loop is DirectFrames (its super().parse() resolves there)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages, self._fragments = [], []
        super().__init__(*args, **kwargs)


class DirectConnection(ClientConnection):
    """A ClientConnection that delivers messages to on_message as they arrive; recv() is not used."""

    def __init__(self, protocol: DirectProtocol, on_message: MessageSink, **kwargs: Any) -> None:
        super().__init__(protocol, **kwargs)
        self.on_message: MessageSink | None = on_message
        self.read_ns = 0  # when the latest read arrived (its messages may wait behind each other after that)

    def detach(self) -> None:
        """Deliver nothing more: what arrives from now on (e.g. while closing) is dropped."""
        self.on_message = None

    def data_received(self, data: bytes) -> None:
        """Let websockets parse and answer, then hand over the messages of this read in order."""
        self.read_ns = time.time_ns()
        try:
            super().data_received(data)
        finally:
            protocol: DirectProtocol = self.protocol  # type: ignore[assignment]
            messages = protocol.messages
            if messages:
                protocol.messages = []
                self._deliver(messages)

    def _deliver(self, messages: list[bytes]) -> None:
        """Each message is stamped as it is handed over, as a recv() loop stamps what recv() returns."""
        handle = self.on_message
        if handle is None:
            return
        failures, now = 0, time.time_ns
        for message in messages:
            try:
                handle(message, now())
            except Exception:  # a handler bug loses that message, never the socket or the ones after it
                failures += 1
                if failures == 1:
                    log.exception("message handler failed")
        if failures > 1:
            log.error("message handler failed on %d more messages of this read", failures - 1)

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """websockets' closing handshake; cancelled midway, the socket is aborted rather than left open."""
        try:
            await super().close(code, reason)
        except BaseException:
            self.transport.abort()
            raise


@asynccontextmanager
async def connect_direct(
    url: str, on_message: MessageSink, *, max_size: int | None, close_timeout: float, open_timeout: float
) -> AsyncIterator[DirectConnection]:
    """An open DirectConnection to url (no compression, no protocol pings: Bybit's JSON ping is ours)."""
    connector = connect(
        url,
        compression=None,
        ping_interval=None,
        open_timeout=open_timeout,
        close_timeout=close_timeout,
        max_size=max_size,
    )

    def factory(uri: WebSocketURI) -> ClientConnection:
        protocol = DirectProtocol(uri, max_size=max_size, logger=connector.logger)
        return DirectConnection(
            protocol, on_message, ping_interval=None, ping_timeout=None, close_timeout=close_timeout
        )

    connector.factory = factory
    async with connector as connection:
        assert isinstance(connection, DirectConnection)
        yield connection
