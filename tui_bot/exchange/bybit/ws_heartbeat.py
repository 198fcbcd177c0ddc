"""Bybit's JSON heartbeat on one socket: a tagged ping every interval, the RTT its pong gives, the silence watchdog.

Keepalive is Bybit's JSON `{"op":"ping"}` (the venue's documented heartbeat, which also yields the RTT);
websockets' own protocol pings are disabled so a single mechanism decides when a socket is dead: the
watchdog, which reconnects when no frame at all (data or pong) arrived for `silence_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from tui_bot.domain.metrics import ConnectionStats
from tui_bot.exchange.bybit.frames import Control

_MAX_PINGS_IN_FLIGHT = 8


class Heartbeat:
    """The pings in flight on one connection and the watchdog that finds its socket silent."""

    def __init__(self, stats: ConnectionStats) -> None:
        self.stats = stats
        self._pings: dict[str, int] = {}
        self._sent = 0

    async def watch(self, ping: Callable[[], Awaitable[None]], ping_interval: float, silence_timeout: float) -> str:
        """Call ping every ping_interval; return why the socket is dead once no frame arrived for silence_timeout."""
        tick = max(0.01, min(ping_interval, silence_timeout) / 4)
        now = time.monotonic()
        next_ping, last_change, last_count = now + ping_interval, now, self.stats.frames
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if self.stats.frames != last_count:
                last_change, last_count = now, self.stats.frames
            elif now - last_change >= silence_timeout:
                return f"silent for {silence_timeout:g}s"
            if now >= next_ping:
                next_ping = now + ping_interval
                await ping()

    def ping_frame(self, req_id_key: str) -> dict[str, str]:
        """A JSON ping with a fresh req_id, timed from now (the oldest of too many pings in flight is forgotten)."""
        self._sent += 1
        req_id = f"ping-{self._sent}"
        if len(self._pings) >= _MAX_PINGS_IN_FLIGHT:
            self._pings.pop(next(iter(self._pings)))
        self._pings[req_id] = time.monotonic_ns()
        return {req_id_key: req_id, "op": "ping"}

    def answered(self, control: Control) -> None:
        """Record the ping RTT (an un-tagged pong answers the oldest ping in flight)."""
        sent = self._pings.pop(control.req_id, None) if control.req_id else None
        if sent is None and not control.req_id and self._pings:
            sent = self._pings.pop(next(iter(self._pings)))
        if sent is not None:
            self.stats.ping_rtt_ms.add((time.monotonic_ns() - sent) / 1e6)

    def clear(self) -> None:
        """Forget the pings in flight: their socket is gone."""
        self._pings.clear()
