"""The quote board: one row per watchlist symbol with last, bid, ask, 24h change, mark and funding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import ClassVar

from tui_bot.domain.models import Instrument, Ticker
from tui_bot.ui import format as fmt
from tui_bot.ui.widgets.cells import LiveTable

HUNDRED = Decimal(100)


def funding_text(ticker: Ticker, now_ms: int) -> str:
    """Funding rate in % and the time to the next settlement ("0.0100% 3h12m")."""
    rate = f"{ticker.funding_rate * HUNDRED:.4f}%"
    if not ticker.next_funding_time:
        return rate
    minutes = max(0, ticker.next_funding_time - now_ms) // 60_000
    return f"{rate} {minutes // 60}h{minutes % 60:02d}m"


class QuoteBoard(LiveTable):
    """The watchlist's quotes, in the trader's order; the row under the cursor is the selected symbol."""

    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("symbol", "Symbol"),
        ("last", "Last"),
        ("bid", "Bid"),
        ("ask", "Ask"),
        ("change", "24h %"),
        ("mark", "Mark"),
        ("funding", "Funding"),
    )

    def __init__(
        self, *, now_ms: Callable[[], int], name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._now_ms = now_ms
        self.symbols: tuple[str, ...] = ()

    @property
    def selected_symbol(self) -> str | None:
        return self.selected_key

    def apply_watchlist(
        self, symbols: tuple[str, ...], quotes: Mapping[str, Ticker | None], instruments: Mapping[str, Instrument]
    ) -> None:
        """Show exactly these symbols in this order (rows are rebuilt only when the list changed)."""
        self.ensure_columns()
        selected = self.selected_key
        if symbols != self.symbols:
            self.clear()
            self.symbols = symbols
        for symbol in symbols:
            self.set_row(symbol, self._cells(symbol, quotes.get(symbol), instruments.get(symbol)))
        self.restore_cursor(selected)

    def apply_quotes(self, quotes: Mapping[str, Ticker | None], instruments: Mapping[str, Instrument]) -> None:
        """Update the rows of symbols whose ticker moved."""
        for symbol, ticker in quotes.items():
            if self.has_row(symbol):
                self.set_row(symbol, self._cells(symbol, ticker, instruments.get(symbol)))

    def _cells(self, symbol: str, ticker: Ticker | None, inst: Instrument | None) -> dict[str, object]:
        if ticker is None:
            return {"symbol": symbol, **{key: fmt.DASH for key, _ in self.COLUMNS[1:]}}
        change = ticker.price_24h_pcnt * HUNDRED
        return {
            "symbol": symbol,
            "last": fmt.price(ticker.last_price, inst),
            "bid": fmt.price(ticker.bid1_price, inst),
            "ask": fmt.price(ticker.ask1_price, inst),
            "change": self.toned(fmt.percent(change), fmt.tone(change)),
            "mark": fmt.price(ticker.mark_price, inst),
            "funding": funding_text(ticker, self._now_ms()),
        }
