"""`tui-bot --attach URL`: the console on a listener's Redis instead of a core in this process."""

from __future__ import annotations

import asyncio
import sys
from functools import partial
from pathlib import Path

from tui_bot.bot_cli import ping
from tui_bot.config import Settings
from tui_bot.core.console_api import Venue
from tui_bot.live.attached_backend import CONSOLE_SENDER, AttachedBackendOpener
from tui_bot.live.commands_handlers import one_line
from tui_bot.runtime import start_order_path


def opener(settings: Settings, url: str, db: Path | None) -> AttachedBackendOpener:
    """The attached backend's opener: the configured venue's badge, trading settings and store (--db wins), and
    its manual orders under the console's id through the venue's REST (refused in one line without its keys)."""
    venue = settings.exchange.venue
    return AttachedBackendOpener(
        url,
        Venue(f"ATTACHED {venue.upper()}", venue == "mainnet"),
        settings.trading,
        db or settings.storage.target(),
        orders=partial(start_order_path, settings, CONSOLE_SENDER),
        watch=tuple(settings.bot.watchlist),
    )


def run(settings: Settings, url: str, db: Path | None) -> int:
    """Run the attached console; 1 (one line) when Redis does not answer."""
    from tui_bot.ui.run import run_console

    try:
        asyncio.run(ping(url))
    except (OSError, ValueError) as err:
        print(f"tui-bot --attach: {one_line(err)}", file=sys.stderr)
        return 1
    return run_console(settings, opener(settings, url, db))
