"""The bots of the account as an attached console shows them: registered ids, heartbeats, positions and PnL per bot.

Bots and heartbeats are read from Redis every poll (a bot's heartbeat key expires when it stops); realised PnL is
the store's closed trades summed by core.stats as `tui-bot stats` sums them, read again when a bot's position closed
and at most every REREAD_S otherwise (the listener stores a close a moment after it publishes it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import cast

import redis.asyncio as aioredis

from tui_bot.core.console_api import BotSummary, Heartbeat
from tui_bot.core.stats import NO_BOT, Outcome, day_of, summarise, trade_outcome
from tui_bot.domain.metrics import wall_ms
from tui_bot.live import keys
from tui_bot.live.connection import REDIS_ERRORS
from tui_bot.live.reader import LiveState
from tui_bot.store.rows import Trade

log = logging.getLogger(__name__)
LISTENER = "listener"
REREAD_S = 5.0
"""The longest the stored PnL is shown without being read again."""


class BotWatch:
    """The bots registered in Redis (but `external` and the console's own id, which beat nowhere) and when each
    last beat, polled every poll_s."""

    def __init__(self, redis: aioredis.Redis, live: LiveState, own_id: str, *, poll_s: float = 0.5) -> None:
        self._redis = redis
        self._live = live
        self._hidden = {keys.EXTERNAL_BOT, own_id}
        self.poll_s = poll_s
        self.registered: list[str] = []
        self.beats: dict[str, int | None] = {}

    async def run(self) -> None:
        """Poll until cancelled; Redis failing leaves every bot's heartbeat unknown (gone) until it answers."""
        while True:
            try:
                await self.poll()
            except REDIS_ERRORS as err:
                log.debug("bot heartbeats: redis failed: %s", err)
                self.beats = dict.fromkeys(self.beats)
            await asyncio.sleep(self.poll_s)

    async def poll(self) -> None:
        """Read the registered bots and each one's heartbeat once."""
        members = await cast("Awaitable[set[str]]", self._redis.smembers(keys.BOTS))
        self.registered = sorted(members)
        bots = [bot for bot in self.registered if bot not in self._hidden]
        values = await self._redis.mget([keys.bot_heartbeat(bot) for bot in bots]) if bots else []
        self.beats = {bot: int(value) if value is not None else None for bot, value in zip(bots, values, strict=True)}

    def bot_ids(self) -> list[str]:
        """Every bot known: registered, or holding a position in the live state (`external` only while it holds one:
        the listener registers it when a position shows before the fill that names its bot)."""
        return sorted({*self.registered, *self._live.positions()} - {keys.EXTERNAL_BOT} | set(self._live.positions()))

    def heartbeats(self, now_ms: int) -> list[Heartbeat]:
        """The listener's heartbeat, then each bot's (age in ms, None when its key is gone)."""
        listener = Heartbeat(LISTENER, self._live.listener_age_ms(now_ms))
        return [listener, *(Heartbeat(bot, None if ms is None else now_ms - ms) for bot, ms in self.beats.items())]


class RealisedPnl:
    """Closed trades' net PnL per bot, in total and today (UTC), from the store, re-read when stale."""

    def __init__(self, load: Callable[[], Awaitable[list[Trade]]]) -> None:
        self._load = load
        self._outcomes: list[Outcome] = []
        self._read_at: float | None = None

    def stale(self) -> None:
        """A position closed: read the store again at the next look."""
        self._read_at = None

    async def outcomes(self) -> list[Outcome]:
        if self._read_at is None or time.monotonic() - self._read_at > REREAD_S:
            self._outcomes = [trade_outcome(trade, {}) for trade in await self._load()]
            self._read_at = time.monotonic()
        return self._outcomes


def summaries(bots: list[str], live: LiveState, outcomes: list[Outcome], now_ms: int | None = None) -> list[BotSummary]:
    """Each bot's open positions and uPnL from the live state beside its closed trades' PnL (today and in total)."""
    today = day_of(now_ms if now_ms is not None else wall_ms())
    by_bot: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_bot.setdefault(outcome.bot or NO_BOT, []).append(outcome)
    rows = []
    for bot in sorted({*bots, *by_bot} - {NO_BOT}):
        held = live.bot_positions(bot).values()
        closed = by_bot.get(bot, [])
        rows.append(
            BotSummary(
                bot,
                len(held),
                sum((p.upnl for p in held), Decimal(0)),
                len(closed),
                summarise((o for o in closed if day_of(o.closed_ms) == today), breakdowns=False).total_pnl,
                summarise(closed, breakdowns=False).total_pnl,
            )
        )
    return rows
