"""The bots of the account (an attached console): positions, uPnL, realised PnL today and in total, heartbeat."""

from __future__ import annotations

from typing import ClassVar

from tui_bot.core.console_api import BotSummary, Heartbeat
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable

GONE = "gone"


class BotsTable(LiveTable):
    """One row per bot: open positions and uPnL (live), closed trades and realised PnL (stored), last heartbeat."""

    DEFAULT_CSS = """
    BotsTable {
        height: auto;
        max-height: 8;
    }
    """
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("bot", "Bot"),
        ("positions", "Pos"),
        ("upnl", "uPnL"),
        ("today", "Today"),
        ("total", "Total"),
        ("trades", "Trades"),
        ("beat", "Beat"),
    )

    def apply_bots(self, rows: list[BotSummary], beats: list[Heartbeat]) -> None:
        """Reconcile the rows with the bots' summaries; a bot that beats shows its heartbeat's age, else gone."""
        self.ensure_columns()
        selected = self.selected_key
        ages = {beat.name: beat.age_ms for beat in beats}
        for row in rows:
            beat = fmt.age(ages[row.bot]) if ages.get(row.bot) is not None else GONE if row.bot in ages else fmt.DASH
            self.set_row(
                row.bot,
                {
                    "bot": row.bot,
                    "positions": str(row.positions),
                    "upnl": self.toned(fmt.signed_money(row.upnl), fmt.tone(row.upnl)),
                    "today": self.toned(fmt.signed_money(row.realised_today), fmt.tone(row.realised_today)),
                    "total": self.toned(fmt.signed_money(row.realised_total), fmt.tone(row.realised_total)),
                    "trades": str(row.trades),
                    "beat": self.toned(beat, "warn") if beat == GONE else beat,
                },
            )
        self.prune(row.bot for row in rows)
        self.restore_cursor(selected)
