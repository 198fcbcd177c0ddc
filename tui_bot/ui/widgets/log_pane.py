"""The log pane: recent log records, coloured by level from the theme, capped in length."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.widgets import RichLog

LEVEL_CLASSES: dict[str, str] = {
    "CRITICAL": "log-pane--error",
    "ERROR": "log-pane--error",
    "WARNING": "log-pane--warning",
    "INFO": "log-pane--info",
    "DEBUG": "log-pane--debug",
}


class LogPane(RichLog):
    """A RichLog fed by the app's log drain; one record per line, the oldest dropped beyond max_lines."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(LEVEL_CLASSES.values())

    def __init__(
        self, *, max_lines: int = 500, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(
            max_lines=max_lines,
            wrap=False,
            markup=False,
            highlight=False,
            auto_scroll=True,
            name=name,
            id=id,
            classes=classes,
        )
        self.records = 0

    def on_resize(self, _event: events.Resize) -> None:
        """Keep the newest record in view when the pane changes size (a terminal shrunk from 200×60 to 80×24 kept
        the pane's old scroll offset and showed records from minutes before)."""
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True)

    def level_style(self, level: str) -> Style:
        """The style of a level, from the stylesheet (null before mount)."""
        name = LEVEL_CLASSES.get(level.upper(), "log-pane--info")
        if not self.is_attached:
            return Style.null()
        return self.get_component_rich_style(name, partial=True, default=Style.null())

    def write_record(self, level: str, text: str) -> None:
        """Append one record; warnings and errors get a level tag and their theme colour."""
        upper = level.upper()
        line = Text(no_wrap=True, end="")
        if upper not in ("INFO", "DEBUG"):
            line.append(f"{upper[:4]} ", style=self.level_style(upper) + Style(bold=True))
        line.append(text, style=self.level_style(upper))
        self.records += 1
        self.write(line, scroll_end=None)
