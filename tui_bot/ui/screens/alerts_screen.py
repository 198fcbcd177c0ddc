"""The alerts list (key n): the armed price alerts, which d disarms, and the recent alerts, active ones marked."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.domain.alerts import Alert, PriceAlert, Severity
from tui_bot.domain.numbers import plain
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable

SEVERITY_TONES = {Severity.CRITICAL: "down", Severity.WARNING: "warn", Severity.INFO: "", Severity.CLEARED: "up"}
ACTIVE_MARK = "●"
SHOWN_PRICE_ALERTS = 6
"""Price alert rows shown at once (the table scrolls beyond); the recent alerts take the rest."""


def source_text(alert: Alert) -> str:
    """What raised the alert: its kind, and its subject when it has one ('connection down public-1')."""
    kind = alert.kind.value.replace("_", " ")
    return f"{kind} {alert.subject}" if alert.subject else kind


class PriceAlertsTable(LiveTable):
    """The armed price alerts, keyed by id, oldest first."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"),
        ("direction", "When"),
        ("level", "Level"),
        ("armed", "Armed"),
        ("id", "Id"),
    )

    def apply_price_alerts(self, alerts: list[PriceAlert]) -> None:
        self.ensure_columns()
        selected = self.selected_key
        for alert in alerts:
            self.set_row(
                alert.alert_id,
                {
                    "symbol": alert.symbol,
                    "direction": f"crosses {alert.direction.value}",
                    "level": plain(alert.level),
                    "armed": fmt.clock(alert.created_ms),
                    "id": alert.alert_id,
                },
            )
        self.prune(a.alert_id for a in alerts)
        self.restore_cursor(selected)
        self.styles.height = 1 + min(max(len(alerts), 1), SHOWN_PRICE_ALERTS)


class RecentAlertsTable(LiveTable):
    """The recent alerts, newest first; those whose condition still holds are marked active."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("active", ""),
        ("time", "Time"),
        ("severity", "Severity"),
        ("source", "Source"),
        ("text", "Text"),
    )

    shown: tuple[tuple[Alert, ...], frozenset[Alert]] | None = None

    def apply_alerts(self, recent: list[Alert], active: list[Alert]) -> None:
        """Show recent (oldest first, as the backend keeps them) newest first; redrawn only when they changed, so
        the cursor stays put between alerts."""
        shown = (tuple(recent), frozenset(active))
        if shown == self.shown:
            return
        self.shown = shown
        self.ensure_columns()
        self.clear()
        held = shown[1]
        for index, alert in enumerate(reversed(recent)):
            self.set_row(
                str(index),
                {
                    "active": ACTIVE_MARK if alert in held else "",
                    "time": fmt.clock(alert.time_ms),
                    "severity": self.toned(alert.severity.value, SEVERITY_TONES[alert.severity]),
                    "source": source_text(alert),
                    "text": alert.text,
                },
            )


class AlertsScreen(ModalScreen[None]):
    """Recent alerts and armed price alerts, read from the backend; refreshed by the app as alerts arrive."""

    DEFAULT_CSS = """
    AlertsScreen { align: center middle; }
    AlertsScreen > #alerts-dialog {
        width: 100%; height: 100%; border: thick $primary; background: $surface; padding: 0 1;
    }
    AlertsScreen .modal-title { text-style: bold; width: 100%; content-align: center middle; }
    AlertsScreen .section { height: 1; color: $foreground-muted; text-style: bold; }
    AlertsScreen #recent-alerts { height: 1fr; }
    AlertsScreen .note { color: $foreground-muted; height: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "close", "Close"),
        Binding("d,delete", "disarm", "Disarm price alert"),
    ]

    def __init__(self, backend: ConsoleBackend) -> None:
        super().__init__()
        self.backend = backend

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts-dialog"):
            yield Static("Alerts", classes="modal-title")
            yield Static("Price alerts armed", classes="section")
            yield PriceAlertsTable(id="price-alerts")
            yield Static("Recent alerts (● active)", classes="section")
            yield RecentAlertsTable(id="recent-alerts")
            yield Static("d disarms the selected price alert · N arms one · Esc closes", classes="note")

    def on_mount(self) -> None:
        self.refresh_alerts()
        self.query_one(PriceAlertsTable).focus()

    def refresh_alerts(self) -> None:
        """Read the backend's alerts again."""
        self.query_one(PriceAlertsTable).apply_price_alerts(self.backend.price_alerts())
        self.query_one(RecentAlertsTable).apply_alerts(self.backend.recent_alerts(), self.backend.active_alerts())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_disarm(self) -> None:
        """Remove the price alert under the cursor (a note when there is none)."""
        alert_id = self.query_one(PriceAlertsTable).selected_key
        if alert_id is None:
            self.notify("No price alert is armed.", severity="warning")
            return
        removed = self.backend.remove_price_alert(alert_id)
        if removed is not None:
            self.notify(f"Price alert {removed.symbol} {removed.direction.value} {plain(removed.level)} disarmed")
        self.refresh_alerts()
