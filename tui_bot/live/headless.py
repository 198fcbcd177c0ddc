"""A headless bot's core: the runtime with the account followed from the listener's live state in Redis."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.exchange.bybit.client import BybitClient
from tui_bot.live.bot_gates import FeedAnnouncer, ListenerGates
from tui_bot.live.reader import LiveState
from tui_bot.live.redis_account_client import RedisAccountClient
from tui_bot.runtime import Runtime, start_runtime


@dataclass(repr=False)
class HeadlessBot:
    """The bot's runtime, the live state it reads, the feed built on it and what announces the feed's outages."""

    runtime: Runtime
    live: LiveState
    feed: RedisAccountClient
    announcer: FeedAnnouncer

    async def close(self) -> None:
        """Stop the runtime (its feed with it), then the reader."""
        try:
            await self.runtime.close()
        finally:
            await self.live.close()


async def start_headless(
    settings: Settings, db_path: Path | None, url: str, *, live: LiveState | None = None, **runtime_options: bool
) -> HeadlessBot:
    """Follow the live state, start the runtime on it (no private stream of its own) and gate entries by it."""
    live = live or LiveState(url)
    announcer = FeedAnnouncer(settings.bot.bot_id)
    feeds: list[RedisAccountClient] = []

    def follow(client: BybitClient) -> RedisAccountClient:
        feed = RedisAccountClient(client, live, url)
        feed.listeners.append(announcer)
        feeds.append(feed)
        return feed

    await live.start()
    try:
        runtime = await start_runtime(settings, db_path, account_feed=follow, **runtime_options)
    except BaseException:
        with contextlib.suppress(Exception):
            await live.close()
        raise
    if runtime.bot is not None:
        runtime.bot.shared = ListenerGates(live, feeds[0], settings.bot.bot_id)
    return HeadlessBot(runtime, live, feeds[0], announcer)
