"""Order books and recent trades of the symbols a console looks at, streamed on demand and published as snapshots.

Owners want symbols (`want(owner, symbols)`, as the engine's `tickers.want`): a symbol any owner wants has its
ticker, order book (orderbook.{depth}) and public trades streamed, its tape first filled with the trades printed
before (GET /v5/market/recent-trade); one nobody wants any more is unsubscribed. Book
frames are applied by the venue's rules (core/order_book.py); a skipped update id or a crossed book is counted in
health (`book_resyncs`) and the topic is subscribed again for a new snapshot. Each change goes on the bus as an
OrderBookChanged / TradesChanged carrying an immutable snapshot (the bus keeps the latest per symbol).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from tui_bot.core.engine import Engine
from tui_bot.core.order_book import BookOutcome, OrderBook
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.domain.events import Event
from tui_bot.domain.market import (
    BookSnapshot,
    OrderBookChanged,
    OrderBookReceived,
    PublicTradesReceived,
    TradesChanged,
)
from tui_bot.domain.models import PublicTrade
from tui_bot.exchange.errors import ExchangeError

log = logging.getLogger(__name__)

BOOK_DEPTH = 50
"""The book topic streamed (orderbook.50: 50 levels a side, every 20 ms on Bybit)."""
PUBLISHED_LEVELS = 25
"""Levels a side each OrderBookChanged carries (book() reads up to BOOK_DEPTH)."""
TRADES_KEPT = 200
"""Recent trades kept per symbol (the oldest dropped first): about 40 KB a symbol."""


class UnknownSymbol(ValueError):
    """A symbol the venue does not list; the message names it."""


class MarketFeed:
    """Books and trade tapes of the wanted symbols; the engine's listener for their frames."""

    def __init__(self, engine: Engine, *, depth: int = BOOK_DEPTH, trades_kept: int = TRADES_KEPT) -> None:
        self.engine = engine
        self.depth = depth
        self.trades_kept = trades_kept
        self.tasks = BackgroundTasks(engine.health.tasks, log)
        self._wanted: dict[str, set[str]] = {}
        self._books: dict[str, OrderBook] = {}
        self._tapes: dict[str, deque[PublicTrade]] = {}
        self._restarting: set[str] = set()
        self._lock = asyncio.Lock()

    # -- subscriptions ------------------------------------------------------------------------

    async def want(self, owner: str, symbols: set[str]) -> None:
        """Stream ticker, book and trades of these symbols on behalf of owner (replacing what owner wanted before)."""
        unknown = sorted(symbols - set(self.engine.state.instruments))
        if unknown:
            raise UnknownSymbol(f"not listed on {self.engine.client.label}: {', '.join(unknown)}")
        if symbols:
            self._wanted[owner] = set(symbols)
        else:
            self._wanted.pop(owner, None)
        self.engine.tickers.want(f"market:{owner}", set(symbols))
        await self._sync()

    @property
    def symbols(self) -> set[str]:
        """The symbols streamed on some owner's behalf."""
        return set(self._books)

    async def _sync(self) -> None:
        """Keep a book and tape for exactly the wanted symbols (made before subscribing: snapshots follow the ack)."""
        async with self._lock:
            wanted = set().union(*self._wanted.values()) if self._wanted else set()
            new = wanted - set(self._books)
            for symbol in new:
                self._books[symbol] = OrderBook(symbol, self.depth)
                self._tapes[symbol] = deque(maxlen=self.trades_kept)
            for symbol in set(self._books) - wanted:
                del self._books[symbol], self._tapes[symbol]
            await self.engine.client.set_market_streams(wanted, self.depth)
        for symbol in sorted(new):
            self.tasks.spawn(f"market-tape-{symbol}", self._load_tape(symbol), one_off=True)

    async def _load_tape(self, symbol: str) -> None:
        """Put the trades printed before the stream began under the streamed ones (each trade once, by id); a
        venue that refuses the request leaves the tape to the stream."""
        try:
            loaded = await self.engine.client.fetch_recent_trades(symbol, self.trades_kept)
        except ExchangeError as err:
            log.warning("recent trades of %s not loaded (the tape starts with the stream): %s", symbol, err)
            return
        tape = self._tapes.get(symbol)
        if tape is None or not loaded:
            return
        streamed = {t.trade_id for t in tape}
        earlier = [t for t in loaded if t.trade_id not in streamed]
        merged = sorted([*earlier, *tape], key=lambda t: t.time)  # stable: the stream's order within a millisecond
        tape.clear()
        tape.extend(merged)
        self._publish_tape(symbol, merged[-1].time, time.time_ns())

    async def stop(self) -> None:
        await self.tasks.stop()

    # -- frames ---------------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Engine listener: apply book frames and trades of the wanted symbols, publish what changed."""
        if type(event) is OrderBookReceived:
            self._on_book(event)
        elif type(event) is PublicTradesReceived:
            self._on_trades(event)

    def _on_book(self, frame: OrderBookReceived) -> None:
        book = self._books.get(frame.symbol)
        if book is None or frame.depth != book.depth:
            return
        outcome = book.apply(frame)
        if outcome is BookOutcome.APPLIED:
            snapshot = book.snapshot(PUBLISHED_LEVELS)
            if snapshot is not None and self.engine.bus.subscriptions:
                self.engine.bus.publish(
                    [
                        OrderBookChanged(
                            symbol=frame.symbol,
                            book=snapshot,
                            exchange_ts=frame.exchange_ts,
                            received_ns=frame.received_ns,
                        )
                    ]
                )
        elif outcome.needs_snapshot:
            self._resubscribe(frame.symbol, outcome)

    def _resubscribe(self, symbol: str, why: BookOutcome) -> None:
        """Count the broken book and ask for a new snapshot (once at a time per symbol)."""
        resyncs = self.engine.health.book_resyncs
        resyncs[why.value] = resyncs.get(why.value, 0) + 1
        log.warning(
            "order book %s: %s at update %d; subscribing again for a new snapshot",
            symbol,
            why.value,
            self._books[symbol].update_id,
        )
        if symbol not in self._restarting:
            self._restarting.add(symbol)
            self.tasks.spawn(f"market-book-{symbol}", self._restart(symbol), one_off=True)

    async def _restart(self, symbol: str) -> None:
        try:
            await self.engine.client.restart_book_stream(symbol, self.depth)
        finally:
            self._restarting.discard(symbol)

    def _on_trades(self, frame: PublicTradesReceived) -> None:
        tape = self._tapes.get(frame.symbol)
        if tape is None:
            return
        tape.extend(frame.trades)
        self._publish_tape(frame.symbol, frame.exchange_ts, frame.received_ns)

    def _publish_tape(self, symbol: str, exchange_ts: int, received_ns: int) -> None:
        if self.engine.bus.subscriptions:
            self.engine.bus.publish(
                [
                    TradesChanged(
                        symbol=symbol, trades=self.trades(symbol), exchange_ts=exchange_ts, received_ns=received_ns
                    )
                ]
            )

    # -- reads ------------------------------------------------------------------------------------

    def book(self, symbol: str, levels: int = PUBLISHED_LEVELS) -> BookSnapshot | None:
        """The best `levels` a side (up to the streamed depth), or None before a snapshot or while one is awaited."""
        book = self._books.get(symbol)
        return book.snapshot(levels) if book is not None else None

    def trades(self, symbol: str) -> tuple[PublicTrade, ...]:
        """The symbol's recent trades, newest first (at most trades_kept; empty when not streamed)."""
        tape = self._tapes.get(symbol)
        return tuple(reversed(tape)) if tape else ()
