"""`tui-bot stats`: its arguments, and the run that reads the store and prints tui_bot.stats_report's figures.

The store and the figures are imported when the command runs, so other commands do not load them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_bot.config import Settings
from tui_bot.domain.order_ids import OrderIdFactory

if TYPE_CHECKING:
    from tui_bot.store.stats_queries import ClosedTradePnl

_AGO = re.compile(r"(\d{1,6})([dhm])")
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000}


@dataclass(frozen=True, slots=True)
class Since:
    """A period's start: a span back from now (ms) or a UTC calendar day; what the user typed, for the heading."""

    text: str
    ago_ms: int | None = None
    day: date | None = None

    def start_ms(self, now_ms: int) -> int:
        """The period's first ms (UTC)."""
        if self.day is not None:
            return int(datetime.combine(self.day, datetime.min.time(), UTC).timestamp() * 1000)
        assert self.ago_ms is not None
        return now_ms - self.ago_ms


def parse_since(text: str) -> Since:
    """7d, 24h, 30m (back from now) or a UTC day 2026-12-01."""
    ago = _AGO.fullmatch(text)
    if ago is not None and int(ago[1]) > 0:
        return Since(text, ago_ms=int(ago[1]) * _UNIT_MS[ago[2]])
    try:
        return Since(text, day=date.fromisoformat(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a span like 7d, 24h or 30m, or a UTC date like 2026-12-01, got {text!r}"
        ) from None


def _bot_id(text: str) -> str:
    """A bot id as orderLinkIds carry it (or 'external')."""
    try:
        OrderIdFactory(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `stats` command and its options."""
    stats = commands.add_parser(
        "stats", parents=[common], help="PnL of closed trades by close reason, by symbol and by day, per bot"
    )
    stats.add_argument("--bot", type=_bot_id, help="only this bot's trades (default: every bot, one row each)")
    stats.add_argument("--since", type=parse_since, help="trades closed since: 7d, 24h, 30m or 2026-12-01 (UTC)")
    stats.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output (default table)")


def _period(bot: str | None, since: Since | None, start_ms: int | None) -> str:
    who = f"bot {bot}" if bot else "every bot"
    if since is None or start_ms is None:
        return who
    started = datetime.fromtimestamp(start_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    return f"{who}, closed since {started} UTC ({since.text})"


async def _load(target: str | Path, bot: str | None, since_ms: int | None) -> list[ClosedTradePnl]:
    from tui_bot.store.db import open_database
    from tui_bot.store.stats_queries import closed_trade_pnls

    db = await open_database(target)
    try:
        return await closed_trade_pnls(db, bot=bot, since_ms=since_ms)
    finally:
        await db.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the breakdowns of the store named by --db or [storage]; 1 when it cannot be read."""
    from tui_bot.store.db import SchemaError, StoreOpenError, redacted, sqlite_file

    target: str | Path = args.db or settings.storage.target()
    name = redacted(target)
    try:
        path = sqlite_file(target)
        if path is not None and not path.is_file():
            print(f"tui-bot stats: no database at {name} (give --db or [storage] url)", file=sys.stderr)
            return 1
        start_ms = args.since.start_ms(time.time_ns() // 1_000_000) if args.since else None
        trades = asyncio.run(_load(target, args.bot, start_ms))
    except (StoreOpenError, SchemaError) as err:
        print(f"tui-bot stats: {err}", file=sys.stderr)
        return 1
    period = _period(args.bot, args.since, start_ms)
    if not trades:
        print(f"no closed trades in {name} ({period})", file=sys.stdout if args.format == "table" else sys.stderr)
        if args.format == "table":
            return 0
    sys.stdout.write(_render(args, trades, f"{len(trades)} closed trades in {name} ({period})", start_ms, name))
    return 0


def _render(
    args: argparse.Namespace, trades: list[ClosedTradePnl], heading: str, start_ms: int | None, name: str
) -> str:
    from tui_bot.stats_report import outcome_of, render_csv, render_json, render_table, stats_rows

    rows = stats_rows([outcome_of(t) for t in trades])
    if args.format == "csv":
        return render_csv(rows)
    if args.format == "json":
        return render_json(rows, {"database": name, "bot": args.bot, "since_ms": start_ms, "trades": len(trades)})
    return render_table(rows, heading)
