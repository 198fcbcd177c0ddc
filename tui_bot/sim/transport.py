"""What aiohttp leaves to the server at the transport: failing unmasked client frames, and quiet logs of malformed HTTP.

A client WebSocket frame must be masked, RFC 6455 §5.1: "The server MUST close the connection upon
receiving a frame that is not masked ... a server MAY send a Close frame with a status code of 1002
(protocol error)". aiohttp's frame reader unmasks a masked frame and accepts an unmasked one as it is,
so every byte a client sends passes a check of each frame header's mask bit first; frames before the
first unmasked one are read as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import WebSocketError, WSCloseCode, web
from aiohttp.http_exceptions import HttpProcessingError

_MASK_BIT = 0x80
_MASK_KEY_BYTES = 4
_REASON_CHARS = 200


def _header_size(head: bytes) -> int:
    """Bytes of a frame header before its mask key, known from its first two bytes."""
    return 2 + {126: 2, 127: 8}.get(head[1] & 0x7F, 0)


def _payload_length(head: bytes) -> int:
    """A frame's payload length from its complete header (7-bit, 16-bit or 64-bit form)."""
    short = head[1] & 0x7F
    return short if short < 126 else int.from_bytes(head[2:], "big")


class MaskCheck:
    """Stands in front of aiohttp's frame reader and fails the connection at the first unmasked client frame."""

    def __init__(self, reader: Any, queue: Any) -> None:
        self._reader = reader
        self._queue = queue
        self._head = b""  # the current frame's header bytes so far, until the header is complete
        self._skip = 0  # bytes of the current frame (mask key and payload) still to pass
        self._failed = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        """Pass data on to aiohttp's reader up to the first unmasked frame, which fails the connection."""
        if self._failed:
            return True, b""
        clean = self._masked_length(data)
        if clean == len(data):
            return self._reader.feed_data(data)
        if clean:
            self._reader.feed_data(data[:clean])
        self._failed = True
        self._queue.set_exception(WebSocketError(WSCloseCode.PROTOCOL_ERROR, "client frame is not masked"))
        return True, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()

    def _masked_length(self, data: bytes) -> int:
        """How many leading bytes of data belong to masked frames (all of them when no frame is unmasked)."""
        pos = 0
        while pos < len(data):
            if self._skip:
                step = min(self._skip, len(data) - pos)
                self._skip -= step
                pos += step
                continue
            start = pos - len(self._head)
            wanted = 2 if len(self._head) < 2 else _header_size(self._head)
            self._head += data[pos : pos + wanted - len(self._head)]
            pos = start + len(self._head)
            if len(self._head) < 2:
                continue
            if not self._head[1] & _MASK_BIT:
                return max(start, 0)
            if len(self._head) == _header_size(self._head):
                self._skip = _MASK_KEY_BYTES + _payload_length(self._head)
                self._head = b""
        return len(data)


class MaskedWebSocketResponse(web.WebSocketResponse):
    """aiohttp's WebSocket response with the client-masking rule enforced from the handshake on."""

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        handler = request.protocol  # set_parser() installed aiohttp's frame reader; put the check in front of it
        handler._payload_parser = MaskCheck(handler._payload_parser, self._reader)


class HttpErrorLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server log: a malformed HTTP request (answered 400 by aiohttp) is one warning line, not a traceback."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            reason = " ".join(str(exc_info.message).split())[:_REASON_CHARS] or type(exc_info).__name__
            self.warning("%s: HTTP %s %s", str(msg) % args, exc_info.code, reason)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)
