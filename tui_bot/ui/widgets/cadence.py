"""At most one repaint per interval for panels whose every update changes most of what they draw."""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget

PAINT_INTERVAL_S = 0.25
"""The book, the tape and the quote board draw at most this often (4 a second), so a trader sees an update at most
250 ms late: each update changes nearly every line they show, and drawing every one sent most of a large screen to
the terminal (and through Textual's compositor) ten times a second."""
BUDGET_CELLS = 80
"""A panel's output budget: this many cells at 4 paints a second. A bigger panel (the book and tape at 200×60 are
~650 cells each) paints less often in proportion, so the market view of a large screen does not send several times
what a small one sends; see MAX_INTERVAL_S. The rest of the screen is paced as a whole (ui/pacing.py)."""
MAX_INTERVAL_S = 2.0
"""However large the panel, it paints at least every two seconds."""


class Cadence:
    """Runs a widget's paint at once, or at the end of the current interval if one ran within it.

    Calls inside the interval coalesce into one run at its end: the paint reads the widget's newest state then, so
    nothing waiting is lost and nothing stale is drawn after something newer. With `by_area` the interval grows with
    the widget's area (area_interval)."""

    def __init__(self, widget: Widget, interval: float = PAINT_INTERVAL_S, *, by_area: bool = False) -> None:
        self.widget = widget
        self.interval = interval
        self.by_area = by_area
        self._paint: Callable[[], None] | None = None
        self._cooling = False

    def request(self, paint: Callable[[], None]) -> None:
        """Run paint now, or once at the end of the current interval (a later request replaces a waiting one)."""
        self._paint = paint
        if not self._cooling:
            self._run()

    def current_interval(self) -> float:
        """Seconds from one paint to the next: fixed, or area_interval of the widget's size now."""
        return area_interval(self.widget.size.area, self.interval) if self.by_area else self.interval

    def _run(self) -> None:
        paint, self._paint = self._paint, None
        if paint is None:
            self._cooling = False
            return
        paint()
        self._cooling = True
        self.widget.set_timer(self.current_interval(), self._run)


def area_interval(area: int, interval: float = PAINT_INTERVAL_S) -> float:
    """The paint interval of a panel of `area` cells under the output budget: `interval` up to BUDGET_CELLS, longer
    in proportion above it, never more than MAX_INTERVAL_S."""
    return min(MAX_INTERVAL_S, max(interval, interval * area / BUDGET_CELLS))
