"""Realised PnL since 00:00 UTC as the exchange books it: its transaction log, topped up by fills it does not list yet.

The log is the account's own record, so the figure is right after a restart and counts trades other programs
made on the account. It is read at start, every REFRESH_S, shortly after each fill, and anew when the UTC day
turns (by the server's clock); each read asks only for rows from a little before the newest one held. A fill
streamed before the log lists it counts at once (its execPnl less its fee, as the log will book it) and is
replaced by the log's row when that arrives, matched by trade id. Funding and other rows wait for the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

from tui_bot.core.engine import Engine
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.domain.enums import ExecType
from tui_bot.domain.events import Event, ExecutionReceived
from tui_bot.domain.market import DayPnl, DayPnlChanged
from tui_bot.domain.models import Execution, LedgerEntry
from tui_bot.domain.numbers import ZERO

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
REFRESH_S = 60.0
AFTER_FILL_S = 1.0
"""How long after a fill the log is read again (later fills in that time share the read)."""
LOOKBACK_MS = 60_000
"""Each read starts this long before the newest row held, for rows the log lists a little late."""
MIDNIGHT_SLACK_MS = 50
"""The read at midnight comes this long after it, so the server's clock has turned too."""
PNL_KINDS = frozenset({"TRADE", "SETTLEMENT", "DELIVERY", "LIQUIDATION", "ADL"})
"""Log rows that are trading results (fills, funding, delivery, liquidation); transfers and bonuses are not."""


class DayPnlTracker:
    """Today's realised PnL of the account; the engine's listener for fills."""

    def __init__(self, engine: Engine, *, refresh_s: float = REFRESH_S, after_fill_s: float = AFTER_FILL_S) -> None:
        self.engine = engine
        self.refresh_s, self.after_fill_s = refresh_s, after_fill_s
        self.tasks = BackgroundTasks(engine.health.tasks, log)
        self._lock = asyncio.Lock()
        self._soon: asyncio.Task[None] | None = None
        self._reset(0)
        self._shown = self.current()

    def _reset(self, day_start_ms: int) -> None:
        """Forget everything counted: a new UTC day starts at day_start_ms."""
        self._day_start = day_start_ms
        self._entry_ids: set[str] = set()
        self._listed_trades: set[str] = set()
        self._pending: dict[str, Execution] = {}
        self._newest_ms = 0
        self._as_of = 0
        self._gross = self._fees = self._funding = ZERO

    async def start(self) -> None:
        """Read today's log once (a failure is shown in health and retried), then every refresh_s and at midnight."""
        await self.tasks.attempt("day-pnl", self.refresh())
        self.tasks.spawn("day-pnl-reads", self._keep_reading())

    async def _keep_reading(self) -> None:
        while True:
            await asyncio.sleep(self._next_read_s())
            await self.tasks.attempt("day-pnl", self.refresh())

    def _next_read_s(self) -> float:
        """Seconds until the next read: refresh_s, or just after midnight when that comes sooner."""
        if not self._day_start:
            return self.refresh_s
        to_midnight_ms = self._day_start + DAY_MS - self.engine.client.now_ms()
        return min(self.refresh_s, max(to_midnight_ms + MIDNIGHT_SLACK_MS, 0) / 1000)

    async def stop(self) -> None:
        await self.tasks.stop()

    def current(self) -> DayPnl:
        """Today's figure as last read and topped up."""
        return DayPnl(
            self._day_start,
            self._gross - self._fees + self._funding,
            self._gross,
            self._fees,
            self._funding,
            self._as_of,
            len(self._pending),
        )

    async def refresh(self) -> None:
        """Read the log rows since a little before the newest held (all of today after the day turned)."""
        async with self._lock:
            now = self.engine.client.now_ms()
            day = now - now % DAY_MS
            if day != self._day_start:
                self._reset(day)
            entries = await self.engine.client.fetch_transactions(max(day, self._newest_ms - LOOKBACK_MS))
            for entry in sorted(entries, key=lambda e: e.time):
                self._count(entry)
            self._as_of = now
        self._publish()

    def _count(self, entry: LedgerEntry) -> None:
        """Add one of today's trading rows once; a fill counted from the stream gives way to it."""
        if entry.time < self._day_start or entry.kind not in PNL_KINDS or entry.entry_id in self._entry_ids:
            return
        self._entry_ids.add(entry.entry_id)
        self._newest_ms = max(self._newest_ms, entry.time)
        self._add(entry.cash_flow, entry.fee, entry.funding)
        if entry.trade_id:
            self._listed_trades.add(entry.trade_id)
            streamed = self._pending.pop(entry.trade_id, None)
            if streamed is not None:
                self._add(-streamed.exec_pnl, -streamed.exec_fee, ZERO)

    def _add(self, gross: Decimal, fee: Decimal, funding: Decimal) -> None:
        self._gross += gross
        self._fees += fee
        self._funding += funding

    def on_event(self, event: Event) -> None:
        """Engine listener: a fill of today counts until the log lists it, and the log is read again shortly."""
        if type(event) is not ExecutionReceived or not self._day_start:
            return
        fill = event.execution
        if fill.exec_time < self._day_start:
            return
        if fill.exec_time >= self._day_start + DAY_MS:  # the day turned: the read after it starts the new count
            self._refresh_soon()
            return
        exec_id = fill.exec_id
        if fill.exec_type is ExecType.TRADE and exec_id not in self._listed_trades and exec_id not in self._pending:
            self._pending[exec_id] = fill
            self._add(fill.exec_pnl, fill.exec_fee, ZERO)
            self._publish()
        self._refresh_soon()

    def _refresh_soon(self) -> None:
        """Read the log after_fill_s from now, unless a read is already due then."""
        if self._soon is None or self._soon.done():
            self._soon = self.tasks.spawn("day-pnl", self._refresh_after_fill(), one_off=True)

    async def _refresh_after_fill(self) -> None:
        await asyncio.sleep(self.after_fill_s)
        await self.refresh()

    def _publish(self) -> None:
        """Tell subscribers when the figure (not only its read time) changed."""
        day = self.current()
        shown = self._shown
        if (day.day_start_ms, day.net, day.gross, day.fees, day.funding, day.pending) == (
            shown.day_start_ms,
            shown.net,
            shown.gross,
            shown.fees,
            shown.funding,
            shown.pending,
        ):
            return
        self._shown = day
        self.engine.bus.publish([DayPnlChanged(day=day, exchange_ts=day.as_of_ms, received_ns=time.time_ns())])
