"""A headless bot's recommendations in Redis, for attached consoles: `{bot}:recommendations`, kept alive with a TTL.

The bot writes the whole value again on every RecommendationChanged of its core, and at least every refresh_s (the
TTL's refresh; the latest cycle's held reasons ride along), with a PUBLISH of its id whenever the value changed. A
bot that stops deletes the value; one that is killed leaves it to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from tui_bot.core.bus import Subscription
from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.events import RecommendationChanged
from tui_bot.live import keys
from tui_bot.live.connection import REDIS_ERRORS, RedisTrouble, connect
from tui_bot.live.recs_codec import BotRecommendations, encode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecsPublisherOptions:
    """How often the value is written at the least, and how long it outlives the bot's last write."""

    refresh_s: float = 1.0
    ttl_s: float = 5.0


class RecommendationsPublisher:
    """Publishes one bot's recommendations (its ConsoleBackend's) into Redis until stopped."""

    def __init__(
        self, url: str, bot: str, backend: ConsoleBackend, options: RecsPublisherOptions | None = None
    ) -> None:
        self.bot = bot
        self.backend = backend
        self.options = options or RecsPublisherOptions()
        self._redis = connect(url, decode=True)
        self._published: str | None = None
        self._trouble = RedisTrouble(f"recommendations of bot {bot}", log)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Write the value now and whenever it changes (Redis being away is retried, never raised)."""
        subscription = self.backend.subscribe()
        self._task = asyncio.create_task(self._run(subscription), name=f"recommendations-{self.bot}")

    async def stop(self) -> None:
        """Stop writing, withdraw the value (consoles drop this bot's ideas at once), disconnect."""
        if self._task is not None:
            await cancel_and_wait([self._task])
        with contextlib.suppress(*REDIS_ERRORS):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(keys.recommendations(self.bot))
                pipe.publish(keys.RECOMMENDATIONS_CHANNEL, self.bot)
                await pipe.execute()
        await self._redis.aclose()

    async def _run(self, subscription: Subscription) -> None:
        try:
            while True:
                await self._write()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.refresh_s):
                        while not any(isinstance(e, RecommendationChanged) for e in await subscription.next_batch()):
                            pass
        finally:
            self.backend.unsubscribe(subscription)

    async def _write(self) -> None:
        """SET the value with its TTL; PUBLISH the bot's id when it differs from the last one published."""
        value = encode(BotRecommendations.of(self.bot, self.backend.recommendations(), self.backend.held_reasons()))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(keys.recommendations(self.bot), value, px=int(self.options.ttl_s * 1000))
                if value != self._published:
                    pipe.publish(keys.RECOMMENDATIONS_CHANNEL, self.bot)
                await pipe.execute()
        except REDIS_ERRORS as err:
            self._published = None  # published again in full once Redis answers
            self._trouble.failed(err)
            return
        self._trouble.answered()
        self._published = value


async def publish_recommendations(url: str, bot: str, backend: ConsoleBackend) -> RecommendationsPublisher:
    """A started publisher of bot's recommendations (stop it when the bot stops)."""
    publisher = RecommendationsPublisher(url, bot, backend)
    await publisher.start()
    return publisher
