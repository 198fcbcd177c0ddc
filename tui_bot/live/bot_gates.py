"""A headless bot's gates on the listener's live state, and what it says when that state stops or comes back."""

from __future__ import annotations

import logging

from tui_bot.core.gating import GateBook
from tui_bot.domain.events import Event, ExecutionReceived
from tui_bot.domain.order_ids import parse_order_id
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


class OwnPositions:
    """What a headless bot protects: the symbols the listener says it holds; while the account is not followed from
    Redis (listener or Redis gone, protection from REST reads), also those it last knew it held and those its own
    orders fill meanwhile (a resting entry)."""

    def __init__(self, live: LiveState, bot_id: str) -> None:
        self._live = live
        self._bot_id = bot_id
        self._following = False
        self._known: frozenset[str] = frozenset()

    def feed(self, live: bool, why: str) -> None:
        """The feed's listener: the account is followed from Redis (live) or no longer."""
        self._following = live

    def on_event(self, event: Event) -> None:
        """Engine listener: a fill of this bot's own order read from REST while the listener's state is not followed."""
        if self._following or type(event) is not ExecutionReceived:
            return
        parsed = parse_order_id(event.execution.order_link_id)
        if parsed is not None and parsed.bot == self._bot_id:
            self._known |= {event.execution.symbol}

    def owns(self, symbol: str) -> bool:
        """Whether this bot holds symbol's position (and so protects it)."""
        held = self._live.bot_positions(self._bot_id)
        if self._following:
            self._known = frozenset(held)
            return symbol in held
        return symbol in held or symbol in self._known
