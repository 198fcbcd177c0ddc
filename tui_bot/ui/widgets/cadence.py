"""At most one repaint per interval for panels whose every update changes most of what they draw."""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget

PAINT_INTERVAL_S = 0.25
"""The book, the tape and the quote board draw at most this often (4 a second), so a trader sees an update at most
250 ms late: each update changes nearly every line they show, and drawing every one sent most of a large screen to
the terminal (and through Textual's compositor) ten times a second."""


class Cadence:
    """Runs a widget's paint at once, or at the end of the current interval if one ran within it.

    Calls inside the interval coalesce into one run at its end: the paint reads the widget's newest state then, so
    nothing waiting is lost and nothing stale is drawn after something newer."""

    def __init__(self, widget: Widget, interval: float = PAINT_INTERVAL_S) -> None:
        self.widget = widget
        self.interval = interval
        self._paint: Callable[[], None] | None = None
        self._cooling = False

    def request(self, paint: Callable[[], None]) -> None:
        """Run paint now, or once at the end of the current interval (a later request replaces a waiting one)."""
        self._paint = paint
        if not self._cooling:
            self._run()

    def _run(self) -> None:
        paint, self._paint = self._paint, None
        if paint is None:
            self._cooling = False
            return
        paint()
        self._cooling = True
        self.widget.set_timer(self.interval, self._run)
