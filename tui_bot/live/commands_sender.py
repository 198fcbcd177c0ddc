"""The sending end of the command streams: add a command for a bot (or all bots) and wait for the answers.

A sender notes where each acknowledgement stream ends before it adds the command, then reads on from there until
every bot asked has answered or the timeout passes. Panic goes to every bot at once; whatever is still open when
the answers are in (or a bot stayed silent) the sender closes itself, through its own backend.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Collection
from dataclasses import dataclass
from typing import Literal, cast

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.typing import KeyT, StreamIdT

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.live import keys
from tui_bot.live.commands import (
    COMMAND_FIELD,
    DEFAULT_TTL_MS,
    Command,
    Envelope,
    MalformedEntry,
    Panic,
    decode_ack,
    encode,
)
from tui_bot.live.commands_handlers import one_line

log = logging.getLogger(__name__)
COMMANDS_MAXLEN = 10_000
"""Command streams are trimmed (approximately) to this many entries."""
DEFAULT_TIMEOUT_S = 3.0

ReplyStatus = Literal["ok", "refused", "no_answer", "unsent"]


@dataclass(frozen=True, slots=True)
class Reply:
    """What became of a command for one bot: done, refused (the bot's line), no answer in time, or not sent."""

    bot: str
    status: ReplyStatus
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        """`bot: status — message` (the message alone says it for no_answer and unsent)."""
        if self.status in ("no_answer", "unsent"):
            return self.message
        return f"{self.bot} {self.status}: {self.message}"


@dataclass(frozen=True, slots=True)
class PanicReport:
    """A panic's answers: each bot's reply, the bots that said nothing, and what the sender closed itself."""

    replies: tuple[Reply, ...]
    silent: tuple[str, ...]
    closed_here: str | None
    """The sender's own close of what remained (None: nothing was left, or it had no backend to close with)."""
    unsent: str | None = None
    """Why no bot could be told (Redis failed), if so."""

    def line(self) -> str:
        parts = [self.unsent] if self.unsent else []
        parts += [reply.line() for reply in self.replies]
        if self.silent:
            parts.append(f"no answer from {', '.join(self.silent)}")
        if self.closed_here is not None:
            parts.append(self.closed_here)
        return "panic: " + ("; ".join(parts) or "no bot known and nothing to close")


class CommandSender:
    """Sends commands under the sender's name and waits up to timeout_s for each bot's acknowledgement."""

    def __init__(
        self, url: str, sender: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, ttl_ms: int = DEFAULT_TTL_MS
    ) -> None:
        self.sender = sender
        self.timeout_s = timeout_s
        self.ttl_ms = ttl_ms
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)

    async def close(self) -> None:
        await self._redis.aclose()

    async def send(self, bot: str, command: Command) -> Reply:
        """Send command to bot and wait for its answer (a Redis failure is an `unsent` reply, never raised)."""
        try:
            starts = await self._ack_ends([bot])
            entry = await self._add(keys.commands(bot), command)
            replies = await self._answers(starts, keys.commands(bot), entry)
        except (RedisError, OSError) as err:
            return Reply(bot, "unsent", f"{command.type} for bot {bot} not sent: Redis failed ({one_line(err)})")
        return replies.get(bot) or self._silent(bot)

    async def panic(self, bots: Collection[str] | None = None, own: ConsoleBackend | None = None) -> PanicReport:
        """Panic every bot (default: every bot registered), then close what is still open through own."""
        unsent: str | None = None
        try:
            named, replies = await self._panic_bots(bots)
        except (RedisError, OSError) as err:
            unsent = f"no bot told: Redis failed ({one_line(err)})"
            log.error("panic: %s; closing through this process only", unsent)
            named, replies = [], {}
        silent = tuple(bot for bot in named if bot not in replies)
        refused = any(not reply.ok for reply in replies.values())
        closed_here = None
        if own is not None and (silent or refused or own.positions() or own.open_orders()):
            closed_here = await _close_all(own)
        return PanicReport(tuple(replies[bot] for bot in named if bot in replies), silent, closed_here, unsent)

    async def _panic_bots(self, bots: Collection[str] | None) -> tuple[list[str], dict[str, Reply]]:
        """Panic on the all-bots stream; the bots asked (those given, or every registered one) and their replies."""
        registered = bots if bots is not None else await cast("Awaitable[set[str]]", self._redis.smembers(keys.BOTS))
        named = sorted(registered)
        starts = await self._ack_ends(named)
        entry = await self._add(keys.ALL_BOTS_COMMANDS, Panic())
        return named, await self._answers(starts, keys.ALL_BOTS_COMMANDS, entry)

    # -- the streams --------------------------------------------------------------------------------------

    async def _ack_ends(self, bots: list[str]) -> dict[str, str]:
        """Where each bot's acknowledgement stream ends; read again once after a dropped connection (a restarted
        Redis leaves the pooled one dead), which is safe for a read, unlike the XADD after it."""
        try:
            return {bot: await self._ack_end(bot) for bot in bots}
        except RedisConnectionError:
            return {bot: await self._ack_end(bot) for bot in bots}

    async def _ack_end(self, bot: str) -> str:
        """The id of the last entry in bot's acknowledgement stream (answers to come are after it)."""
        last = await self._redis.xrevrange(keys.acks(bot), count=1)
        return str(last[0][0]) if last else "0-0"

    async def _add(self, stream: str, command: Command) -> str:
        envelope = Envelope.now(command, self.sender, self.ttl_ms)
        entry = await self._redis.xadd(stream, {COMMAND_FIELD: encode(envelope)}, maxlen=COMMANDS_MAXLEN)
        return str(entry)

    async def _answers(self, starts: dict[str, str], stream: str, entry: str) -> dict[str, Reply]:
        """The bots' answers to entry of stream, read from where each ack stream ended, until all or the timeout."""
        cursors: dict[KeyT, StreamIdT] = {keys.acks(bot): start for bot, start in starts.items()}
        replies: dict[str, Reply] = {}
        deadline = time.monotonic() + self.timeout_s
        while len(replies) < len(starts):
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                break
            for ack_stream, entries in await self._redis.xread(cursors, block=left_ms, count=100) or []:
                for entry_id, fields in entries:
                    cursors[ack_stream] = entry_id
                    reply = _reply_to(fields, stream, entry, starts)
                    if reply is not None:
                        replies[reply.bot] = reply
        return replies

    def _silent(self, bot: str) -> Reply:
        return Reply(bot, "no_answer", f"no answer from bot {bot} in {self.timeout_s:g} s")


def _reply_to(fields: dict[str, str], stream: str, entry: str, bots: Collection[str]) -> Reply | None:
    """The reply an ack entry gives to entry of stream from one of bots (None: an answer to something else)."""
    try:
        ack = decode_ack(fields)
    except MalformedEntry as err:
        log.warning("an acknowledgement not understood: %s", err)
        return None
    if ack.stream != stream or ack.entry != entry or ack.bot not in bots:
        return None
    return Reply(ack.bot, "ok" if ack.ok else "refused", ack.message)


async def _close_all(own: ConsoleBackend) -> str:
    """Cancel every order and close every position through the sender's own backend; what happened in one line."""
    try:
        closing = await own.close_all()
    except Exception as err:  # noqa: BLE001 - told to the trader in the panic's line
        log.exception("panic: closing through this process failed")
        return f"closing here failed: {one_line(err)}"
    return f"closed {len(closing)} positions here"
