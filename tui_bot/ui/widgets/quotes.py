"""The quote board: one row per watchlist symbol with last, bid, ask, 24h change, mark and funding, and where the
board is wide enough open interest and a sparkline of the recent last prices."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

from textual import events

from tui_bot.domain.models import Instrument, Ticker
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cadence import Cadence
from tui_bot.ui.widgets.cells import LiveTable

HUNDRED = Decimal(100)
SPARK_POINTS = 10
"""Last prices a row's sparkline draws (one character each); older ones are dropped."""
BARS = "▁▂▃▄▅▆▇█"
EXTRA_COLUMNS = frozenset({"oi", "spark"})
"""Columns shown only on a wide board (set_wide)."""
_SCALES = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))


def funding_text(ticker: Ticker, now_ms: int) -> str:
    """Funding rate in % and the time to the next settlement ("0.0100% 3h12m")."""
    rate = f"{ticker.funding_rate * HUNDRED:.4f}%"
    if not ticker.next_funding_time:
        return rate
    minutes = max(0, ticker.next_funding_time - now_ms) // 60_000
    return f"{rate} {minutes // 60}h{minutes % 60:02d}m"


def compact(value: Decimal) -> str:
    """A size in three significant figures with K/M/B ('48.2K', '1.23M'); a dash when zero."""
    if value <= 0:
        return fmt.DASH
    for scale, suffix in _SCALES:
        if value >= scale:
            scaled = value / scale
            places = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{scaled:.{places}f}{suffix}"
    return f"{value:.0f}" if value >= 100 else f"{value.normalize():f}"


def sparkline(prices: Sequence[Decimal]) -> str:
    """One block character per price, low to high across the prices' own range (flat: all middle blocks)."""
    if not prices:
        return ""
    low, high = min(prices), max(prices)
    if high == low:
        return BARS[3] * len(prices)
    top = len(BARS) - 1
    return "".join(BARS[int((p - low) / (high - low) * top + Decimal("0.5"))] for p in prices)


