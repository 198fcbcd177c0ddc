"""The latest cycle's report: how it ended, the learned score's state, and every symbol's HOLD reasons."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui_bot.core.cycle_report import CycleSummary
from tui_bot.ui.widgets.recommendations import cycle_line

NO_CYCLE = "No cycle has run yet in this session — r runs one (scheduled ones run at each bar boundary)."


def held_rows(summary: CycleSummary) -> list[tuple[str, str, str]]:
    """(symbol, strategy, reason) per HOLD answer; the symbol written on its first row only."""
    rows: list[tuple[str, str, str]] = []
    for symbol, reasons in summary.held:
        for index, reason in enumerate(reasons):
            strategy, _, why = reason.partition(": ")
            rows.append((symbol if index == 0 else "", strategy, why))
    return rows


class CycleReportScreen(ModalScreen[None]):
    """Lists why each symbol held in the latest cycle (or says none ran yet); Esc or q closes it."""

    DEFAULT_CSS = """
    CycleReportScreen { align: center middle; }
    CycleReportScreen > #cycle-report {
        width: 118; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CycleReportScreen #cycle-report-title { text-style: bold; width: 100%; content-align: center middle; }
    CycleReportScreen #cycle-ml, CycleReportScreen #cycle-hint { color: $text-muted; }
    CycleReportScreen DataTable { height: auto; max-height: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close", show=False)]

    def __init__(self, summary: CycleSummary | None) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        summary = self.summary
        with Vertical(id="cycle-report"):
            yield Static("Why symbols held", id="cycle-report-title")
            yield Static(cycle_line(summary) if summary else NO_CYCLE, id="cycle-line", markup=False)
            yield Static(summary.ml_status if summary else "", id="cycle-ml", markup=False)
            yield DataTable(id="cycle-held", cursor_type="row", zebra_stripes=True)
            yield Static("Esc / q closes.", id="cycle-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Symbol", "Strategy", "Why it held")
        for row in held_rows(self.summary) if self.summary else []:
            table.add_row(*(Text(cell) for cell in row))  # reasons may hold brackets ([3m]): not markup
        table.display = bool(table.row_count)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
