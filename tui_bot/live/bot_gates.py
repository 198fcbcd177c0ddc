"""A headless bot's gates on the listener's live state, and what it says when that state stops or comes back."""

from __future__ import annotations

import logging

from tui_bot.core.gating import GateBook
from tui_bot.live.keys import EXTERNAL_BOT
from tui_bot.live.reader import LiveState
from tui_bot.live.redis_account_client import RedisAccountClient

log = logging.getLogger(__name__)

PAUSED = "entries paused, protecting open positions from REST"
RESUMED = "listener back: entries resumed, account followed from redis"


class ListenerGates:
    """No entry while the account is not followed from Redis; no symbol another bot holds as the listener says."""

    def __init__(self, live: LiveState, feed: RedisAccountClient, bot_id: str) -> None:
        self._live = live
        self._feed = feed
        self._bot_id = bot_id

    def restrict(self, book: GateBook) -> None:
        if not self._feed.private_live:
            book.closed = f"{self._feed.stats.reason or 'listener not followed yet'}: entries paused"
        for bot, held in self._live.positions().items():
            if bot not in (self._bot_id, EXTERNAL_BOT):
                for symbol in held:
                    book.held_by.setdefault(symbol, bot)


class FeedAnnouncer:
    """One line on stdout and in the log when the listener's state goes away, and one when it is back."""

    def __init__(self, bot_id: str) -> None:
        self._bot_id = bot_id
        self._down: str | None = None
        """Why the feed is down, while it is."""
        self._speaking = False

    def __call__(self, live: bool, why: str) -> None:
        was_down, self._down = self._down is not None, None if live else why
        if not self._speaking:
            return
        if not live:
            self._say(f"{why}: {PAUSED}")
        elif was_down:
            self._say(RESUMED)

    def speak(self) -> None:
        """Say from now on (after the bot's start line), at once when the feed is down already."""
        self._speaking = True
        if self._down is not None:
            self._say(f"{self._down}: {PAUSED}")

    def _say(self, text: str) -> None:
        log.warning("bot %s: %s", self._bot_id, text)
        print(f"bot {self._bot_id}: {text}", flush=True)
