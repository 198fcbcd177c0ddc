"""The selected symbol's order book (best levels, bids beside asks) and its recent trades, newest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region
from textual.widget import Widget

from tui_bot.domain.enums import Side
from tui_bot.domain.market import BookSnapshot
from tui_bot.domain.models import Instrument, PublicTrade
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cadence import Cadence

Lines = list[tuple[tuple[str, str], ...]]


RUN_GAP = 6
"""Unchanged cells between two changed runs of a line up to which both are sent as one (a cursor move costs ~8)."""


def changed_runs(old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]) -> list[tuple[int, int]]:
    """The runs of columns [x1, x2) of a line that differ in character or tone between two drawings, runs closer
    than RUN_GAP joined."""
    before = [(char, tone) for text, tone in old for char in text]
    after = [(char, tone) for text, tone in new for char in text]
    width = max(len(before), len(after))
    differ = [x for x in range(width) if x >= len(before) or x >= len(after) or before[x] != after[x]]
    runs: list[tuple[int, int]] = []
    for x in differ:
        if runs and x - runs[-1][1] <= RUN_GAP:
            runs[-1] = (runs[-1][0], x + 1)
        else:
            runs.append((x, x + 1))
    return runs


class MarketPanel(Widget):
    """A panel drawn as text lines in the theme's bid (up) and ask (down) colours."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"market-panel--bid", "market-panel--ask", "market-panel--muted"}
    EMPTY = "—"

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.lines: Lines = []
        self.empty = self.EMPTY
        self._due: Callable[[], tuple[Lines, str]] | None = None
        self.cadence = Cadence(self, by_area=True)

    def style_of(self, tone: str) -> Style:
        return self.get_component_rich_style(f"market-panel--{tone}", partial=True) if tone else Style.null()

    def show_capped(self, build: Callable[[], tuple[Lines, str]]) -> None:
        """Draw what `build` gives now, or at the end of the current paint interval (Cadence, longer for a large panel)
        if one was drawn within it: the latest build replaces a waiting one, and a hidden panel builds nothing until it
        shows."""
        self._due = build
        if self._on_screen():
            self.cadence.request(self._paint_due)

    def _on_screen(self) -> bool:
        return self.display and self.size.area > 0

    def _paint_due(self) -> None:
        build, self._due = self._due, None
        if build is not None:
            self._draw(*build())

    def on_resize(self, _event: events.Resize) -> None:
        """A panel that comes into view draws the update it held while hidden."""
        if self._due is not None and self._on_screen():
            self.cadence.request(self._paint_due)

    def show(self, lines: Lines, empty: str) -> None:
        """Draw these lines at once (dropping a waiting capped update); see _draw."""
        self._due = None
        self._draw(lines, empty)

    def _draw(self, lines: Lines, empty: str) -> None:
        """Draw these lines, each a run of (text, tone) parts; `empty` when there are none.

        When only some cells changed, only they are repainted: a book update moves a few sizes, and a whole-panel
        repaint sent every level to the terminal each time."""
        if lines == self.lines and empty == self.empty:
            return
        same_shape = bool(lines) and len(lines) == len(self.lines)
        runs = [(y, changed_runs(old, new)) for y, (old, new) in enumerate(zip(self.lines, lines, strict=False))]
        self.lines, self.empty = lines, empty
        if not same_shape:
            self.refresh()
        else:
            self.refresh(*(Region(x1, y, x2 - x1, 1) for y, spans in runs for x1, x2 in spans))

    def text_lines(self) -> list[str]:
        """The plain text drawn (for tests)."""
        return ["".join(text for text, _ in line) for line in self.lines] or [self.empty]

    def render(self) -> RenderableType:
        if not self.lines:
            return Text(self.empty, style=self.style_of("muted"))
        return Group(
            *(Text.assemble(*((text, self.style_of(tone)) for text, tone in line), no_wrap=True) for line in self.lines)
        )


class BookPanel(MarketPanel):
    """Top levels of the book: bid size, bid | ask, ask size; as many levels as the panel is high."""

    def levels_shown(self) -> int:
        return max(1, self.size.height - 1)

    def apply_book(self, book: BookSnapshot | None, inst: Instrument | None) -> None:
        """Draw the book, at most every PAINT_INTERVAL_S (less often when large: cadence.area_interval)."""
        self.show_capped(lambda: self._book_lines(book, inst))

    def _book_lines(self, book: BookSnapshot | None, inst: Instrument | None) -> tuple[Lines, str]:
        if book is None:
            return [], "book: waiting for a snapshot"
        count = min(self.levels_shown(), max(len(book.bids), len(book.asks)))
        bids = [(fmt.qty(lv.size, inst), fmt.price(lv.price, inst)) for lv in book.bids[:count]]
        asks = [(fmt.price(lv.price, inst), fmt.qty(lv.size, inst)) for lv in book.asks[:count]]
        pw = max([len(p) for _, p in bids] + [len(p) for p, _ in asks] + [3])
        sw = max([len(q) for q, _ in bids] + [len(q) for _, q in asks] + [4])
        rows: Lines = [
            ((f"{'Size':>{sw}} {'Bid':>{pw}}", "muted"), (" │ ", "muted"), (f"{'Ask':<{pw}} {'Size':>{sw}}", "muted"))
        ]
        for i in range(count):
            left = ((f"{bids[i][0]:>{sw}} ", "bid"), (f"{bids[i][1]:>{pw}}", "bid")) if i < len(bids) else ()
            right = ((f"{asks[i][0]:<{pw}} ", "ask"), (f"{asks[i][1]:>{sw}}", "ask")) if i < len(asks) else ()
            rows.append((*(left or ((" " * (sw + pw + 1), "bid"),)), (" │ ", "muted"), *right))
        return rows, ""


class TradesPanel(MarketPanel):
    """The tape: time, price and size of recent trades, coloured by the taker's side, newest first."""

    def apply_trades(self, trades: tuple[PublicTrade, ...], inst: Instrument | None) -> None:
        """Draw the tape, at most every PAINT_INTERVAL_S (less often when large: cadence.area_interval)."""
        self.show_capped(lambda: self._tape_lines(trades, inst))

    def _tape_lines(self, trades: tuple[PublicTrade, ...], inst: Instrument | None) -> tuple[Lines, str]:
        if not trades:
            return [], "no trades yet"
        rows: Lines = [(("Time     ", "muted"), (f"{'Price':>10} {'Size':>8}", "muted"))]
        for trade in trades[: max(1, self.size.height - 1)]:
            tone = "bid" if trade.taker_side is Side.BUY else "ask"
            rows.append(
                (
                    (f"{fmt.clock(trade.time)} ", "muted"),
                    (f"{fmt.price(trade.price, inst):>10} ", tone),
                    (f"{fmt.qty(trade.size, inst):>8}", tone),
                )
            )
        return rows, ""