class QuoteBoard(LiveTable):
    """The watchlist's quotes, in the trader's order; the row under the cursor is the selected symbol.

    It keeps the last SPARK_POINTS distinct last prices of each watched symbol for the sparkline (bounded by the
    watchlist); OI and the sparkline are columns only while set_wide(True)."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"),
        ("last", "Last"),
        ("bid", "Bid"),
        ("ask", "Ask"),
        ("change", "24h %"),
        ("mark", "Mark"),
        ("funding", "Funding"),
        ("oi", "OI"),
        ("spark", "Last prices"),
    )

    def __init__(
        self, *, now_ms: Callable[[], int], name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._now_ms = now_ms
        self.symbols: tuple[str, ...] = ()
        self.wide = False
        self._quotes: dict[str, Ticker | None] = {}
        self._instruments: Mapping[str, Instrument] = {}
        self._trail: dict[str, deque[Decimal]] = {}
        self._behind: set[str] = set()
        """Symbols whose row is out of view and older than their ticker: drawn when they come into view."""
        self._moved: dict[str, Ticker | None] = {}
        """Tickers that moved since the board was last drawn (Cadence: at most every 250 ms)."""
        self._cadence = Cadence(self)

    @property
    def selected_symbol(self) -> str | None:
        return self.selected_key

    def ensure_columns(self) -> None:
        """Add the columns this width shows (OI and the sparkline only when wide)."""
        if not self.columns:
            for key, label in self.COLUMNS:
                if self.wide or key not in EXTRA_COLUMNS:
                    self.add_column(label, key=key)

    def set_wide(self, wide: bool) -> None:
        """Show OI and the sparkline (or not): the columns are rebuilt and the rows drawn again."""
        if wide == self.wide:
            return
        selected = self.selected_key
        self.wide = wide
        self.clear(columns=True)
        self.ensure_columns()
        self._behind.clear()
        for symbol in self.symbols:
            self.set_row(symbol, self._cells(symbol, self._quotes.get(symbol), self._instruments.get(symbol)))
        self.restore_cursor(selected)

    def apply_watchlist(
        self, symbols: tuple[str, ...], quotes: Mapping[str, Ticker | None], instruments: Mapping[str, Instrument]
    ) -> None:
        """Show exactly these symbols in this order (rows are rebuilt only when the list changed)."""
        self.ensure_columns()
        selected = self.selected_key
        if symbols != self.symbols:
            self.clear()
            self._behind.clear()
            self.symbols = symbols
            for gone in set(self._trail) - set(symbols):
                del self._trail[gone]
                self._quotes.pop(gone, None)
        self._instruments = instruments
        for symbol in symbols:
            self._record(symbol, quotes.get(symbol))
            self.set_row(symbol, self._cells(symbol, quotes.get(symbol), instruments.get(symbol)))
        self.restore_cursor(selected)

    def apply_quotes(self, quotes: Mapping[str, Ticker | None], instruments: Mapping[str, Instrument]) -> None:
        """Update the rows of symbols whose ticker moved, at most every 250 ms (Cadence: the newest tickers then)."""
        self._instruments = instruments
        self._moved.update(quotes)
        self._cadence.request(self._draw_moved)

    def _draw_moved(self) -> None:
        """Draw the rows of the tickers that moved; a row out of view is only marked behind (formatting every
        watched symbol's row cost most of the board's time when it shows 40 of 200)."""
        quotes, self._moved = self._moved, {}
        first, stop = self._rows_in_view()
        for symbol, ticker in quotes.items():
            if self.has_row(symbol):
                self._record(symbol, ticker)
                if first <= self.get_row_index(symbol) < stop:
                    self._behind.discard(symbol)
                    self.set_row(symbol, self._cells(symbol, ticker, self._instruments.get(symbol)))
                else:
                    self._behind.add(symbol)

    def _rows_in_view(self) -> tuple[int, int]:
        """Indexes of the first row in view and of the one past the last."""
        first = round(self.scroll_y)
        return first, first + max(0, self.size.height - (self.header_height if self.show_header else 0))

    def _catch_up(self) -> None:
        """Draw the rows that came into view with their latest quotes."""
        if not self._behind:
            return
        first, stop = self._rows_in_view()
        for symbol in [s for s in self._behind if self.has_row(s) and first <= self.get_row_index(s) < stop]:
            self._behind.discard(symbol)
            self.set_row(symbol, self._cells(symbol, self._quotes.get(symbol), self._instruments.get(symbol)))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._catch_up()

    def on_resize(self, _event: events.Resize) -> None:
        self._catch_up()

    def trail(self, symbol: str) -> tuple[Decimal, ...]:
        """The last prices the symbol's sparkline draws, oldest first."""
        return tuple(self._trail.get(symbol, ()))

    def _record(self, symbol: str, ticker: Ticker | None) -> None:
        """Keep the ticker for a redraw and its last price for the sparkline when it moved."""
        self._quotes[symbol] = ticker
        if ticker is None or ticker.last_price <= 0:
            return
        trail = self._trail.setdefault(symbol, deque(maxlen=SPARK_POINTS))
        if not trail or trail[-1] != ticker.last_price:
            trail.append(ticker.last_price)

    def _cells(self, symbol: str, ticker: Ticker | None, inst: Instrument | None) -> dict[str, object]:
        if ticker is None:
            return {"symbol": symbol, **{key: fmt.DASH for key, _ in self.COLUMNS[1:]}}
        change = ticker.price_24h_pcnt * HUNDRED
        trail = self.trail(symbol)
        return {
            "symbol": symbol,
            "last": fmt.price(ticker.last_price, inst),
            "bid": fmt.price(ticker.bid1_price, inst),
            "ask": fmt.price(ticker.ask1_price, inst),
            "change": self.toned(fmt.percent(change), fmt.tone(change)),
            "mark": fmt.price(ticker.mark_price, inst),
            "funding": funding_text(ticker, self._now_ms()),
            "oi": compact(ticker.open_interest),
            "spark": self.toned(sparkline(trail), fmt.tone(trail[-1] - trail[0]) if trail else ""),
        }
