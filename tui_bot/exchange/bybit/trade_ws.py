"""Bybit's order-entry socket (/v5/trade): authenticated requests matched to replies by reqId."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from websockets.exceptions import WebSocketException

from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import wall_ms
from tui_bot.exchange.bybit.frames import Control
from tui_bot.exchange.bybit.reconnect import DEFAULT_RECONNECT, ReconnectPolicy
from tui_bot.exchange.bybit.ws_connection import EventSink, WsConnection
from tui_bot.exchange.errors import SendTimeoutError

log = logging.getLogger(__name__)

TradeDecoder = Callable[[str | bytes], Control]


class TradeConnection(WsConnection):
    """Order entry over WebSocket; request() never resends, so a timeout leaves the outcome to the caller."""

    REQ_ID_KEY = "reqId"

    def __init__(
        self,
        name: str,
        url: str,
        *,
        credentials: tuple[str, str],
        decode_trade: TradeDecoder,
        on_events: EventSink,
        recv_window: int = 5000,
        now_ms: Callable[[], int] = wall_ms,
        request_timeout: float = 5.0,
        ping_interval: float = 20.0,
        silence_timeout: float = 30.0,
        reconnect: ReconnectPolicy = DEFAULT_RECONNECT,
        auth_grace_ms: int = 10_000,
    ) -> None:
        super().__init__(
            name,
            url,
            decode=lambda raw, _received_ns: decode_trade(raw),
            on_events=on_events,
            credentials=credentials,
            ping_interval=ping_interval,
            silence_timeout=silence_timeout,
            reconnect=reconnect,
            auth_grace_ms=auth_grace_ms,
            now_ms=now_ms,
        )
        self.recv_window = recv_window
        self.request_timeout = request_timeout
        self._prefix = f"t{secrets.token_hex(4)}"

    @property
    def is_ready(self) -> bool:
        """True when the socket is authenticated and LIVE, so request() can send."""
        return self._ws is not None and self.stats.state is ConnectionState.LIVE

    async def request(self, op: str, args: dict[str, Any]) -> Control:
        """Send one op (e.g. order.create) and return the reply, whatever its retCode.

        Raises ConnectionError when not ready or when the socket drops before the reply, and
        SendTimeoutError after request_timeout: the request may or may not have been applied.
        """
        ws = self._ws
        if ws is None or not self.is_ready:
            raise ConnectionError(f"{self.name} is not ready ({self.stats.state.value})")
        req_id = self._next_id(self._prefix)
        frame = {
            "reqId": req_id,
            "header": {"X-BAPI-TIMESTAMP": str(self.now_ms()), "X-BAPI-RECV-WINDOW": str(self.recv_window)},
            "op": op,
            "args": [args],
        }
        future = self._expect(req_id)
        try:
            try:
                await ws.send(orjson.dumps(frame).decode())
            except WebSocketException as err:
                raise ConnectionError(f"{self.name}: send failed: {err}") from err
            return await asyncio.wait_for(future, self.request_timeout)
        except TimeoutError:
            raise SendTimeoutError(0, f"no reply to {op} within {self.request_timeout:g}s", request=req_id) from None
        finally:
            self._replies.pop(req_id, None)
            if future.done() and not future.cancelled():
                future.exception()

    def _on_unmatched(self, control: Control) -> None:
        """A reply without a known reqId (e.g. some permission errors): logged; its caller times out."""
        log.warning(
            "%s: reply matches no request: op=%s code=%s %s", self.name, control.op, control.ret_code, control.message
        )
