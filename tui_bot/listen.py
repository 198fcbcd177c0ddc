"""`tui-bot listen`: headless, 24/7 — records every execution, keeps state reconciled, raises alerts, prints health."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.core.health import summary_line
from tui_bot.core.market_view import MarketView
from tui_bot.domain.numbers import plain
from tui_bot.exchange.errors import ExchangeError
from tui_bot.logs import configure_logging
from tui_bot.runtime import Runtime, SetupError, start_runtime


def run_listen(settings: Settings, db_path: Path | None) -> int:
    """Run until SIGINT/SIGTERM; logs go to the configured file, one health line per interval to stdout."""
    configure_logging(settings.listen.log_file)
    try:
        asyncio.run(_listen(settings, db_path))
    except (SetupError, ExchangeError, OSError) as err:
        print(f"tui-bot listen: {err}", file=sys.stderr)
        return 1
    return 0


async def _listen(settings: Settings, db_path: Path | None) -> None:
    runtime = await start_runtime(settings, db_path)
    target = db_path or settings.storage.db_path
    print(f"listening: venue {runtime.client.label}, db {target}, log {settings.listen.log_file}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.listen.health_interval_s)
            print(health_line(runtime), flush=True)
    finally:
        await runtime.close()
        print("stopped; store flushed.", flush=True)


def health_line(runtime: Runtime) -> str:
    """What `listen` prints: connections, latency, counts, equity and day PnL, then failing store writes and failing
    or ended tasks (alerts go to the log and the [notify] channels on their own)."""
    engine, writer = runtime.engine, runtime.writer
    engine.health.clock_offset_ms = runtime.client.rest.clock_offset_ms
    state = engine.state
    parts = [summary_line(runtime.client.connection_stats(), engine.health, engine.mode.value),
             f"positions={len(state.positions)} orders={len(state.open_orders)} execs={len(state.exec_ids)}"]
    if runtime.market is not None:
        parts.append(account_part(runtime.market))
    if writer.stalled_since is not None:
        parts.append(f"db=failing {time.time() - writer.stalled_since:.0f}s queued={writer.pending} ({writer.stall_error})")
    troubles = engine.health.tasks.lines(int(time.time() * 1000))
    if troubles:
        parts.append("tasks: " + "; ".join(troubles))
    return " ".join(parts)


def account_part(market: MarketView) -> str:
    """Equity at the current marks and realised PnL since 00:00 UTC ('-' before the wallet or the log was read)."""
    summary, day = market.account_summary(), market.day_pnl()
    equity = plain(summary.equity, 2) if summary is not None else "-"
    net = ("+" if day.net > 0 else "") + plain(day.net, 2) if day.as_of_ms else "-"
    return f"equity={equity} day={net}"
