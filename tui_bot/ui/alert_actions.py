"""The alerts' part of the console: the alert line, the alerts list (n) and arming a price alert (N)."""

from __future__ import annotations

from collections.abc import Callable

from textual.css.query import NoMatches

from tui_bot.domain.alerts import PriceAlert
from tui_bot.domain.numbers import plain
from tui_bot.ui import messages
from tui_bot.ui.actions import TradingActions
from tui_bot.ui.screens.alerts_screen import AlertsScreen
from tui_bot.ui.screens.price_alert import PriceAlertModal
from tui_bot.ui.widgets.alert_line import AlertLine


class AlertActions(TradingActions):
    """Shows the backend's alerts and arms price alerts through it."""

    now_ns: Callable[[], int]

    def on_alerts_changed(self, _message: messages.AlertsChanged) -> None:
        self.draw_alerts()

    def draw_alerts(self) -> None:
        """Redraw the alert line and, when it is open, the alerts list."""
        backend = self.backend
        if backend is None or not self.screen_stack:
            return
        try:
            line = self.screen_stack[0].query_one(AlertLine)
        except NoMatches:
            return
        line.show_alerts(backend.active_alerts(), backend.recent_alerts(), self.now_ns() // 1_000_000)
        if isinstance(self.screen, AlertsScreen):
            self.screen.refresh_alerts()

    def action_alerts(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None and not isinstance(self.screen, AlertsScreen):
            self.push_screen(AlertsScreen(backend))

    def action_price_alert(self) -> None:
        """Ask a level for a price alert on the symbol a ticket would open on."""
        backend = self._backend_or_warn()
        if backend is None or not self._has_instruments(backend):
            return
        symbol = self._ticket_symbol(backend)
        modal = PriceAlertModal(
            symbol, backend.last_price(symbol), backend.instruments().get(symbol), backend.add_price_alert
        )
        self.push_screen(modal, self._armed)

    def _armed(self, alert: PriceAlert | None) -> None:
        if alert is not None:
            self.notify(f"Price alert armed: {alert.symbol} {alert.direction.value} {plain(alert.level)}")
            self.draw_alerts()
