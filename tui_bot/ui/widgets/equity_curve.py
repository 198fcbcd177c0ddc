"""A braille line plot of cumulative PnL, scaled to the widget, with its axis and last/min/max labels."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui_bot.ui import format as fmt

BRAILLE = 0x2800
DOT_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""Braille dot bit of (dot row 0–3, dot column 0–1) within one character cell."""
EMPTY_TEXT = "No closed trades yet"
ZERO_LINE = "┈"


def dot_columns(values: Sequence[float], dots: int) -> list[tuple[float, float, float]]:
    """(low, high, end) of the curve in each of `dots` columns; a column joins on to the previous one's end."""
    if not values or dots <= 0:
        return []
    n = len(values)
    spans: list[tuple[float, float, float]] = []
    previous = values[0]
    for x in range(dots):
        if n > dots:
            bucket = list(values[x * n // dots : (x + 1) * n // dots])
        else:
            t = x * (n - 1) / (dots - 1) if dots > 1 else 0.0
            i = min(int(t), n - 1)
            bucket = [values[i] + (values[min(i + 1, n - 1)] - values[i]) * (t - i)]
        spans.append((min(previous, *bucket), max(previous, *bucket), bucket[-1]))
        previous = bucket[-1]
    return spans


def dot_row(value: float, low: float, high: float, rows: int) -> int:
    """The dot row (0 = top) of a value on an axis from low (bottom) to high (top)."""
    if high <= low:
        return rows // 2
    return round((high - value) / (high - low) * (rows - 1))


def braille_grid(values: Sequence[float], width: int, height: int) -> tuple[list[list[int]], list[float]]:
    """Braille bit masks (height × width cells) of the curve on an axis that includes 0, and each cell's end value."""
    grid = [[0] * width for _ in range(height)]
    low, high = min(0.0, *values), max(0.0, *values)
    spans = dot_columns(values, width * 2)
    ends = [0.0] * width
    for x, (span_low, span_high, end) in enumerate(spans):
        top, bottom = dot_row(span_high, low, high, height * 4), dot_row(span_low, low, high, height * 4)
        for y in range(top, bottom + 1):
            grid[y // 4][x // 2] |= DOT_BITS[y % 4][x % 2]
        ends[x // 2] = end
    return grid, ends


class EquityCurve(Widget):
    """Cumulative net PnL over closed trades, from 0 before the first; shows a plain note while there are none."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "equity-curve--up",
        "equity-curve--down",
        "equity-curve--axis",
        "equity-curve--label",
        "equity-curve--empty",
    }

    def __init__(
        self,
        points: Sequence[tuple[int, Decimal]] = (),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.points: list[tuple[int, Decimal]] = list(points)

    def set_points(self, points: Sequence[tuple[int, Decimal]]) -> None:
        """Replace the curve's (epoch ms, cumulative PnL) points and redraw."""
        self.points = list(points)
        self.refresh()

    def caption(self) -> str:
        """The label line under the plot: last, min and max of the curve and the number of points."""
        values = [v for _, v in self.points]
        return (
            f"last {fmt.signed_money(values[-1])}  min {fmt.signed_money(min(values))}  "
            f"max {fmt.signed_money(max(values))}  ({len(values)} closed)"
        )

    def render(self) -> Text:
        width, height = self.content_size.width, self.content_size.height
        if not self.points:
            return Text(EMPTY_TEXT, style=self.get_component_rich_style("equity-curve--empty"))
        if width < 4 or height < 1:
            return Text(fmt.signed_money(self.points[-1][1]))
        plot_height = height - 1 if height >= 3 else height
        text = self._plot([0.0, *(float(v) for _, v in self.points)], width, plot_height)
        if plot_height < height:
            text.append("\n")
            text.append(self.caption()[:width], style=self.get_component_rich_style("equity-curve--label"))
        return text

    def _plot(self, values: list[float], width: int, height: int) -> Text:
        """The plot rows with the axis top and bottom written in a left gutter when there is room."""
        low, high = min(0.0, *values), max(0.0, *values)
        top_label, bottom_label = fmt.signed_money(Decimal(str(high))), fmt.signed_money(Decimal(str(low)))
        gutter = max(len(top_label), len(bottom_label)) + 1
        if width - gutter < 8:
            gutter = 0
        grid, ends = braille_grid(values, width - gutter, height)
        zero = dot_row(0.0, low, high, height * 4) // 4
        styles = {
            name: self.get_component_rich_style(f"equity-curve--{name}") for name in ("up", "down", "axis", "label")
        }
        text = Text(no_wrap=True, overflow="crop")
        for y, row in enumerate(grid):
            if y:
                text.append("\n")
            if gutter:
                label = top_label if y == 0 else bottom_label if y == height - 1 else ""
                text.append(label.rjust(gutter - 1) + " ", style=styles["label"])
            for x, bits in enumerate(row):
                self._cell(text, bits, y == zero, ends[x], styles)
        return text

    @staticmethod
    def _cell(text: Text, bits: int, on_zero: bool, end: float, styles: dict[str, Style]) -> None:
        if not bits:
            text.append(ZERO_LINE if on_zero else " ", style=styles["axis"])
        else:
            text.append(chr(BRAILLE + bits), style=styles["up" if end >= 0 else "down"])
