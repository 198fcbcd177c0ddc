"""Several bots on one account (a console attached to a listener): who holds each position, a bot filter (B), a
panel of positions and PnL per bot, and every bot's heartbeat in health."""

from __future__ import annotations

import logging
from collections.abc import Callable

from textual import work
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import Static

from tui_bot.core.console_api import BotsView
from tui_bot.ui import messages
from tui_bot.ui.actions import TradingActions
from tui_bot.ui.widgets.bots import BotsTable
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.positions import PositionsTable

log = logging.getLogger(__name__)
BOTS_REFRESH_S = 1.0
ALL_BOTS = "all bots"


class BotActions(TradingActions):
    """Shows the bots of a BotsView backend; a backend of one bot (the local core) shows none of this."""

    now_ns: Callable[[], int]
    _bots_timer: Timer | None = None

    def _bots_view(self) -> BotsView | None:
        backend = self.backend
        return backend if isinstance(backend, BotsView) else None

    def on_positions_changed(self, _message: messages.PositionsChanged) -> None:
        """The first positions of a BotsView backend: show the Bot column and the Bots panel, follow both."""
        if self._bots_timer is not None or (view := self._bots_view()) is None:
            return
        try:
            table = self.screen_stack[0].query_one(PositionsTable)
            right = self.screen_stack[0].query_one("#right")
        except NoMatches:
            return
        table.show_bots(view.bots_holding)
        right.mount(Static("Bots", classes="panel-title"), BotsTable(id="bots"), before=0 if right.children else None)
        self._bots_timer = self.set_interval(BOTS_REFRESH_S, self.refresh_bots)
        self.refresh_bots()

    @work(group="bots", exclusive=True, exit_on_error=False)
    async def refresh_bots(self) -> None:
        """The Bots panel (live figures, stored PnL) and every heartbeat in health."""
        view = self._bots_view()
        if view is None or not self.screen_stack:
            return
        beats = view.heartbeats(self.now_ns() // 1_000_000)
        try:
            rows = await view.bot_summaries()
        except Exception:  # noqa: BLE001 - a store that cannot answer leaves the panel as it was
            log.warning("could not read the bots' PnL", exc_info=True)
            return
        screen = self.screen_stack[0]
        try:
            screen.query_one(BotsTable).apply_bots(rows, beats)
            screen.query_one(HealthPanel).refresh_heartbeats(beats)
        except NoMatches:
            return

    def action_bot_filter(self) -> None:
        """Step the Positions filter: every bot, then each bot in turn, then every bot again."""
        view = self._bots_view()
        if view is None:
            self.notify("One bot in this console: nothing to filter.", severity="warning")
            return
        table = self.query_one(PositionsTable)
        bots = view.bot_ids()
        current = table.bot_filter
        following = bots.index(current) + 1 if current in bots else 0 if current is None else len(bots)
        chosen = bots[following] if following < len(bots) else None
        table.set_bot_filter(chosen)
        title = f"Positions · bot {chosen}" if chosen is not None else f"Positions · {ALL_BOTS}"
        self.query_one("#positions-title", Static).update(title)
        self.notify(f"Positions of {f'bot {chosen}' if chosen is not None else ALL_BOTS}")
