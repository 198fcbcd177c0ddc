"""Reading the listener's fills stream from where a reader last was: each execution once, in the order added."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis

from tui_bot.domain.events import ExecutionReceived
from tui_bot.domain.models import Execution
from tui_bot.live import keys
from tui_bot.live.codec import EXECUTION_JSON
from tui_bot.live.connection import REDIS_ERRORS

log = logging.getLogger(__name__)


class FillsCursor:
    """A position in `tui:fills`: start at its end, then read what was added since, moving on past it."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self.last_id: str | None = None
        """The id of the last entry read (None: not placed yet)."""

    async def start_at_end(self) -> None:
        """From now on: only fills added after the stream's newest entry are read."""
        newest = await self._redis.xrevrange(keys.FILLS_STREAM, count=1)
        self.last_id = str(newest[0][0]) if newest else "0-0"

    async def read_new(self) -> list[Execution]:
        """The fills added since the last read (placed at the end first if it was not)."""
        if self.last_id is None:
            await self.start_at_end()
            return []
        entries = await self._redis.xrange(keys.FILLS_STREAM, min=f"({self.last_id}", max="+")
        executions = []
        for entry_id, fields in entries:
            self.last_id = str(entry_id)
            try:
                executions.append(EXECUTION_JSON.validate_json(fields["execution"]))
            except (KeyError, ValueError) as err:  # skipped: the listener's store has the fill all the same
                log.warning("fills: entry %s not understood: %s", entry_id, str(err).splitlines()[0])
        return executions


class FillsFollower:
    """New fills handed on as ExecutionReceived events, read whenever a change names the fills stream."""

    def __init__(self, redis: Redis, push: Callable[[list[object]], None]) -> None:
        self._cursor = FillsCursor(redis)
        self._push = push
        self._due = asyncio.Event()

    def due(self) -> None:
        """The listener added to the stream (or a new snapshot came): read it at the next turn."""
        self._due.set()

    async def run(self) -> None:
        """Place the cursor at the stream's end, then read on every due until cancelled; Redis failing is logged and
        the fills are read at the next due."""
        try:
            await self._cursor.start_at_end()
        except REDIS_ERRORS as err:
            log.warning("fills: Redis failed (%s); following from the next change", err)
        while True:
            await self._due.wait()
            self._due.clear()
            try:
                executions = await self._cursor.read_new()
            except REDIS_ERRORS as err:
                log.warning("fills: reading the stream failed (%s); read again at the next change", err)
                continue
            if executions:
                now_ns = time.time_ns()
                self._push(
                    [ExecutionReceived(execution=e, exchange_ts=e.exec_time, received_ns=now_ns) for e in executions]
                )


def received(executions: list[Execution]) -> list[ExecutionReceived]:
    """The fills as the events a private stream would have given, received now."""
    now_ns = time.time_ns()
    return [ExecutionReceived(execution=e, exchange_ts=e.exec_time, received_ns=now_ns) for e in executions]
