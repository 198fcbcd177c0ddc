"""The embedded exchange server: REST, public, private and trade WebSockets on one loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aiohttp import WSMsgType, web

from tui_bot.domain.wire_decimal import is_wire_int
from tui_bot.sim import wire
from tui_bot.sim.admin import admin_routes
from tui_bot.sim.clock import Clock
from tui_bot.sim.connection import Peer
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.faults import Faults
from tui_bot.sim.instruments import DEFAULT_SYMBOLS, market_specs
from tui_bot.sim.ratelimit import RateLimiter
from tui_bot.sim.rest import MAX_BODY_BYTES, RestApi
from tui_bot.sim.state_file import StateSaver, load_state
from tui_bot.sim.stepper import funding_due, settle_funding, step_exchange
from tui_bot.sim.transport import HttpErrorLog, MaskedWebSocketResponse
from tui_bot.sim.ws_private import PrivateHub
from tui_bot.sim.ws_public import PublicHub
from tui_bot.sim.ws_request import FrameError, decode_control, decode_trade
from tui_bot.sim.ws_trade import TradeHub

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_WS_PATHS = ("/v5/public/linear", "/v5/private", "/v5/trade")  # public, private, trade
MAX_LATENCY_MS = 5000
MAX_FRAME_BYTES = 1 << 20  # a larger client frame closes the socket with 1009 (message too big)


@dataclass(frozen=True, slots=True)
class SimUrls:
    """Where the running exchange listens."""

    rest: str
    public_ws: str
    private_ws: str
    trade_ws: str
    admin: str


def _require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise ValueError(f"the embedded exchange binds loopback only, not {host!r}")


class SimExchange:
    """A local Bybit v5 venue: start() it, point any client at its URLs, stop() it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        api_secret: str | None = None,
        seed: int = 7,
        symbols: tuple[str, ...] | list[str] = DEFAULT_SYMBOLS,
        balance: Decimal = Decimal("10000"),
        step_seconds: float = 0.1,
        autostep: bool = True,
        idle_timeout: float = 600.0,
        funding_period_s: float | None = None,
        id_salt: str | None = None,
        latency_ms: float = 0.0,
        clock_start_ms: int | None = None,
        state_file: Path | None = None,
    ) -> None:
        _require_loopback(host)
        if not 0 <= latency_ms <= MAX_LATENCY_MS:
            raise ValueError(f"latency must be 0-{MAX_LATENCY_MS} ms, not {latency_ms}")
        self.latency_s = latency_ms / 1000
        self.host, self.port = host, port
        self.api_key = api_key or secrets.token_hex(9).upper()[:18]
        self.api_secret = api_secret or secrets.token_hex(18).upper()[:36]
        self.clock = Clock()
        if clock_start_ms is not None:  # a market that starts at the same instant every run
            self.clock.skew_ms = clock_start_ms - self.clock.now_ms()
        self.faults = Faults()
        self.limiter = RateLimiter()
        self.engine = ExchangeEngine(
            market_specs(list(symbols)), seed=seed, step_seconds=step_seconds, clock=self.clock, id_salt=id_salt
        )
        self.engine.add_account(self.api_key, self.api_secret, Decimal(balance))
        self.state_saver: StateSaver | None = None
        if state_file is not None:
            load_state(state_file, self.engine, self.api_key)
            self.state_saver = StateSaver(state_file, self.engine, self.api_key)
        self.public = PublicHub(self.engine, self.faults)
        self.private = PrivateHub(self.engine, self.faults)
        self.trade = TradeHub(self.engine, self.faults, self.limiter)
        self.step_seconds, self.autostep, self.idle_timeout = step_seconds, autostep, idle_timeout
        self.funding_period_ms = int(funding_period_s * 1000) if funding_period_s else None
        self._last_funding_ms = self.clock.now_ms()
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._flush_scheduled = False
        self.urls: SimUrls | None = None

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> SimUrls:
        """Bind, start stepping the market, and return the URLs."""
        rest = RestApi(self.engine, self.faults, self.limiter)
        app = web.Application(middlewares=[self._network_delay, rest.route_errors], client_max_size=MAX_BODY_BYTES)
        app.add_routes(rest.routes())
        ws_handlers = (self._ws_public, self._ws_private, self._ws_trade)
        app.add_routes([web.get(path, handler) for path, handler in zip(_WS_PATHS, ws_handlers, strict=True)])
        app.add_routes(admin_routes(self))
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, logger=HttpErrorLog(logging.getLogger("tui_bot.sim.http"))
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.engine.on_notify = self._schedule_flush
        loop = asyncio.get_running_loop()
        if self.autostep:
            self._tasks.append(loop.create_task(self._step_loop()))
        self._tasks.append(loop.create_task(self._idle_loop()))
        if self.state_saver is not None:
            self._tasks.append(loop.create_task(self.state_saver.run()))
        base = f"{self.host}:{self.port}"
        self.urls = SimUrls(
            f"http://{base}",
            f"ws://{base}/v5/public/linear",
            f"ws://{base}/v5/private",
            f"ws://{base}/v5/trade",
            f"http://{base}/_sim",
        )
        return self.urls

    async def stop(self) -> None:
        """Close every connection and the listener."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.state_saver is not None:
            self.state_saver.save_now()
        for peer in self.all_peers():
            await peer.close(1001, "server shutdown")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _network_delay(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Hold every REST response for the network latency (admin replies and WebSocket frames excepted)."""
        delayed = self.latency_s > 0 and not request.path.startswith("/_sim") and request.path not in _WS_PATHS
        try:
            return await handler(request)
        finally:
            if delayed:
                await asyncio.sleep(self.latency_s)

    async def __aenter__(self) -> SimExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- stepping ----------------------------------------------------------------

    def step_once(self) -> None:
        """One market step: prices, fills, triggers, funding, then the public broadcast."""
        result = step_exchange(self.engine)
        now = self.clock.now_ms()
        if self.funding_period_ms and funding_due(self._last_funding_ms, now, self.funding_period_ms):
            settle_funding(self.engine)
        self._last_funding_ms = now
        self.public.broadcast(result)
        if self.private.has_delayed():
            self.private.publish([])

    async def step(self, count: int = 1) -> None:
        """Advance the market by count steps (for a manually stepped exchange)."""
        for _ in range(count):
            self.step_once()
            await asyncio.sleep(0)

    async def _step_loop(self) -> None:
        next_at = time.monotonic()
        while True:
            next_at += self.step_seconds
            try:
                self.step_once()
            except Exception:
                log.exception("market step failed")
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _idle_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for peer in self.all_peers():
                limit = peer.max_active or self.idle_timeout
                if now - max(peer.last_client_frame, peer.last_sent) > limit:
                    await peer.close(1000, "idle timeout")

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        notes, self.engine.outbox = self.engine.outbox, []
        self.private.publish(notes)

    # -- connections -----------------------------------------------------------

    def all_peers(self) -> list[Peer]:
        return [*self.public.peers, *self.private.peers, *self.trade.peers]

    def drop_connections(self, kind: str = "all") -> int:
        """Abort connections of one kind (public, private, trade) or all; returns how many."""
        peers = {"public": self.public.peers, "private": self.private.peers, "trade": self.trade.peers}
        chosen = [p for k, group in peers.items() if kind in (k, "all") for p in list(group)]
        for peer in chosen:
            peer.abort()
        return len(chosen)

    async def _ws_public(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "public")

    async def _ws_private(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "private")

    async def _ws_trade(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "trade")

    async def _serve(self, request: web.Request, kind: str) -> web.WebSocketResponse:
        ws = MaskedWebSocketResponse(autoping=True, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        peer = Peer(ws, kind, _max_active(request.query.get("max_active_time", "")), self.latency_s)
        hubs: dict[str, PublicHub | PrivateHub | TradeHub] = {
            "public": self.public,
            "private": self.private,
            "trade": self.trade,
        }
        hub = hubs[kind]
        decode = decode_trade if kind == "trade" else decode_control
        hub.peers.add(peer)
        try:
            async for frame in ws:
                peer.last_client_frame = time.monotonic()
                if frame.type is WSMsgType.ERROR:
                    break
                try:
                    if frame.type is not WSMsgType.TEXT:
                        raise FrameError("a binary frame, not JSON text")
                    hub.handle(peer, decode(frame.data))
                except FrameError as err:
                    peer.send(_decode_error(kind, peer.conn_id, str(err)))
        finally:
            hub.drop(peer)
            peer.detach()
        return ws


def _max_active(text: str) -> float | None:
    """Parse ?max_active_time=30s..600s or 1m..10m (None when absent or invalid)."""
    if not text:
        return None
    digits, unit = (text[:-1], 60 if text[-1] == "m" else 1) if text[-1] in "sm" else (text, 1)
    if not is_wire_int(digits):
        return None
    seconds = int(digits) * unit
    return float(seconds) if 30 <= seconds <= 600 else None


def _decode_error(kind: str, conn_id: str, message: str) -> dict[str, object]:
    """The reply to a frame that does not decode: the socket's failure shape without op or request id."""
    if kind == "trade":
        return wire.trade_ws_decode_error(ret_msg=message, conn_id=conn_id)
    if kind == "private":
        return wire.private_ws_response("", success=False, ret_msg=message, conn_id=conn_id, req_id=None)
    return wire.public_ws_response("", success=False, ret_msg=message, conn_id=conn_id, req_id="")
