"""`tui-bot cycle --once`: run one analysis cycle now, execute it per the settings, write its rows, and exit."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.domain.events import Event, ExecutionReceived
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.exchange.errors import ExchangeError
from tui_bot.logs import configure_logging
from tui_bot.runtime import Runtime, SetupError, start_runtime
from tui_bot.store.rows import CycleRow

FILL_WAIT_S = 10.0


def run_cycle_once(settings: Settings, db_path: Path | None) -> int:
    """One cycle against the configured venue; prints the cycle and each recommendation's fate."""
    configure_logging(settings.listen.log_file)
    try:
        return asyncio.run(_cycle_once(settings, db_path))
    except (SetupError, ExchangeError, OSError) as err:
        print(f"tui-bot cycle: {err}", file=sys.stderr)
        return 1


async def _cycle_once(settings: Settings, db_path: Path | None) -> int:
    runtime = await start_runtime(settings, db_path, schedule_cycles=False, protect=False)  # one cycle, nothing else
    filled: set[str] = set()

    def note_fill(event: Event) -> None:
        if isinstance(event, ExecutionReceived):
            filled.add(event.execution.order_link_id)

    runtime.engine.listeners.append(note_fill)
    try:
        bot = runtime.bot
        assert bot is not None
        cycle = await bot.run_cycle("command line")
        await _await_fills(runtime, filled)
        _print_cycle(runtime, cycle)
        return 0 if cycle.status in ("done", "skipped") else 1
    finally:
        await runtime.close()


async def _await_fills(runtime: Runtime, filled: set[str]) -> None:
    """Give the entries just sent time to fill (filled: the orderLinkIds of the fills seen so far), so their
    executions and trade rows are stored before exit."""
    assert runtime.bot is not None
    links = {r.order_link_id for r in runtime.bot.recommendations.values()
             if r.status == RecommendationStatus.EXECUTED and r.order_link_id}
    deadline = time.monotonic() + FILL_WAIT_S
    while links - filled and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await runtime.engine.drain()


def _print_cycle(runtime: Runtime, cycle: CycleRow) -> None:
    assert runtime.bot is not None
    print(f"cycle {cycle.id} {cycle.status} on {cycle.timeframe}: {cycle.recommendations} ideas, "
          f"{cycle.approved} approved, {cycle.rejected} rejected" + (f" ({cycle.skip_reason})" if cycle.skip_reason else ""))
    for rec in runtime.bot.recommendations.values():
        if rec.cycle_id == cycle.id:
            print(f"  {rec.symbol:<10} {rec.side.value:<4} conf {rec.confidence:.2f} R:R {rec.rr or '-'} "
                  f"{rec.strategy:<15} {rec.status}: {rec.fate or ''}")
