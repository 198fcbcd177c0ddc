"""The market view's part of the console: quote board, chart, book and tape, and the keys that drive them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from textual import work
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import DataTable

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.domain.models import Ticker
from tui_bot.ui import messages
from tui_bot.ui.actions import TradingActions
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.symbol_prompt import SymbolPrompt
from tui_bot.ui.widgets.book import BookPanel, TradesPanel
from tui_bot.ui.widgets.chart import CandleChart, Level
from tui_bot.ui.widgets.quotes import QuoteBoard

log = logging.getLogger(__name__)
W = TypeVar("W", bound=Widget)
CHART_INTERVALS = ("1", "5", "15", "60")
BOOK_DEPTH = 25


def interval_label(interval: str) -> str:
    return "1h" if interval == "60" else f"{interval}m"


class MarketActions(TradingActions):
    """Draws the selected symbol's market and acts on the market-view keys, all through `backend`."""

    def _widget(self, kind: type[W]) -> W | None:
        """The dashboard's widget of this kind, or None while the app is exiting (screens already gone)."""
        try:
            return self.screen_stack[0].query_one(kind) if self.screen_stack else None
        except NoMatches:
            return None

    def _quotes(self, symbols: tuple[str, ...] | set[str]) -> dict[str, Ticker | None]:
        assert self.backend is not None
        return {s: self.backend.ticker(s) for s in symbols}

    def on_watchlist_edited(self, message: messages.WatchlistEdited) -> None:
        board = self._widget(QuoteBoard)
        if board is not None and self.backend is not None:
            board.apply_watchlist(message.symbols, self._quotes(message.symbols), self.backend.instruments())

    def show_quotes(self, symbols: set[str]) -> None:
        """Redraw the quote rows of symbols whose ticker moved."""
        board = self._widget(QuoteBoard)
        if board is not None and self.backend is not None:
            board.apply_quotes(self._quotes(symbols & set(board.symbols)), self.backend.instruments())

    def on_book_moved(self, _message: messages.BookMoved) -> None:
        self.draw_book()

    def on_tape_moved(self, _message: messages.TapeMoved) -> None:
        self.draw_tape()

    def on_chart_moved(self, _message: messages.ChartMoved) -> None:
        self.draw_chart()

    def draw_market(self) -> None:
        """Redraw the book, tape and chart of the selected symbol (after a selection, resize or position change)."""
        self.draw_book()
        self.draw_tape()
        self.draw_chart()

    def draw_book(self) -> None:
        panel, backend = self._widget(BookPanel), self.backend
        if panel is None or backend is None:
            return
        symbol = backend.selected_symbol()
        if symbol is None:
            panel.show([], "no symbol selected")
            return
        panel.apply_book(backend.book(symbol, BOOK_DEPTH), backend.instruments().get(symbol))

    def draw_tape(self) -> None:
        panel, backend = self._widget(TradesPanel), self.backend
        if panel is None or backend is None:
            return
        symbol = backend.selected_symbol()
        if symbol is None:
            panel.show([], "no symbol selected")
            return
        panel.apply_trades(backend.public_trades(symbol), backend.instruments().get(symbol))

    def draw_chart(self) -> None:
        chart, backend = self._widget(CandleChart), self.backend
        if chart is None or backend is None:
            return
        symbol, interval = backend.selected_symbol(), backend.chart_interval()
        if symbol is None:
            chart.apply("no symbol selected", (), (), None)
            return
        title = f"{symbol} · {interval_label(interval)} · i: interval"
        chart.apply(
            title, backend.candles(symbol, interval), self._levels(backend, symbol), backend.instruments().get(symbol)
        )

    @staticmethod
    def _levels(backend: ConsoleBackend, symbol: str) -> tuple[Level, ...]:
        """The position's entry, SL, TP and liquidation and the symbol's open orders' prices."""
        levels = [
            Level("Ord", o.price, "axis") for o in backend.open_orders().values() if o.symbol == symbol and o.price
        ]
        pos = backend.positions().get(symbol)
        if pos is not None and pos.size > 0:
            levels += [
                Level(label, price, tone)
                for label, price, tone in (
                    ("Liq", pos.liq_price, "liq"),
                    ("TP", pos.take_profit, "tp"),
                    ("SL", pos.stop_loss, "sl"),
                    ("E", pos.entry_price, "entry"),
                )
                if price
            ]
        return tuple(levels)

    # -- selection and keys -------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The quote board's cursor selects the symbol whose market is shown."""
        symbol = event.row_key.value
        if (
            isinstance(event.data_table, QuoteBoard)
            and symbol is not None
            and self.backend is not None
            and symbol != self.backend.selected_symbol()
        ):
            self.select_symbol(str(symbol))

    def on_order_form_modal_symbol_wanted(self, message: OrderFormModal.SymbolWanted) -> None:
        """A ticket typed a listed symbol with no price: the market view shows it, which streams its ticker."""
        self.select_symbol(message.symbol)

    @work(group="market-select", exclusive=True, exit_on_error=False)
    async def select_symbol(self, symbol: str) -> None:
        if await self._market_call(self.backend.select_symbol(symbol) if self.backend else None):
            self.draw_market()

    async def _market_call(self, call: Awaitable[Any] | None) -> bool:
        """Await a market act; a refusal becomes a one-line notification. True when it went through."""
        if call is None:
            return False
        try:
            await call
        except ValueError as err:
            self.notify(str(err), severity="error")
            return False
        except Exception as err:
            log.exception("market view")
            self.notify(f"Market view: {err}", severity="error")
            return False
        return True

    def action_chart_interval(self) -> None:
        """Draw the chart at the next interval (1m, 5m, 15m, 1h, then 1m again)."""
        backend = self._backend_or_warn()
        if backend is not None:
            current = backend.chart_interval()
            following = CHART_INTERVALS[(CHART_INTERVALS.index(current) + 1) % len(CHART_INTERVALS)]
            self.set_chart_interval(following)

    @work(group="chart-interval", exclusive=True, exit_on_error=False)
    async def set_chart_interval(self, interval: str) -> None:
        if await self._market_call(self.backend.set_chart_interval(interval) if self.backend else None):
            self.draw_chart()

    def action_market_view(self) -> None:
        """Give the market view the whole screen, or share it with the blotter again."""
        self.toggle_class("-market-focus")
        self.call_after_refresh(self.draw_market)

    def action_go_to_symbol(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None:
            self.push_screen(SymbolPrompt("Show symbol", sorted(backend.instruments())), self._go_to)

    def _go_to(self, symbol: str | None) -> None:
        if symbol:
            self.select_symbol(symbol)

    def action_watch_add(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None:
            self.push_screen(SymbolPrompt("Add to watchlist", sorted(backend.instruments())), self._watch)

    def _watch(self, symbol: str | None) -> None:
        if symbol and self.backend is not None:
            try:
                self.backend.add_to_watchlist(symbol)
            except ValueError as err:
                self.notify(str(err), severity="error")

    def action_watch_remove(self) -> None:
        """Take the quote board's selected symbol off the watchlist."""
        backend = self._backend_or_warn()
        symbol = self.query_one(QuoteBoard).selected_symbol
        if backend is None or symbol is None:
            if backend is not None:
                self.notify("The watchlist is empty.", severity="warning")
            return
        try:
            backend.remove_from_watchlist(symbol)
        except ValueError as err:
            self.notify(str(err), severity="error")
