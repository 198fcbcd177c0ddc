"""The alert line under the header: the latest active alert in its severity's colour, with a count; hidden when
nothing needs the trader's eye."""

from __future__ import annotations

from textual.widgets import Static

from tui_bot.domain.alerts import Alert, Severity
from tui_bot.ui import format as fmt

NEWS_SHOWN_MS = 300_000
"""An alert that began no condition (a fill, a price alert) stays on the line this long."""
CLEARED_SHOWN_MS = 10_000
"""A cleared episode ('✓ CLEARED …') says so this long, then gives its line back (at 80×24 it is one of 24)."""
SEVERITY_CLASSES = tuple(f"-{severity.value}" for severity in Severity)
MARKS = {Severity.CRITICAL: "▲", Severity.WARNING: "▲", Severity.INFO: "●", Severity.CLEARED: "✓"}


def shown_alert(active: list[Alert], recent: list[Alert], now_ms: int) -> Alert | None:
    """The latest active alert; else the latest alert while it is news (CLEARED_SHOWN_MS for a cleared one,
    NEWS_SHOWN_MS for the others); else None."""
    if active:
        return max(active, key=lambda a: a.time_ms)
    if not recent:
        return None
    latest = recent[-1]
    shown_for = CLEARED_SHOWN_MS if latest.severity is Severity.CLEARED else NEWS_SHOWN_MS
    return latest if now_ms - latest.time_ms < shown_for else None


def line_text(alert: Alert, active: int) -> str:
    """'▲ 2 active · 12:00:03 WARNING public-1 connection reconnecting for 31s'."""
    count = f"{active} active · " if active else ""
    return f"{MARKS[alert.severity]} {count}{fmt.clock(alert.time_ms)} {alert.severity.value.upper()} {alert.text}"


class AlertLine(Static):
    """One line (classes -critical, -warning, -info, -cleared by the alert shown); display off when none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.alert: Alert | None = None
        self.text = ""
        self.display = False

    def show_alerts(self, active: list[Alert], recent: list[Alert], now_ms: int) -> None:
        """Show the alert that matters now (see shown_alert), or hide the line."""
        alert = shown_alert(active, recent, now_ms)
        self.alert = alert
        self.display = alert is not None
        if alert is None:
            return
        text = line_text(alert, len(active))
        if text != self.text:
            self.text = text
            self.update(text)
        for name in SEVERITY_CLASSES:
            self.set_class(name == f"-{alert.severity.value}", name)
