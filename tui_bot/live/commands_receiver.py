"""A bot's end of the command streams: read its own stream and the all-bots one, run each command once, answer.

Both streams are read as consumer group `{bot}` (consumer `{bot}`; a new group starts at the beginning of the
bot's own stream, and at the end of the all-bots one), so an entry is handled once even across a restart: what
a killed bot had read but not acknowledged is read again from its pending list at the next start. A command is
claimed (a field in `{bot}:commands:claims`) before it runs, and the claim goes with the ack and the XACK in one
transaction: a pending entry found claimed was running when the bot stopped, so it is refused, never run twice.
The bot also keeps its heartbeat key alive (with a TTL) while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.metrics import wall_ms
from tui_bot.live import keys
from tui_bot.live.commands import ACK_FIELD, Ack, MalformedEntry, decode_envelope, encode, single_line
from tui_bot.live.commands_handlers import Outcome, execute
from tui_bot.live.connection import RedisTrouble

log = logging.getLogger(__name__)
ACKS_MAXLEN = 10_000
"""Acknowledgement streams are trimmed (approximately) to this many entries."""


@dataclass(frozen=True, slots=True)
class ReceiverOptions:
    """Timings of a receiver: heartbeat refresh and TTL, how long one read blocks, the pause after a Redis error."""

    heartbeat_s: float = 1.0
    heartbeat_ttl_s: float = 5.0
    block_ms: int = 1_000
    retry_s: float = 0.5
    batch: int = 16


class CommandReceiver:
    """Runs the commands sent to one bot (and to all bots) on its ConsoleBackend, and acknowledges each."""

    def __init__(self, url: str, bot: str, backend: ConsoleBackend, options: ReceiverOptions | None = None) -> None:
        self.bot = bot
        self.backend = backend
        self.options = options or ReceiverOptions()
        self.handled = 0
        """Commands answered since start (ok or refused)."""
        self._redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._streams = (keys.commands(bot), keys.ALL_BOTS_COMMANDS)
        self._tasks: list[asyncio.Task[None]] = []
        self._trouble = RedisTrouble(f"commands for bot {bot}", log)
        self._unanswered: dict[str, Outcome] = {}
        """Outcomes whose ack could not be written (Redis failed): written when the entry is read again."""

    async def start(self) -> None:
        """Join the streams and register the bot (when Redis answers), then read (pending entries first) and beat;
        Redis being away is retried, never raised."""
        try:
            await self._join()
        except (RedisError, OSError) as err:
            self._trouble.failed(err)
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"commands-{self.bot}"),
            asyncio.create_task(self._heartbeat_loop(), name=f"heartbeat-{self.bot}"),
        ]

    async def stop(self) -> None:
        """Stop reading and beating (a command being run is cancelled with it), drop the heartbeat, disconnect."""
        await cancel_and_wait(self._tasks)
        self._tasks = []
        with contextlib.suppress(RedisError, OSError):
            await self._redis.delete(keys.bot_heartbeat(self.bot))
        await self._redis.aclose()

    # -- reading --------------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        """Drain this bot's pending entries, then block for new ones; after a Redis error, start over."""
        pending = True
        while True:
            try:
                if pending:
                    await self._join()
                handled = await self._read_batch(pending)
                pending = pending and handled > 0
                self._trouble.answered()
            except (RedisError, OSError) as err:
                self._trouble.failed(err)
                pending = True
                await asyncio.sleep(self.options.retry_s)

    async def _join(self) -> None:
        """Create the consumer groups unless they exist (this bot's stream from its start, the all-bots one from
        now), and register the bot."""
        for stream in self._streams:
            first = "0" if stream == keys.commands(self.bot) else "$"  # a new bot replays no old panic
            try:
                await self._redis.xgroup_create(stream, self.bot, id=first, mkstream=True)
            except ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise
                continue
            for claim in [c for c in self._unanswered if c.startswith(f"{stream} ")]:
                del self._unanswered[claim]  # a new group (Redis lost its keys): those entries are gone
        await cast("Awaitable[int]", self._redis.sadd(keys.BOTS, self.bot))

    async def _read_batch(self, pending: bool) -> int:
        """Handle one batch: this consumer's pending entries, or new ones (blocking a while); how many there were."""
        start = "0" if pending else ">"
        batches = await self._redis.xreadgroup(
            self.bot,
            self.bot,
            dict.fromkeys(self._streams, start),
            count=self.options.batch,
            block=None if pending else self.options.block_ms,
        )
        count = 0
        for stream, entries in batches or []:
            for entry_id, fields in entries:
                await self._handle(stream, entry_id, fields)
                count += 1
        return count

    # -- one entry ----------------------------------------------------------------------------------------

    async def _handle(self, stream: str, entry_id: str, fields: dict[str, str] | None) -> None:
        if not fields:  # trimmed away while pending: nothing left to run or answer
            await self._redis.xack(stream, self.bot, entry_id)
            return
        claim = _claim(stream, entry_id)
        outcome = self._unanswered.get(claim) or await self._outcome(stream, entry_id, fields)
        self._unanswered[claim] = outcome
        await self._answer(stream, entry_id, outcome)
        del self._unanswered[claim]

    async def _outcome(self, stream: str, entry_id: str, fields: dict[str, str]) -> Outcome:
        """Decode, refuse when stale or already started, else run the command."""
        try:
            envelope = decode_envelope(fields)
        except MalformedEntry as err:
            log.warning("command %s %s refused: %s", stream, entry_id, err)
            return Outcome(False, str(err))
        name = envelope.command.type
        late_ms = envelope.stale_by_ms(wall_ms())
        if late_ms is not None:
            age_s = (late_ms + envelope.ttl_ms) / 1000
            log.warning("command %s %s from %s refused: %.1f s old", stream, entry_id, envelope.sender, age_s)
            return Outcome(False, f"stale: {name} sent {age_s:.1f} s ago (TTL {envelope.ttl_ms / 1000:g} s); not run")
        claims = keys.command_claims(self.bot)
        if not await cast("Awaitable[bool]", self._redis.hsetnx(claims, _claim(stream, entry_id), str(wall_ms()))):
            return Outcome(False, f"{name} was running when bot {self.bot} stopped; not run twice (check the account)")
        log.info("command %s from %s (%s %s)", name, envelope.sender, stream, entry_id)
        return await execute(envelope.command, self.backend)

    async def _answer(self, stream: str, entry_id: str, outcome: Outcome) -> None:
        """Write the ack, XACK the entry and drop its claim, all in one transaction."""
        ack = Ack(self.bot, stream, entry_id, outcome.ok, single_line(outcome.message), wall_ms())
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xadd(keys.acks(self.bot), {ACK_FIELD: encode(ack)}, maxlen=ACKS_MAXLEN, approximate=True)
            pipe.xack(stream, self.bot, entry_id)
            pipe.hdel(keys.command_claims(self.bot), _claim(stream, entry_id))
            await pipe.execute()
        self.handled += 1
        log.info("command %s %s answered: %s %s", stream, entry_id, "ok" if ack.ok else "refused", ack.message)

    # -- heartbeat and trouble ------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        ttl_ms = int(self.options.heartbeat_ttl_s * 1000)
        while True:
            try:
                await self._redis.set(keys.bot_heartbeat(self.bot), wall_ms(), px=ttl_ms)
            except (RedisError, OSError) as err:
                self._trouble.failed(err)
            await asyncio.sleep(self.options.heartbeat_s)


def _claim(stream: str, entry_id: str) -> str:
    return f"{stream} {entry_id}"
