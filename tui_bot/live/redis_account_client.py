"""A headless bot's exchange client: the account's private events from the listener's live state in Redis.

Everything but the private stream is the venue client's own (REST, orders over REST or the trade WS, the public
streams). Positions, open orders and the wallet come from LiveState and the fills from the listener's fills stream,
fed to the engine as the private stream's events would be. The feed counts as the private connection: live only while
Redis answers, the listener's heartbeat is there and the reader has caught up with the listener's seq. While it is
not, the engine's supervisor polls the account over REST (open positions stay protected) until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.events import (
    ConnectionState,
    ConnectionStateChanged,
    Event,
    OrderUpdated,
    PositionUpdated,
    WalletUpdated,
)
from tui_bot.domain.metrics import ConnectionStats
from tui_bot.domain.models import Order, Position, Wallet
from tui_bot.exchange.client import EventSink, ExchangeClient
from tui_bot.live import keys
from tui_bot.live.connection import REDIS_ERRORS, connect
from tui_bot.live.fills_cursor import FillsCursor, received
from tui_bot.live.reader import LiveState

log = logging.getLogger(__name__)

FeedListener = Callable[[bool, str], None]
"""Told when the feed goes live (True, "") or down (False, why)."""

CONNECTION = "private"
"""The feed stands in for the private stream: the supervisor, health and the connection alerts know it by this name."""


class RedisAccountClient:
    """The venue client with the private stream replaced by the listener's live state."""

    def __init__(
        self,
        inner: ExchangeClient,
        live: LiveState,
        url: str,
        *,
        listeners: Iterable[FeedListener] = (),
        check_s: float = 0.1,
    ) -> None:
        self._inner = inner
        self._live = live
        self._redis = connect(url, decode=True)
        self.check_s = check_s
        self.stats = ConnectionStats(CONNECTION)
        self.listeners = list(listeners)
        self._sink: EventSink | None = None
        self._feeding = False
        self._told: bool | None = None
        self._positions: dict[str, Position] = {}
        self._orders: dict[str, Order] = {}
        self._wallet: Wallet | None = None
        self._vanished: list[Order] = []
        self._fills = FillsCursor(self._redis)
        self._due = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def __getattr__(self, name: str) -> Any:
        """Everything not replaced here is the venue client's."""
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    # -- what differs from the venue client ----------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Start the venue client (built without its private stream), then follow the live state."""
        self._sink = sink
        await self._inner.start(sink)
        self._report(ConnectionState.CONNECTING, "waiting for the listener's live state")
        self._live.listeners.append(self._changed)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._watch(), name="redis-account-watch"),
            loop.create_task(self._catch_up(), name="redis-account-fills"),
        ]

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        if self._changed in self._live.listeners:
            self._live.listeners.remove(self._changed)
        if self._feeding:
            self._report(ConnectionState.STOPPED, "stopped")
        await self._redis.aclose()
        await self._inner.stop()

    @property
    def private_live(self) -> bool:
        """True while the account is followed from Redis (the listener alive and caught up with)."""
        return self._feeding

    def connection_stats(self) -> dict[str, ConnectionStats]:
        return {**self._inner.connection_stats(), CONNECTION: self.stats}

    # -- live or not ---------------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            why = await self._why_not_live()
            if why is None and not self._feeding:
                await self._go_live()
            elif why is not None and (self._feeding or self.stats.reason != why):
                self._go_down(why)
            await asyncio.sleep(self.check_s)

    async def _why_not_live(self) -> str | None:
        """None when the feed can be trusted, else why not."""
        live = self._live
        if not live.connected:
            return "redis unreachable"
        try:
            if not live.listener_alive:  # its key expired, or reading it failed: ask Redis which
                return "listener heartbeat gone" if await self._redis.ping() else "redis unreachable"  # type: ignore[misc]
            if self._feeding:
                return None
            seq = int(await self._redis.get(keys.LISTENER_SEQ) or 0)
        except REDIS_ERRORS:
            return "redis unreachable"
        return None if live.seq >= seq else "catching up with the listener"  # its latest rewrite is not read yet

    async def _go_live(self) -> None:
        """Fills from now on come from the stream (the resync the supervisor starts covers those before)."""
        try:
            await self._fills.start_at_end()
        except REDIS_ERRORS:
            return
        self._feeding = True
        self._report(ConnectionState.LIVE, "")
        self._changed(None)
        self._tell(True, "")

    def _go_down(self, why: str) -> None:
        self._feeding = False
        self._report(ConnectionState.DOWN, why)
        self._tell(False, why)

    def _tell(self, live: bool, why: str) -> None:
        """Tell the listeners when the feed went live or down (not again while it stays so)."""
        if self._told is live:
            return
        self._told = live
        for listener in self.listeners:
            listener(live, why)

    def _report(self, state: ConnectionState, reason: str) -> None:
        self.stats.record_state(state, int(time.time() * 1000), reason)
        self._feed(
            [
                ConnectionStateChanged(
                    connection=CONNECTION, state=state, reason=reason, exchange_ts=0, received_ns=time.time_ns()
                )
            ]
        )

    def _feed(self, events: list[Event]) -> None:
        if self._sink is not None and events:
            self._sink(events)

    # -- changes -------------------------------------------------------------------------------------

    def _changed(self, touched: frozenset[str] | None) -> None:
        """LiveState applied a change (None: a new snapshot): what changed, as private events."""
        if not self._feeding:
            return  # the supervisor polls meanwhile; going live again compares everything
        now_ns = time.time_ns()
        self.stats.record_frame(now_ns)
        self._feed([*self._position_events(now_ns), *self._order_events(now_ns), *self._wallet_events(now_ns)])
        if touched is None or keys.FILLS_STREAM in touched or self._vanished:
            self._due.set()

    def _position_events(self, now_ns: int) -> list[Event]:
        """Positions that changed other than by their mark (the bot follows marks on its own tickers), closed ones."""
        current = self._live.account_positions()
        events: list[Event] = []
        for symbol, pos in current.items():
            was = self._positions.get(symbol)
            if was is None or pos.with_mark(was.mark_price) != was:
                events.append(PositionUpdated(position=pos, exchange_ts=pos.updated_time, received_ns=now_ns))
        for symbol, was in self._positions.items():
            if symbol not in current:
                flat = Position(symbol, leverage=was.leverage, updated_time=was.updated_time, seq=was.seq)
                events.append(PositionUpdated(position=flat, exchange_ts=was.updated_time, received_ns=now_ns))
        self._positions = current
        return events

    def _order_events(self, now_ns: int) -> list[Event]:
        """Orders that changed; those that left the open orders are looked up for their final state."""
        current = self._live.open_orders()
        events: list[Event] = [
            OrderUpdated(order=order, exchange_ts=order.updated_time, received_ns=now_ns)
            for order_id, order in current.items()
            if self._orders.get(order_id) != order
        ]
        self._vanished += [order for order_id, order in self._orders.items() if order_id not in current]
        self._orders = current
        return events

    def _wallet_events(self, now_ns: int) -> list[Event]:
        wallet = self._live.wallet()
        if wallet is None or wallet == self._wallet:
            return []
        self._wallet = wallet
        return [WalletUpdated(wallet=wallet, exchange_ts=0, received_ns=now_ns)]

    # -- fills and closed orders -----------------------------------------------------------------------

    async def _catch_up(self) -> None:
        """Read the fills added since the last read, and the final state of orders that closed, when told to."""
        while True:
            await self._due.wait()
            self._due.clear()
            try:
                await self._read_fills()
                await self._look_up_closed()
            except REDIS_ERRORS as err:
                log.warning("reading fills from redis failed (the resync when the feed is back covers them): %s", err)
            except Exception:  # the venue refused, a malformed entry: the supervisor's reconcile settles it
                log.exception("following fills and closed orders failed")

    async def _read_fills(self) -> None:
        executions = await self._fills.read_new()
        if not executions or not self._feeding:
            return
        self._feed(list(received(executions)))

    async def _look_up_closed(self) -> None:
        vanished, self._vanished = self._vanished, []
        if not vanished:
            return
        found = await self._inner.fetch_orders_by_id([(o.symbol, o.order_id, o.created_time) for o in vanished])
        now_ns = time.time_ns()
        self._feed([OrderUpdated(order=o, exchange_ts=o.updated_time, received_ns=now_ns) for o in found])
