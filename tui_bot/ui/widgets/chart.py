"""A candlestick chart drawn with half-block characters: two price rows per line, one bar per column.

Bodies are full or half blocks, wicks thin half lines; the position's entry, stop, take-profit and liquidation
prices are drawn as labelled horizontal lines (entry, stop and take-profit stretch the scale when near the
bars). Pure function of the bars, the levels and the size, so a snapshot draws the same every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from tui_bot.domain.models import Instrument, Kline
from tui_bot.ui import format as fmt

BODY = {(True, True): "█", (True, False): "▀", (False, True): "▄"}
NEAR_TONES = frozenset({"entry", "sl", "tp"})
"""Levels the price scale stretches to show when they lie within one bar range of the bars."""
WICK = {(True, True): "│", (True, False): "╵", (False, True): "╷"}


@dataclass(frozen=True, slots=True)
class Level:
    """A horizontal line across the chart: its label ("E", "SL", "TP", "Liq"), price and tone."""

    label: str
    price: Decimal
    tone: str


class Scale:
    """Maps prices to half-rows (0 = top) over `rows` text lines."""

    def __init__(self, low: Decimal, high: Decimal, rows: int) -> None:
        self.low, self.high, self.pixels = low, high, rows * 2
        self.span = (high - low) or Decimal(1)

    def pixel(self, price: Decimal) -> int:
        scaled = (self.high - price) / self.span * (self.pixels - 1)
        return max(0, min(self.pixels - 1, int(scaled.to_integral_value())))

    def row(self, price: Decimal) -> int:
        return self.pixel(price) // 2


def column(bar: Kline, scale: Scale, row: int) -> tuple[str, bool]:
    """The character of one bar on one text line, and whether it is drawn at all."""
    top, bottom = 2 * row, 2 * row + 1
    body_top, body_bottom = scale.pixel(max(bar.open, bar.close)), scale.pixel(min(bar.open, bar.close))
    wick_top, wick_bottom = scale.pixel(bar.high), scale.pixel(bar.low)
    in_body = (body_top <= top <= body_bottom, body_top <= bottom <= body_bottom)
    if any(in_body):
        return BODY[in_body], True
    in_wick = (wick_top <= top <= wick_bottom, wick_top <= bottom <= wick_bottom)
    return (WICK[in_wick], True) if any(in_wick) else (" ", False)


class CandleChart(Widget):
    """The selected symbol's bars at one interval, newest at the right, with a price axis and level lines."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "candle-chart--up",
        "candle-chart--down",
        "candle-chart--axis",
        "candle-chart--entry",
        "candle-chart--sl",
        "candle-chart--tp",
        "candle-chart--liq",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title = ""
        self.bars: tuple[Kline, ...] = ()
        self.levels: tuple[Level, ...] = ()
        self.instrument: Instrument | None = None
        self._drawn: tuple[tuple[int, int], list[Text]] = ((0, 0), [])
        self._reuse = False  # render may hand out the lines apply just drew (any other repaint draws afresh)

    def apply(self, title: str, bars: tuple[Kline, ...], levels: tuple[Level, ...], inst: Instrument | None) -> None:
        """Draw these bars (oldest first) and level lines under a title line; repaint only the lines that changed
        (a live bar's tick moves one column, and a whole repaint sent the full chart each time)."""
        self.title, self.bars, self.levels, self.instrument = title, bars, levels, inst
        size, before = self._drawn
        if not self.is_mounted or size != tuple(self.size) or not before:
            self.refresh()
            return
        after = self.lines(*size)
        self._drawn, self._reuse = (size, after), True
        changed = [y for y, (old, new) in enumerate(zip(before, after, strict=False)) if old != new]
        if len(after) != len(before):
            self.refresh()
        elif changed:
            self.refresh(*(Region(0, y, size[0], 1) for y in changed))

    def _style(self, tone: str) -> Style:
        return self.get_component_rich_style(f"candle-chart--{tone}", partial=True)

    def render(self) -> RenderableType:
        size = (self.size.width, self.size.height)
        if not (self._reuse and self._drawn[0] == size):
            self._drawn = (size, self.lines(*size))
        self._reuse = False
        return Group(*self._drawn[1])

    def lines(self, width: int, height: int) -> list[Text]:
        """The chart as `height` lines of at most `width` cells."""
        head = Text(self.title, style=self._style("axis"), no_wrap=True)
        rows = height - 1
        if not self.bars or rows < 2:
            return [head, Text("no bars yet" if rows >= 1 else "", style=self._style("axis"))]
        axis = max(len(fmt.price(b.high, self.instrument)) for b in self.bars) + 5
        bars = self.bars[-max(1, width - axis) :]
        low, high = min(b.low for b in bars), max(b.high for b in bars)
        near = [
            lv.price
            for lv in self.levels
            if lv.tone in NEAR_TONES and low - (high - low) <= lv.price <= high + (high - low)
        ]
        scale = Scale(min([low, *near]), max([high, *near]), rows)
        levels = {scale.row(lv.price): lv for lv in self.levels if scale.low <= lv.price <= scale.high}
        marks = {0: scale.high, rows - 1: scale.low, scale.row(bars[-1].close): bars[-1].close}
        return [head, *(self._line(bars, scale, r, levels.get(r), marks.get(r), width - axis) for r in range(rows))]

    def _line(
        self, bars: tuple[Kline, ...], scale: Scale, row: int, level: Level | None, mark: Decimal | None, plot: int
    ) -> Text:
        """One text line: the bars' characters, newest at the right (a level's line behind them), then the axis."""
        rule = self._style(level.tone) if level else Style.null()
        line = Text(("─" if level else " ") * (plot - len(bars)), style=rule, no_wrap=True)
        for bar in bars:
            char, drawn = column(bar, scale, row)
            tone = "up" if bar.close >= bar.open else "down"
            line.append(char if drawn else ("─" if level else " "), self._style(tone) if drawn else rule)
        line.append(" ")
        if level is not None:
            line.append(f"{level.label} {fmt.price(level.price, self.instrument)}", rule)
        elif mark is not None:
            line.append(f"  {fmt.price(mark, self.instrument)}", self._style("axis"))
        return line
