"""`tui-bot cycle --once`: run one analysis cycle now, execute it per the settings, write its rows, and exit."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.core.bus import Subscription
from tui_bot.core.console_api import ConsoleBackend, CycleReport
from tui_bot.domain.events import ExecutionReceived
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.exchange.errors import ExchangeError
from tui_bot.logs import configure_logging
from tui_bot.runtime import SetupError, open_local_backend

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
    backend = await open_local_backend(
        settings, db_path, schedule_cycles=False, protect=False
    )  # one cycle, nothing else
    fills = backend.subscribe()  # before the cycle: its entries may fill before it returns
    try:
        cycle = await backend.run_cycle("command line")
        await _await_fills(backend, cycle, fills)
        _print_cycle(backend, cycle)
        return 0 if cycle.status in ("done", "skipped") else 1
    finally:
        backend.unsubscribe(fills)
        await backend.close()


async def _await_fills(backend: ConsoleBackend, cycle: CycleReport, fills: Subscription) -> None:
    """Give the cycle's entries time to fill, so their executions and trade rows are stored before exit."""
    links = {
        r.order_link_id
        for r in backend.recommendations()
        if r.cycle_id == cycle.id and r.status == RecommendationStatus.EXECUTED and r.order_link_id
    }
    deadline = time.monotonic() + FILL_WAIT_S
    while links and (left := deadline - time.monotonic()) > 0:
        try:
            batch = await asyncio.wait_for(fills.next_batch(), left)
        except TimeoutError:
            return
        links -= {item.execution.order_link_id for item in batch if isinstance(item, ExecutionReceived)}


def _print_cycle(backend: ConsoleBackend, cycle: CycleReport) -> None:
    print(
        f"cycle {cycle.id} {cycle.status} on {cycle.timeframe}: {cycle.recommendations} ideas, "
        f"{cycle.approved} approved, {cycle.rejected} rejected"
        + (f" ({cycle.skip_reason})" if cycle.skip_reason else "")
    )
    for rec in backend.recommendations():
        if rec.cycle_id == cycle.id:
            print(
                f"  {rec.symbol:<10} {rec.side.value:<4} conf {rec.confidence:.2f} R:R {rec.rr or '-'} "
                f"{rec.strategy:<15} {rec.status}: {rec.fate or ''}"
            )
    if (summary := backend.last_cycle()) is not None:  # why the rest held, and whether the learned score gated
        for symbol, reasons in summary.held:
            print(f"  {symbol:<10} held: {'; '.join(reasons)}")
        print(f"  {summary.ml_status}")
