"""Every bot's recommendations in the attached console: read from Redis, approved or dismissed as bot commands.

Each headless bot publishes its ideas under `{bot}:recommendations` (live/recs_publisher.py). The console reads the
value of every registered bot on each PUBLISH and every poll_s (a killed bot's value expires, and its ideas go), and
shows them with the bot's id: the id `{bot}/{recommendation id}`, the strategy `{bot}/{strategy}`. `a` and `d` send
Approve or Dismiss to that bot and wait for its answer; a refusal or no answer in time is the error's line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import cast

from tui_bot.core.bus import Subscription
from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.events import ResyncCompleted
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.live import keys
from tui_bot.live.commands import Approve, Dismiss
from tui_bot.live.commands_sender import CommandSender
from tui_bot.live.connection import REDIS_ERRORS, connect
from tui_bot.live.recs_codec import BotRecommendations, decode

log = logging.getLogger(__name__)
_UNDECIDED = frozenset({RecommendationStatus.PENDING, RecommendationStatus.APPROVED})


class RecommendationsReader:
    """The recommendations every registered bot publishes, as last read, and a listener told of each change."""

    def __init__(self, url: str, on_change: Callable[[], None], *, poll_s: float = 1.0, retry_s: float = 0.5) -> None:
        self._redis = connect(url, decode=True)
        self._subscriber = connect(url, decode=True, timeout_s=None)  # a quiet channel is no failure
        self._on_change = on_change
        self.poll_s, self.retry_s = poll_s, retry_s
        self.by_bot: dict[str, BotRecommendations] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._follow(), name="attached-recommendations")

    async def close(self) -> None:
        if self._task is not None:
            await cancel_and_wait([self._task])
        await self._redis.aclose()
        await self._subscriber.aclose()

    async def _follow(self) -> None:
        """Subscribe, then read every bot's value now, on each message and every poll_s; start over after an error."""
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await pubsub.subscribe(keys.RECOMMENDATIONS_CHANNEL)
                    while True:
                        await self._read_all()
                        await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll_s)
            except REDIS_ERRORS as err:
                log.warning("recommendations: Redis failed (%s); reading again", err)
            except Exception:  # whatever else went wrong must not end the reader: logged, then read again
                log.exception("recommendations: reading failed; reading again")
            await asyncio.sleep(self.retry_s)

    async def _read_all(self) -> None:
        bots = sorted(await cast("Awaitable[set[str]]", self._redis.smembers(keys.BOTS)))
        values = await self._redis.mget([keys.recommendations(bot) for bot in bots]) if bots else []
        found: dict[str, BotRecommendations] = {}
        for bot, raw in zip(bots, values, strict=True):
            if raw is None:
                continue
            try:
                found[bot] = decode(raw)
            except ValueError as err:
                log.warning("bot %s: %s", bot, err)
        if found != self.by_bot:
            self.by_bot = found
            self._changed.set()
            self._changed = asyncio.Event()
            self._on_change()

    def find(self, bot: str, rec_id: str) -> Recommendation | None:
        published = self.by_bot.get(bot)
        return next((r for r in published.recommendations if r.id == rec_id), None) if published else None

    async def decided(self, bot: str, rec_id: str, timeout_s: float) -> Recommendation | None:
        """bot's recommendation once its published status is decided (None: not published so within timeout_s)."""
        deadline = time.monotonic() + timeout_s
        while True:
            changed = self._changed
            rec = self.find(bot, rec_id)
            if rec is not None and rec.status not in _UNDECIDED:
                return rec
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await changed.wait()
            except TimeoutError:
                return None


class AttachedRecommendations:
    """The recommendation part of the attached console's ConsoleBackend (AttachedBackend inherits it)."""

    has_bot = True
    """The bots run elsewhere: their recommendations are shown, and a and d reach them."""
    _sender: CommandSender
    _subscriptions: list[Subscription]
    _recs: RecommendationsReader

    def _follow_recommendations(self, url: str) -> None:
        """Make the reader of the bots' recommendations, self._recs (the backend starts and closes it)."""
        self._recs = RecommendationsReader(url, self._recommendations_changed)

    def _recommendations_changed(self) -> None:
        changed = ResyncCompleted(reason="recommendations changed", exchange_ts=0, received_ns=time.time_ns())
        for subscription in self._subscriptions:
            subscription.push(changed)

    def recommendations(self) -> list[Recommendation]:
        """Every bot's recommendations, each named by its bot (id and strategy `{bot}/...`)."""
        return [_shown(bot, rec) for bot, published in self._recs.by_bot.items() for rec in published.recommendations]

    def held_reasons(self) -> dict[str, tuple[str, ...]]:
        """Why each symbol got no idea in each bot's latest cycle: "bot: strategy: reason"."""
        held: dict[str, tuple[str, ...]] = {}
        for bot, published in self._recs.by_bot.items():
            for symbol, reasons in published.held.items():
                held[symbol] = held.get(symbol, ()) + tuple(f"{bot}: {reason}" for reason in reasons)
        return held

    async def approve(self, recommendation_id: str) -> Recommendation:
        """Have the bot approve it; the recommendation as the bot then publishes it (ValueError: its refusal)."""
        bot, rec = self._published(recommendation_id)
        return await self._decide(bot, rec, Approve(rec.id))

    async def dismiss(self, recommendation_id: str) -> Recommendation:
        """Have the bot dismiss it; the recommendation as the bot then publishes it (ValueError: its refusal)."""
        bot, rec = self._published(recommendation_id)
        return await self._decide(bot, rec, Dismiss(rec.id))

    def _published(self, recommendation_id: str) -> tuple[str, Recommendation]:
        bot, _, rec_id = recommendation_id.partition("/")
        rec = self._recs.find(bot, rec_id)
        if rec is None:
            raise ValueError(f"recommendation {recommendation_id}: no bot publishes it (any more)")
        return bot, rec

    async def _decide(self, bot: str, rec: Recommendation, command: Approve | Dismiss) -> Recommendation:
        reply = await self._sender.send(bot, command)
        if not reply.ok:
            raise ValueError(reply.line())
        decided = await self._recs.decided(bot, rec.id, self._sender.timeout_s)
        return _shown(bot, decided or replace(rec, fate=reply.message))


def _shown(bot: str, rec: Recommendation) -> Recommendation:
    return replace(rec, id=f"{bot}/{rec.id}", strategy=f"{bot}/{rec.strategy}")
