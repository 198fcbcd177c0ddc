"""What a console's market view reads and does: the selected symbol's book, trades and chart, the account at the
current marks, today's realised PnL, and the watchlist.

Selecting a symbol (any the venue lists) streams its ticker, order book, public trades and the chart's kline on
demand; selecting another, or none, unsubscribes what nothing else needs. Reads are synchronous snapshots; on the
bus, OrderBookChanged / TradesChanged (latest per symbol), KlineUpdated (the chart's bar), DayPnlChanged and
WatchlistChanged say when to read again, and PositionMarked / WalletUpdated when account_summary() moved.
"""

from __future__ import annotations

import asyncio

from tui_bot.core.account_summary import account_summary
from tui_bot.core.candles import CandleBook
from tui_bot.core.day_pnl import DayPnlTracker
from tui_bot.core.engine import Engine
from tui_bot.core.market_feed import PUBLISHED_LEVELS, MarketFeed
from tui_bot.core.watchlist import Watchlist
from tui_bot.domain.events import Event, TickerUpdated
from tui_bot.domain.market import AccountSummary, BookSnapshot, DayPnl
from tui_bot.domain.models import Kline, PublicTrade

CHART_INTERVALS = ("1", "5", "15", "60")
CHART_BARS = 200
"""Closed bars the chart keeps (REST history, then the stream)."""
CONSOLE = "console"


class MarketView:
    """The market-view surface of one console, over the engine's state and the market feed."""

    def __init__(
        self, engine: Engine, watchlist: Watchlist, *, chart_interval: str = "15", chart_bars: int = CHART_BARS
    ) -> None:
        if chart_interval not in CHART_INTERVALS:
            raise ValueError(f"chart interval must be one of {', '.join(CHART_INTERVALS)}, not {chart_interval!r}")
        self.engine = engine
        self.feed = MarketFeed(engine)
        self.chart = CandleBook(engine.client, None, history=chart_bars, stream_owner="chart")
        self.day = DayPnlTracker(engine)
        self.watchlist = watchlist
        self.selected: str | None = None
        self.chart_interval = chart_interval
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Listen to the engine and read today's PnL."""
        self.engine.listeners.append(self._on_event)
        await self.day.start()

    async def stop(self) -> None:
        if self._on_event in self.engine.listeners:
            self.engine.listeners.remove(self._on_event)
        await self.feed.stop()
        await self.day.stop()

    def _on_event(self, event: Event) -> None:
        if type(event) is TickerUpdated:
            return
        self.feed.on_event(event)
        self.chart.on_event(event)
        self.day.on_event(event)

    # -- reads ------------------------------------------------------------------------------------

    def book(self, symbol: str, depth: int = PUBLISHED_LEVELS) -> BookSnapshot | None:
        """The best `depth` levels a side of a streamed symbol; None before its snapshot or while it is rebuilt."""
        return self.feed.book(symbol, depth)

    def trades(self, symbol: str) -> tuple[PublicTrade, ...]:
        """Recent trades of a streamed symbol, newest first."""
        return self.feed.trades(symbol)

    def candles(self, symbol: str, interval: str) -> tuple[Kline, ...]:
        """The chart's bars, oldest first, the live one last; empty unless symbol and interval are the chart's."""
        if interval != self.chart.interval or symbol not in self.chart.symbols:
            return ()
        live = self.chart.live(symbol)
        return (*self.chart.closed(symbol), *((live,) if live is not None else ()))

    def account_summary(self) -> AccountSummary | None:
        """Wallet balance, uPnL and equity at the current marks (None before the wallet is known)."""
        return account_summary(self.engine.state)

    def day_pnl(self) -> DayPnl:
        """Realised PnL since 00:00 UTC from the exchange's transaction log."""
        return self.day.current()

    def watchlist_symbols(self) -> tuple[str, ...]:
        return self.watchlist.symbols

    # -- acts -------------------------------------------------------------------------------------

    async def select_symbol(self, symbol: str | None) -> None:
        """Show this symbol (None: none): stream its ticker, book, trades and chart, drop the previous one's.

        Raises UnknownSymbol (a ValueError) for a symbol the venue does not list; nothing changes then.
        """
        name = symbol.strip().upper() if symbol is not None else None
        async with self._lock:
            await self.feed.want(CONSOLE, {name} if name else set())
            self.selected = name or None
            await self.chart.prepare([name] if name else [], self.chart_interval)

    async def set_chart_interval(self, interval: str) -> None:
        """Draw the chart at interval (one of CHART_INTERVALS; ValueError otherwise)."""
        if interval not in CHART_INTERVALS:
            raise ValueError(f"chart interval must be one of {', '.join(CHART_INTERVALS)}, not {interval!r}")
        async with self._lock:
            self.chart_interval = interval
            await self.chart.prepare([self.selected] if self.selected else [], interval)

    def add_to_watchlist(self, symbol: str) -> tuple[str, ...]:
        """Add a listed symbol to the watchlist (persisted); returns the watchlist."""
        return self.watchlist.add(symbol)

    def remove_from_watchlist(self, symbol: str) -> tuple[str, ...]:
        """Take a symbol off the watchlist (persisted); returns the watchlist."""
        return self.watchlist.remove(symbol)
