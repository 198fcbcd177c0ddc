"""Keeps the account feed honest: falls back to polling when the private stream is down or stalled, comes back."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from tui_bot.core.bus import Bus
from tui_bot.core.health import Health
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.domain.events import ConnectionState, ConnectionStateChanged, Event, StreamMode, StreamModeChanged
from tui_bot.exchange.client import ExchangeClient

if TYPE_CHECKING:
    from tui_bot.core.engine import EngineOptions

log = logging.getLogger(__name__)

Resync = Callable[[str], Coroutine[Any, Any, None]]


class StreamSupervisor:
    """The account feed's mode (stream or poll), the private events acknowledged orders still owe, and the resyncs
    they call for (on reconnect, while polling, periodically)."""

    def __init__(
        self,
        client: ExchangeClient,
        options: EngineOptions,
        *,
        health: Health,
        bus: Bus,
        tasks: BackgroundTasks,
        resync: Resync,
    ) -> None:
        self.client = client
        self.options = options
        self.health = health
        self.bus = bus
        self.tasks = tasks
        self._resync = resync
        self.mode = StreamMode.STREAM
        self._private_down_since: float | None = None
        self._awaiting_private: dict[str, float] = {}
        self._last_poll = 0.0
        self._last_reconcile = time.monotonic()

    def order_sending(self, order_link_id: str, via: str) -> None:
        """An order is about to be sent (via "ws" or "rest"): timed from now, noted, as its events may beat the ack."""
        self.health.order_sent(order_link_id, via)
        self._awaiting_private[order_link_id] = math.inf

    def order_acknowledged(self, order_link_id: str) -> None:
        """The order was acknowledged: its ack is timed, and its private events (unless in already) are due now."""
        self.health.order_acked(order_link_id)
        if order_link_id in self._awaiting_private:
            self._awaiting_private[order_link_id] = time.monotonic()

    def order_abandoned(self, order_link_id: str) -> None:
        """The send failed: no private events will follow."""
        self._awaiting_private.pop(order_link_id, None)

    def connection_changed(self, event: ConnectionStateChanged) -> None:
        """The private stream went down (timed from now) or came up (a resync covers what it missed)."""
        if event.connection != "private":
            return
        if event.state is ConnectionState.LIVE:
            self._private_down_since = None
            self._awaiting_private.clear()  # a new session never replays the old one's events: the resync covers them
            self.tasks.spawn("engine-resync", self._safe_resync("private stream (re)connected"), one_off=True)
        elif self._private_down_since is None:
            self._private_down_since = time.monotonic()

    def private_heard(self, event: Event) -> None:
        """A private event came over the stream: its order owes nothing more, and polling may end."""
        link = getattr(getattr(event, "order", None) or getattr(event, "execution", None), "order_link_id", "")
        self._awaiting_private.pop(link, None)
        if self.mode is StreamMode.POLL and self.client.private_live and not self._stalled():
            self._set_mode(StreamMode.STREAM, "private stream delivering again")

    def _stalled(self) -> bool:
        """True while an acknowledged order's private events are overdue (given up after a while)."""
        now = time.monotonic()
        give_up = max(30.0, 10 * self.options.order_event_timeout_s)
        for link, sent in list(self._awaiting_private.items()):
            if now - sent > give_up:
                del self._awaiting_private[link]
        return any(now - sent > self.options.order_event_timeout_s for sent in self._awaiting_private.values())

    def _set_mode(self, mode: StreamMode, reason: str) -> None:
        if mode is self.mode:
            return
        self.mode = mode
        log.warning("account feed now %s: %s", mode.value, reason)
        self.bus.publish([StreamModeChanged(mode=mode, reason=reason, exchange_ts=0, received_ns=time.time_ns())])

    async def _safe_resync(self, reason: str) -> None:
        """A resync whose failure (the exchange's error, a malformed row, anything) is logged and shown in health."""
        await self.tasks.attempt("engine-resync", self._resync(reason), reason)

    async def supervise_once(self) -> None:
        """One look at the private stream: fall back to polling or come back, poll, and reconcile when due."""
        now = time.monotonic()
        down = self._private_down_since is not None and now - self._private_down_since > self.options.fallback_after_s
        if down or self._stalled():
            self._set_mode(StreamMode.POLL, "private stream down" if down else "private stream stalled")
        elif self.mode is StreamMode.POLL and self.client.private_live:
            await self._safe_resync("leaving poll mode")
            self._set_mode(StreamMode.STREAM, "private stream back")
        if self.mode is StreamMode.POLL and now - self._last_poll > self.options.poll_interval_s:
            self._last_poll = now
            await self._safe_resync("poll")
        if now - self._last_reconcile > self.options.reconcile_interval_s:
            self._last_reconcile = now
            await self._safe_resync("periodic")
