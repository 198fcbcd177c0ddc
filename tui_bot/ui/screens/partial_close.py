"""Close a position in part or whole: 1/2/3 pick 25/50/100 %, y or Enter closes that part at market."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Static

from tui_bot.core.orders import OrderInvalid, part_to_close
from tui_bot.domain.models import Instrument, Position
from tui_bot.ui import format as fmt
from tui_bot.ui.format import side_label
from tui_bot.ui.screens.confirm import ConfirmModal

PARTS = (25, 50, 100)


class PartialCloseModal(ConfirmModal):
    """A ConfirmModal with a choice of part: `percent` holds the chosen one when it answers True."""

    DEFAULT_CSS = """
    PartialCloseModal #parts { height: auto; }
    PartialCloseModal #part-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "choose(25)", "25 %", show=False),
        Binding("2", "choose(50)", "50 %", show=False),
        Binding("3", "choose(100)", "100 %", show=False),
    ]

    def __init__(self, position: Position, instrument: Instrument | None) -> None:
        held = f"{side_label(position.side).lower()} {fmt.qty(position.size, instrument)} {position.symbol}"
        body = f"Close {held} at market (reduce-only)?"
        super().__init__("Close position", body, danger=True)
        self.position = position
        self.instrument = instrument
        self.percent = 100

    def on_mount(self) -> None:
        """The choice of parts goes under the question, inside the dialog (ConfirmModal's on_mount runs too)."""
        parts = Static(self._parts_text(), id="parts", markup=False)
        self.query_one("#dialog").mount(parts, Static("", id="part-error", markup=False), after="#body")

    def _qty_or_reason(self, percent: int) -> str:
        """The qty a part closes, or why it cannot be closed."""
        try:
            return fmt.qty(part_to_close(self.position.size, percent, self.instrument), self.instrument)
        except OrderInvalid as err:
            return str(err)

    def _parts_text(self) -> str:
        lines = [
            f"{'>' if percent == self.percent else ' '} {key}  {percent:>3} %  {self._qty_or_reason(percent)}"
            for key, percent in zip("123", PARTS, strict=True)
        ]
        return "\n".join(lines) + "\n1 / 2 / 3 choose the part, y closes it, n keeps the position."

    def action_choose(self, percent: int) -> None:
        self.percent = percent
        self.query_one("#parts", Static).update(self._parts_text())
        self.query_one("#part-error", Static).update("")

    def action_confirm(self) -> None:
        try:
            part_to_close(self.position.size, self.percent, self.instrument)
        except OrderInvalid as err:
            self.query_one("#part-error", Static).update(f"Not closed: {err}")
            return
        super().action_confirm()
