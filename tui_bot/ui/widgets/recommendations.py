"""The analysis cycle's trade recommendations, with a clear empty state until there are any."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual.strip import Strip

from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable

EMPTY_TEXT = "No recommendations yet — press r to run the analysis cycle."


def _number(value: Any) -> Decimal | None:
    """A Decimal from a recommendation field (None when absent or not a number)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _confidence(value: Any) -> str:
    """Confidence as a whole percentage (0..1 fractions are scaled up)."""
    number = _number(value)
    if number is None:
        return fmt.DASH
    return f"{(number * 100 if number <= 1 else number):.0f}%"


def _plain_price(value: Any) -> str:
    """A price as given (no instrument at hand), or a dash."""
    number = _number(value)
    return fmt.price(number) if number is not None else fmt.DASH


class RecommendationsTable(LiveTable):
    """Recommendations keyed by id; when there are none, the first body line says so (CSS class -empty)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"recommendations-table--empty"}
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"), ("side", "Side"), ("confidence", "Conf"), ("entry", "Entry"), ("sl", "SL"),
        ("tp", "TP"), ("rr", "R:R"), ("strategy", "Strategy"), ("status", "Status"), ("fate", "Why"),
    )

    def __init__(self, *, empty_text: str = EMPTY_TEXT, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text
        self._rows: dict[str, dict[str, Any]] = {}
        self.add_class("-empty")

    @property
    def empty_state_shown(self) -> bool:
        """True while there is nothing to show (the empty-state line is drawn)."""
        return self.row_count == 0

    @property
    def selected_id(self) -> str | None:
        """Id of the recommendation under the cursor."""
        return self.selected_key

    @property
    def selected_recommendation(self) -> dict[str, Any] | None:
        """The recommendation under the cursor, as last applied."""
        key = self.selected_key
        return self._rows.get(key) if key is not None else None

    def apply_recommendations(self, rows: list[dict[str, Any]]) -> None:
        """Reconcile rows by recommendation id, newest first; an empty list shows the empty state.

        Rows are updated in place; only when a new recommendation arrives (once per cycle) are they
        laid out again, so the newest stays on top.
        """
        self.ensure_columns()
        selected = self.selected_key
        rows = sorted(rows, key=lambda row: (row.get("created_ms", 0), str(row["id"])), reverse=True)
        arrived = any(not self.has_row(str(row["id"])) for row in rows)
        if arrived:
            self.clear()
        self._rows = {str(row["id"]): row for row in rows}
        for key, row in self._rows.items():
            self.set_row(key, self._cells(row))
        self.prune(self._rows)
        if arrived and not self.has_focus:
            self.move_cursor(row=0)  # new ideas on top, in view, unless the trader is working in this table
            self.scroll_home(animate=False)
        else:
            self.restore_cursor(selected)
        self.set_class(self.empty_state_shown, "-empty")
        self.refresh()

    def _cells(self, row: dict[str, Any]) -> dict[str, object]:
        """All cells of one recommendation."""
        side = str(row.get("side", ""))
        rr = _number(row.get("rr"))
        return {
            "symbol": str(row.get("symbol", "")),
            "side": self.toned(side, "up" if side.lower() in ("buy", "long") else "down" if side else ""),
            "confidence": _confidence(row.get("confidence")),
            "entry": _plain_price(row.get("entry")),
            "sl": _plain_price(row.get("stop_loss")),
            "tp": _plain_price(row.get("take_profit")),
            "rr": fmt.DASH if rr is None else f"{rr:.2f}",
            "strategy": str(row.get("strategy", "")),
            "status": str(row.get("status", "")),
            "fate": str(row.get("fate") or ""),
        }

    def render_line(self, y: int) -> Strip:
        """Draw the empty-state text on the first body line while there are no rows."""
        body_top = self.header_height if self.show_header else 0
        if self.row_count or y != body_top:
            return super().render_line(y)
        style = self.rich_style + self.get_component_rich_style("recommendations-table--empty", partial=True)
        text = Text(f" {self.empty_text}", style=style, end="", no_wrap=True)
        return Strip(list(text.render(self.app.console))).crop_extend(0, self.size.width, self.rich_style)

