"""Bybit data streams (public market data, private account topics), their topics kept subscribed across reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import wall_ms
from tui_bot.exchange.bybit.frames import Control
from tui_bot.exchange.bybit.reconnect import DEFAULT_RECONNECT, ReconnectPolicy
from tui_bot.exchange.bybit.trade_ws import TradeConnection
from tui_bot.exchange.bybit.ws_connection import Decoder, EventSink, WsConnection

__all__ = ["ARGS_CHARS_PER_CONNECTION", "StreamConnection", "TradeConnection", "args_chars"]

log = logging.getLogger(__name__)

TOPICS_PER_REQUEST = 10
ARGS_CHARS_PER_CONNECTION = 21_000
"""Bybit's cap on the total length of the args one linear public connection subscribes."""
HARMLESS_SUBSCRIBE_FAILURES = ("already subscribed", "not subscribed")


def args_chars(topics: Iterable[str]) -> int:
    """Length of the subscribe args these topics make together (a JSON array of strings)."""
    return len(json.dumps(sorted(topics)))


class StreamConnection(WsConnection):
    """A public or private data stream: keeps the desired topics subscribed across reconnects."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        decode: Decoder,
        on_events: EventSink,
        credentials: tuple[str, str] | None = None,
        ping_interval: float = 20.0,
        silence_timeout: float = 30.0,
        reconnect: ReconnectPolicy = DEFAULT_RECONNECT,
        auth_grace_ms: int = 10_000,
        now_ms: Callable[[], int] = wall_ms,
    ) -> None:
        super().__init__(
            name,
            url,
            decode=decode,
            on_events=on_events,
            credentials=credentials,
            ping_interval=ping_interval,
            silence_timeout=silence_timeout,
            reconnect=reconnect,
            auth_grace_ms=auth_grace_ms,
            now_ms=now_ms,
        )
        self.topics: set[str] = set()
        self._requested: set[str] = set()
        self._topic_requests: dict[str, tuple[str, tuple[str, ...]]] = {}

    async def subscribe(self, topics: Iterable[str]) -> None:
        """Add topics to the desired set and, when LIVE, subscribe the new ones now."""
        self.topics.update(topics)
        await self._sync()

    async def unsubscribe(self, topics: Iterable[str]) -> None:
        """Remove topics from the desired set and, when LIVE, unsubscribe them now."""
        self.topics.difference_update(topics)
        await self._sync()

    async def _sync(self) -> None:
        """Bring the live socket's subscriptions to the desired set (acks are checked as they arrive)."""
        ws = self._ws
        if ws is None or self.stats.state is not ConnectionState.LIVE:
            return
        with contextlib.suppress(ConnectionClosed):
            await self._send_topics(ws, "subscribe", sorted(self.topics - self._requested))
            await self._send_topics(ws, "unsubscribe", sorted(self._requested - self.topics))

    async def _handshake(self, ws: ClientConnection) -> None:
        """Subscribe every desired topic and wait for all acks, so LIVE means the stream is flowing."""
        self._requested = set()
        self._topic_requests = {}
        for req_id, future in await self._send_topics(ws, "subscribe", sorted(self.topics), wait=True):
            await self._wait_reply(future, req_id, "subscribe")

    async def _on_live(self, ws: ClientConnection) -> None:
        """Apply subscribe/unsubscribe calls that arrived during the handshake."""
        await self._sync()

    async def _send_topics(
        self, ws: ClientConnection, op: str, topics: list[str], wait: bool = False
    ) -> list[tuple[str, asyncio.Future[Control]]]:
        """Send op for topics in chunks of TOPICS_PER_REQUEST; with wait, return futures for the acks."""
        waits: list[tuple[str, asyncio.Future[Control]]] = []
        for start in range(0, len(topics), TOPICS_PER_REQUEST):
            chunk = topics[start : start + TOPICS_PER_REQUEST]
            req_id = self._next_id(op[:5])
            self._topic_requests[req_id] = (op, tuple(chunk))
            if wait:
                waits.append((req_id, self._expect(req_id)))
            if op == "subscribe":
                self._requested.update(chunk)
            else:
                self._requested.difference_update(chunk)
            await self._send(ws, {self.REQ_ID_KEY: req_id, "op": op, "args": chunk})
        return waits

    def _on_control(self, control: Control) -> None:
        """Check subscribe/unsubscribe acks, then route as usual."""
        request = self._topic_requests.pop(control.req_id, None) if control.req_id else None
        if not control.success and control.op in ("subscribe", "unsubscribe"):
            self._topic_failure(control, request)
        super()._on_control(control)

    def _topic_failure(self, control: Control, request: tuple[str, tuple[str, ...]] | None) -> None:
        """Count and log a failed subscribe/unsubscribe (harmless ones aside).

        A failure that names no request of ours is counted too and logged rate-limited: which topic it
        was about is unknown, so nothing is retried.
        """
        if any(text in control.message for text in HARMLESS_SUBSCRIBE_FAILURES):
            log.debug("%s: %s %s: %s", self.name, control.op, request and list(request[1]), control.message)
            return
        self.stats.subscribe_failures += 1
        if request is not None:
            log.warning("%s: %s %s failed: %s", self.name, request[0], list(request[1]), control.message)
        elif (more := self.log_limit.allow("unmatched subscribe")) is not None:
            log.warning(
                "%s: %s failed for no request of ours (req_id %r): %s%s",
                self.name,
                control.op,
                control.req_id,
                control.message,
                more,
            )

    def _on_unmatched(self, control: Control) -> None:
        """Acks of live (un-awaited) subscribe requests land here and were already checked."""
        if control.op not in ("subscribe", "unsubscribe"):
            super()._on_unmatched(control)
