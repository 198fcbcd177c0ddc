"""The analysis cycle's trade recommendations, with a clear empty state until there are any."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.strip import Strip

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Instrument
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable, cell_text

DROPPED_FIRST = ("strategy", "confidence", "tp", "sl", "entry", "rr")
"""Columns left out, in this order, until every header shown is whole in the table's width (Enter shows them all)."""
WHY_HEADER_WIDTH = 5
"""The last column ("Why") needs its label and padding on screen; its longer texts may run past the edge."""
EMPTY_TEXT = "No recommendations yet — press r to run the analysis cycle."


def confidence_text(confidence: Decimal) -> str:
    """A 0–1 confidence as a whole percentage ('72%')."""
    return f"{confidence * 100:.0f}%"


class RecommendationsTable(LiveTable):
    """Recommendations keyed by id; when there are none, the first body line says so (CSS class -empty)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"recommendations-table--empty"}
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("time", "Time"),
        ("symbol", "Symbol"),
        ("side", "Side"),
        ("status", "Status"),
        ("confidence", "Conf"),
        ("rr", "R:R"),
        ("entry", "Entry"),
        ("sl", "SL"),
        ("tp", "TP"),
        ("strategy", "Strategy"),
        ("fate", "Why"),
    )
    """Time and Status come first so that they show at every width (at 200 columns the panel has a third of it);
    Enter opens the whole recommendation (RecommendationDetail); columns that would push a header past the table's
    right edge are left out (DROPPED_FIRST)."""

    def __init__(
        self,
        *,
        empty_text: str = EMPTY_TEXT,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text
        self._rows: dict[str, Recommendation] = {}
        self._instruments: Mapping[str, Instrument] = {}
        self.shown: tuple[str, ...] = tuple(key for key, _ in self.COLUMNS)
        self.add_class("-empty")

    def ensure_columns(self) -> None:
        """Add the columns that fit (all of them before the table has a width)."""
        if not self.columns:
            for key, label in self.COLUMNS:
                if key in self.shown:
                    self.add_column(label, key=key)

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Show the columns whose headers all fit in the table's width; rebuild the rows when that set changed."""
        fitting = self._fitting(self.size.width)
        if fitting == self.shown:
            return
        selected = self.selected_key
        self.shown = fitting
        self.clear(columns=True)
        self.ensure_columns()
        for key, rec in self._rows.items():
            self.set_row(key, self._cells(rec))
        self.restore_cursor(selected)

    def _fitting(self, width: int) -> tuple[str, ...]:
        """The columns to show at this width: all but those DROPPED_FIRST needs to leave out for the last header."""
        keys = [key for key, _ in self.COLUMNS]
        if width <= 0:
            return tuple(keys)
        cells = [self._cells(rec) for rec in self._rows.values()]
        labels = dict(self.COLUMNS)
        widths = {
            key: 2 * self.cell_padding + max([len(labels[key]), *(len(cell_text(row[key])) for row in cells)])
            for key in keys
        }
        for dropped in (None, *DROPPED_FIRST):
            if dropped is not None:
                keys.remove(dropped)
            if sum(widths[key] for key in keys[:-1]) + WHY_HEADER_WIDTH <= width:
                break
        return tuple(keys)

    @property
    def empty_state_shown(self) -> bool:
        """True while there is nothing to show (the empty-state line is drawn)."""
        return self.row_count == 0

    @property
    def selected_id(self) -> str | None:
        """Id of the recommendation under the cursor."""
        return self.selected_key

    @property
    def selected_recommendation(self) -> Recommendation | None:
        """The recommendation under the cursor, as last applied."""
        key = self.selected_key
        return self._rows.get(key) if key is not None else None

    def apply_recommendations(
        self, recommendations: list[Recommendation], instruments: Mapping[str, Instrument] | None = None
    ) -> None:
        """Reconcile rows by recommendation id, newest first; an empty list shows the empty state.

        Rows are updated in place; only when a new recommendation arrives (once per cycle) are they
        laid out again, so the newest stays on top.
        """
        self.ensure_columns()
        self._instruments = instruments or {}
        selected = self.selected_key
        ordered = sorted(recommendations, key=lambda rec: (rec.created_ms, rec.id), reverse=True)
        arrived = any(not self.has_row(rec.id) for rec in ordered)
        if arrived:
            self.clear()
        self._rows = {rec.id: rec for rec in ordered}
        if arrived:
            self._fit_columns()
        for key, rec in self._rows.items():
            self.set_row(key, self._cells(rec))
        self.prune(self._rows)
        if arrived and not self.has_focus:
            self.move_cursor(row=0)  # new ideas on top, in view, unless the trader is working in this table
            self.scroll_home(animate=False)
        else:
            self.restore_cursor(selected)
        self.set_class(self.empty_state_shown, "-empty")
        self.refresh()

    def _cells(self, rec: Recommendation) -> dict[str, object]:
        """All cells of one recommendation (prices to the instrument's tick when known)."""
        inst = self._instruments.get(rec.symbol)
        return {
            "time": fmt.clock(rec.created_ms),
            "symbol": rec.symbol,
            "side": self.toned(rec.side.value, "up" if rec.side is Side.BUY else "down"),
            "confidence": confidence_text(rec.confidence),
            "entry": fmt.price(rec.entry, inst),
            "sl": fmt.price(rec.stop_loss, inst),
            "tp": fmt.price(rec.take_profit, inst),
            "rr": fmt.DASH if rec.rr is None else f"{rec.rr:.2f}",
            "strategy": rec.strategy,
            "status": self.toned(rec.status, "muted" if rec.status == RecommendationStatus.EXPIRED else ""),
            "fate": rec.fate or "",
        }

    def render_line(self, y: int) -> Strip:
        """Draw the empty-state text on the first body line while there are no rows."""
        body_top = self.header_height if self.show_header else 0
        if self.row_count or y != body_top:
            return super().render_line(y)
        style = self.rich_style + self.get_component_rich_style("recommendations-table--empty", partial=True)
        text = Text(f" {self.empty_text}", style=style, end="", no_wrap=True)
        return Strip(list(text.render(self.app.console))).crop_extend(0, self.size.width, self.rich_style)
