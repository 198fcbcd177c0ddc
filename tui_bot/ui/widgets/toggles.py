"""A radio button and a checkbox whose state reads in the glyph itself (● / ○, x / blank), not only its colour."""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton


class MarkedRadioButton(RadioButton):
    """A radio button drawn ● when chosen and ○ when not, so a monochrome terminal shows the choice."""

    def on_mount(self) -> None:
        self._mark()

    def watch_value(self) -> None:
        super().watch_value()
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "●" if self.value else "○"


class MarkedCheckbox(Checkbox):
    """A checkbox drawn x when ticked and blank when not, so a monochrome terminal shows the state."""

    def on_mount(self) -> None:
        self._mark()

    def watch_value(self) -> None:
        super().watch_value()
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = "x" if self.value else " "
