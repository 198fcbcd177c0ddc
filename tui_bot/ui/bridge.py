"""The one worker between the backend's subscription and the app: market data at most 10 Hz, everything else at once."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from textual.app import App
from textual.message import Message

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.cycle_report import CycleFinished
from tui_bot.core.settings import SettingsChanged
from tui_bot.core.state import PositionMarked
from tui_bot.domain.alerts import Alert
from tui_bot.domain.events import (
    ConnectionStateChanged,
    ExecutionReceived,
    KlineUpdated,
    OrderUpdated,
    PositionUpdated,
    ProtectionActed,
    RecommendationChanged,
    ResyncCompleted,
    StreamModeChanged,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.market import DayPnlChanged, OrderBookChanged, TradesChanged, WatchlistChanged
from tui_bot.ui import messages
from tui_bot.ui.refusals import Refusals

log = logging.getLogger(__name__)
MARKET_INTERVAL_S = 0.1


class EngineBridge:
    """Turns the backend's change batches into app messages; market data (marks, prices, book, tape, chart) merged."""

    def __init__(self, app: App[Any], backend: ConsoleBackend) -> None:
        self.app = app
        self.backend = backend
        self._marks: dict[str, PositionMarked] = {}
        self._priced: set[str] = set()
        self._market: set[type[Message]] = set()
        self._last_market = 0.0
        self._refusals = Refusals()

    async def run(self) -> None:
        sub = self.backend.subscribe()
        self.post_snapshot()
        await self._post_stored_fills()
        try:
            while True:
                timeout = None
                if self._pending():
                    timeout = max(0.0, MARKET_INTERVAL_S - (time.monotonic() - self._last_market))
                try:
                    batch = (
                        await asyncio.wait_for(sub.next_batch(), timeout)
                        if timeout is not None
                        else await sub.next_batch()
                    )
                except TimeoutError:
                    batch = []
                self.dispatch(batch)
        finally:
            self.backend.unsubscribe(sub)

    async def _post_stored_fills(self) -> None:
        """The fills the store kept (a restarted console shows today's fills, not an empty table)."""
        try:
            fills = await self.backend.recent_fills()
        except Exception:  # noqa: BLE001 - a store that cannot answer leaves the table to the live fills
            log.warning("could not read the stored fills", exc_info=True)
            return
        if fills:
            self.app.post_message(messages.FillsArrived(list(fills)))

    def post_snapshot(self) -> None:
        """Everything at once (on start and after a resync)."""
        backend = self.backend
        self.app.post_message(messages.PositionsChanged(backend.positions()))
        self.app.post_message(messages.OrdersChanged(backend.open_orders()))
        self._post_account()
        self.app.post_message(messages.DayPnlUpdated(backend.day_pnl()))
        self.app.post_message(messages.WatchlistEdited(backend.watchlist()))
        self.app.post_message(messages.ModeChanged(backend.mode()))
        self.app.post_message(messages.RecommendationsChanged(backend.recommendations()))
        if (cycle := backend.last_cycle()) is not None:
            self.app.post_message(messages.CycleReported(cycle))
        self.app.post_message(messages.AlertsChanged())

    def dispatch(self, batch: list[object]) -> None:
        """Post one message per kind of change in the batch; marks and prices only every MARKET_INTERVAL_S."""
        backend = self.backend
        fills = [item.execution for item in batch if isinstance(item, ExecutionReceived)]
        if fills:
            self.app.post_message(messages.FillsArrived(fills))
        if any(isinstance(item, (ResyncCompleted,)) for item in batch):
            self.post_snapshot()
        else:
            if any(isinstance(item, PositionUpdated) for item in batch):
                self.app.post_message(messages.PositionsChanged(backend.positions()))
            if any(isinstance(item, OrderUpdated) for item in batch):
                self.app.post_message(messages.OrdersChanged(backend.open_orders()))
            if any(isinstance(item, (WalletUpdated, PositionUpdated)) for item in batch):
                self._post_account()
        for item in batch:
            if isinstance(item, TickerUpdated):
                self._priced.add(item.symbol)
            elif isinstance(item, StreamModeChanged):
                self.app.post_message(messages.ModeChanged(item.mode))
            elif isinstance(item, SettingsChanged):
                self.app.post_message(messages.SettingsApplied(item.settings))
            elif isinstance(item, ConnectionStateChanged):
                self.app.post_message(messages.ConnectionsChanged())
            elif isinstance(item, PositionMarked):
                self._marks[item.symbol] = item
            elif isinstance(item, OrderUpdated):
                if words := self._refusals.first_report(item.order):
                    self.app.post_message(messages.OrderRefused(words))
            elif isinstance(item, ProtectionActed):
                self.app.post_message(messages.ProtectionNoticed(item.symbol, item.action, item.detail))
            elif isinstance(item, CycleFinished):
                self.app.post_message(messages.CycleReported(item.summary))
            else:
                self._market_or_book(item)
        if any(isinstance(item, Alert) for item in batch):
            self.app.post_message(messages.AlertsChanged())
        if any(isinstance(item, RecommendationChanged) for item in batch):
            self.app.post_message(messages.RecommendationsChanged(backend.recommendations()))
        if self._pending() and time.monotonic() - self._last_market >= MARKET_INTERVAL_S:
            self._post_market()

    def _market_or_book(self, item: object) -> None:
        """Day PnL and the watchlist at once; the book, tape and chart are gathered for the next market message."""
        if isinstance(item, DayPnlChanged):
            self.app.post_message(messages.DayPnlUpdated(item.day))
        elif isinstance(item, WatchlistChanged):
            self.app.post_message(messages.WatchlistEdited(item.symbols))
        elif isinstance(item, OrderBookChanged):
            self._market.add(messages.BookMoved)
        elif isinstance(item, TradesChanged):
            self._market.add(messages.TapeMoved)
        elif isinstance(item, KlineUpdated):
            self._market.add(messages.ChartMoved)

    def _pending(self) -> bool:
        return bool(self._marks or self._priced or self._market)

    def _post_account(self) -> None:
        """The header's figures at the current marks (nothing before the wallet is known)."""
        summary = self.backend.account_summary()
        if summary is not None:
            self.app.post_message(messages.AccountChanged(summary))

    def _post_market(self) -> None:
        """The marks (with the account at them), moved prices, book, tape and chart since the last time, if any."""
        self._last_market = time.monotonic()
        if self._marks:
            self.app.post_message(messages.MarksUpdated(list(self._marks.values())))
            self._marks.clear()
            self._post_account()
        for kind in self._market:
            self.app.post_message(kind())
        self._market.clear()
        if self._priced:
            self.app.post_message(messages.PricesMoved(self._priced))
            self._priced = set()
