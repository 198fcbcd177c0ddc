"""A WebSocket peer of the exchange with a bounded outgoing queue drained by its own task, after the network latency."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import orjson
from aiohttp import web

MAX_QUEUE = 50_000


class Peer:
    """One client connection: identity, subscriptions and a writer task."""

    def __init__(
        self, ws: web.WebSocketResponse, kind: str, max_active: float | None = None, latency_s: float = 0.0
    ) -> None:
        self.ws = ws
        self.kind = kind
        self.max_active = max_active
        self.conn_id = uuid.uuid4().hex[:20] + "-" + kind[:2]
        self.topics: set[str] = set()
        self.api_key: str | None = None
        self.last_client_frame = time.monotonic()
        self.last_sent = time.monotonic()
        self.latency_s = latency_s
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[float, str | None]] = asyncio.Queue()
        self._writer = self._loop.create_task(self._drain())
        self.closed = False

    def _due(self) -> float:
        """When a frame queued now reaches the client (0: at once)."""
        return self._loop.time() + self.latency_s if self.latency_s else 0.0

    def send(self, payload: dict[str, Any] | str) -> None:
        """Queue a frame; a peer too slow to keep up is disconnected, as Bybit does."""
        if self.closed:
            return
        text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        if self._queue.qsize() > MAX_QUEUE:
            self.abort()
            return
        self._queue.put_nowait((self._due(), text))

    async def _drain(self) -> None:
        """Write frames in queue order, each once its due time has come (one wait covers a burst)."""
        try:
            while True:
                due, text = await self._queue.get()
                if due and (wait := due - self._loop.time()) > 0:
                    await asyncio.sleep(wait)
                if text is None:
                    break
                await self.ws.send_str(text)
                self.last_sent = time.monotonic()
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True

    def detach(self) -> None:
        """Stop the writer once the socket has ended, so a closed connection leaves no task behind."""
        self.closed = True
        self._writer.cancel()

    def abort(self) -> None:
        """Drop the connection at once without a close handshake (a network failure)."""
        self.closed = True
        transport = self.ws._req.transport if self.ws._req is not None else None  # noqa: SLF001
        if transport is not None:
            transport.abort()
        self._writer.cancel()

    async def close(self, code: int = 1000, message: str = "") -> None:
        """Close politely after flushing what is queued."""
        self._queue.put_nowait((self._due(), None))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer, 2)
        self.closed = True
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message.encode())
