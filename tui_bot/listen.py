"""`tui-bot listen`: headless, 24/7 — records every execution, keeps state reconciled, raises alerts, prints health."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.health import summary_line
from tui_bot.domain.numbers import plain
from tui_bot.exchange.errors import ExchangeError
from tui_bot.live.attached_backend import CONSOLE_SENDER
from tui_bot.live.publisher import LivePublisher, PublisherOptions
from tui_bot.logs import configure_logging
from tui_bot.runtime import Runtime, SetupError, database_shown, start_protection, start_runtime


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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # from the start: a SIGTERM while starting still shuts down cleanly
        loop.add_signal_handler(sig, stop.set)
    runtime, publisher = await start_listener(settings, db_path)
    backend = runtime.backend
    target = database_shown(settings, db_path)
    live = " (live state in redis)" if publisher is not None else ""
    print(f"listening: venue {backend.venue.label}, db {target}, log {settings.listen.log_file}{live}", flush=True)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.listen.health_interval_s)
            line = health_line(backend)
            print(f"{line} {publisher.status()}" if publisher is not None else line, flush=True)
    finally:
        if publisher is not None:
            await publisher.stop()
        await backend.close()
        print("stopped; store flushed.", flush=True)


async def start_listener(settings: Settings, db_path: Path | None) -> tuple[Runtime, LivePublisher | None]:
    """The listener's runtime and, with [redis] url, its publisher; with Redis it protects only its own and the
    attached consoles' positions (each bot protects its own), from when the publisher knows whose each one is."""
    publishing = bool(settings.redis.url.get_secret_value())
    runtime = await start_runtime(settings, db_path, protect=not publishing)
    publisher: LivePublisher | None = None
    try:
        publisher = await _start_publisher(runtime)
        if publisher is not None:
            await _protect_own(runtime, publisher)
    except BaseException:  # Ctrl-C while starting: close what was opened
        if publisher is not None:
            await publisher.stop()
        await runtime.close()
        raise
    return runtime, publisher


async def _start_publisher(runtime: Runtime) -> LivePublisher | None:
    """Publish the live state to [redis] url (--redis) when one is set; Redis being down is no reason not to start."""
    cfg = runtime.settings.redis
    url = cfg.url.get_secret_value()
    if not url:
        return None
    options = PublisherOptions(cfg.heartbeat_ttl_s, cfg.mark_interval_ms / 1000, cfg.fills_max)
    publisher = LivePublisher(runtime.engine, runtime.writer, url, options, day_pnl=runtime.backend.day_pnl)
    await publisher.start()
    return publisher


async def _protect_own(runtime: Runtime, publisher: LivePublisher) -> None:
    """Protect only what the attached consoles and this listener's own bot id hold."""
    own = {CONSOLE_SENDER, runtime.settings.bot.bot_id}
    await start_protection(runtime, owns=lambda symbol: publisher.owner(symbol) in own)


def health_line(backend: ConsoleBackend) -> str:
    """What `listen` prints: connections, latency, counts, equity and day PnL, then failing store writes and failing
    or ended tasks (alerts go to the log and the [notify] channels on their own)."""
    report = backend.health()
    parts = [
        summary_line(report.connections, report.core, report.mode.value),
        f"positions={len(backend.positions())} orders={len(backend.open_orders())} execs={report.executions_known}",
    ]
    parts.append(account_part(backend))
    store = report.store
    if store.stalled_since is not None:
        parts.append(f"db=failing {time.time() - store.stalled_since:.0f}s queued={store.pending} ({store.error})")
    troubles = report.task_lines(int(time.time() * 1000))
    if troubles:
        parts.append("tasks: " + "; ".join(troubles))
    return " ".join(parts)


def account_part(backend: ConsoleBackend) -> str:
    """Equity at the current marks and realised PnL since 00:00 UTC ('-' before the wallet or the log was read)."""
    summary, day = backend.account_summary(), backend.day_pnl()
    equity = plain(summary.equity, 2) if summary is not None else "-"
    net = ("+" if day.net > 0 else "") + plain(day.net, 2) if day is not None and day.as_of_ms else "-"
    return f"equity={equity} day={net}"
