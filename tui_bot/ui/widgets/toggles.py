"""A radio button and a checkbox whose state reads in the glyph itself (● / ○, x / blank), not only its colour."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import Checkbox, RadioButton
from textual.widgets._toggle_button import ToggleButton


class _Marked(ToggleButton):
    """A toggle drawn with MARKS[value]: (off, on). Listed after the concrete button: Textual takes a widget's CSS
    from its first bases, which must stay RadioButton's and Checkbox's."""

    MARKS: ClassVar[tuple[str, str]]

    def on_mount(self) -> None:
        self._mark()

    def watch_value(self) -> None:
        super().watch_value()
        self._mark()

    def _mark(self) -> None:
        self.BUTTON_INNER = self.MARKS[self.value]


class MarkedRadioButton(RadioButton, _Marked):
    """A radio button drawn ● when chosen and ○ when not, so a monochrome terminal shows the choice."""

    MARKS = ("○", "●")


class MarkedCheckbox(Checkbox, _Marked):
    """A checkbox drawn x when ticked and blank when not, so a monochrome terminal shows the state."""

    MARKS = (" ", "x")
