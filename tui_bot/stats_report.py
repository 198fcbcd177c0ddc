"""The figures `tui-bot stats` prints: closed trades by close reason, by symbol and by day, per bot, and how they
are written out (an aligned table, CSV or JSON)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from tui_bot.core.stats import NO_BOT, Outcome, Summary, group_key, summarise
from tui_bot.domain.numbers import plain
from tui_bot.store.stats_queries import ClosedTradePnl

SECTIONS = (("reason", "close reason"), ("symbol", "symbol"), ("day", "day (UTC)"))
"""Each breakdown: the Outcome key it groups by and what its key column is called."""
ALL_BOTS = "(all)"
"""The rows of every bot together (no bot id has parentheses)."""
COLUMNS = ("section", "bot", "key", "trades", "wins", "win_rate", "total_pnl", "avg_pnl", "avg_r")


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One line of a breakdown: the figures of one bot's (or all bots') trades under one key."""

    section: str
    bot: str
    key: str
    summary: Summary


def outcome_of(trade: ClosedTradePnl) -> Outcome:
    """A trades_pnl row as the figures count it."""
    closed = trade.exit_time if trade.exit_time is not None else trade.entry_time
    return Outcome(trade.symbol, trade.close_reason or "unknown", closed, trade.net_pnl, trade.r, trade.bot or NO_BOT)


def stats_rows(outcomes: list[Outcome]) -> list[StatsRow]:
    """Every breakdown per bot, then for all bots together when there is more than one."""
    bots = sorted({o.bot or NO_BOT for o in outcomes})
    scopes = [(bot, [o for o in outcomes if (o.bot or NO_BOT) == bot]) for bot in bots]
    if len(bots) > 1:
        scopes.append((ALL_BOTS, outcomes))
    rows = []
    for section, _ in SECTIONS:
        for bot, items in scopes:
            groups: dict[str, list[Outcome]] = {}
            for outcome in items:
                groups.setdefault(group_key(outcome, section) or "", []).append(outcome)
            rows += [StatsRow(section, bot, key, summarise(groups[key], breakdowns=False)) for key in sorted(groups)]
    return rows


def _figures(row: StatsRow) -> dict[str, str]:
    """A row's figures as exact texts: money in full (average to 8 places), win rate 0-1 and R to 4 places."""
    s = row.summary
    return {
        "section": row.section,
        "bot": row.bot,
        "key": row.key,
        "trades": str(s.count),
        "wins": str(s.wins),
        "win_rate": plain(s.win_rate, 4),
        "total_pnl": plain(s.total_pnl),
        "avg_pnl": plain(s.avg_pnl, 8),
        "avg_r": plain(s.avg_r, 4),
    }


def render_csv(rows: Iterable[StatsRow]) -> str:
    """One CSV table: a header, then every row with its section (reason, symbol or day)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(map(_figures, rows))
    return out.getvalue()


def render_json(rows: list[StatsRow], heading: dict[str, object]) -> str:
    """What was asked, then each breakdown as a list of rows (numbers as exact strings, R null if unknown)."""
    body: dict[str, object] = dict(heading)
    for section, _ in SECTIONS:
        body[f"by_{section}"] = [_json_row(r) for r in rows if r.section == section]
    return json.dumps(body, indent=2) + "\n"


def _json_row(row: StatsRow) -> dict[str, str | int | None]:
    figures: dict[str, str | int | None] = dict(_figures(row))
    del figures["section"]
    figures.update(trades=row.summary.count, wins=row.summary.wins, avg_r=figures["avg_r"] or None)
    return figures


def _table_cells(row: StatsRow) -> list[str]:
    s = row.summary
    rate = "" if s.win_rate is None else f"{plain(s.win_rate * 100, 1)}%"
    money = [plain(v, 2) for v in (s.total_pnl, s.avg_pnl)]
    return [row.bot, row.key, str(s.count), str(s.wins), rate, *money, plain(s.avg_r, 2) or "-"]


def render_table(rows: list[StatsRow], heading: str) -> str:
    """Aligned text: the heading, then one table per breakdown (money to 2 places; --format csv gives it in full)."""
    lines = [heading]
    for section, label in SECTIONS:
        header = ["bot", label, "trades", "wins", "win rate", "total PnL", "avg PnL", "avg R"]
        cells = [header, *(_table_cells(r) for r in rows if r.section == section)]
        widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
        lines += ["", f"PnL by {label}"]
        for line in cells:
            text = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
            lines.append("  ".join(text).rstrip())
    return "\n".join(lines) + "\n"
