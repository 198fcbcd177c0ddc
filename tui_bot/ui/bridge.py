"""The one worker between the backend's subscription and the app: market data at most 10 Hz, everything else at once."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from textual.app import App

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.core.settings import SettingsChanged
from tui_bot.core.state import PositionMarked
from tui_bot.domain.enums import ExecType
from tui_bot.domain.events import (
    ConnectionStateChanged,
    ExecutionReceived,
    OrderUpdated,
    PositionUpdated,
    ProtectionActed,
    RecommendationChanged,
    ResyncCompleted,
    StreamModeChanged,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.models import Execution
from tui_bot.ui import messages

MARKET_INTERVAL_S = 0.1


DAY_MS = 86_400_000


def realised_part(execution: Execution) -> Decimal:
    """What one execution adds to realised PnL: closing PnL (trades only) minus its fee or funding."""
    pnl = execution.exec_pnl if execution.exec_type is ExecType.TRADE else Decimal(0)
    return pnl - execution.exec_fee


class RealisedToday:
    """Running realised PnL since 00:00 UTC; resets when the day changes."""

    def __init__(self) -> None:
        self.day = -1
        self.total = Decimal(0)

    def add(self, executions: list[Execution], now_ms: int) -> Decimal:
        """Fold in today's executions (older ones are ignored) and return the day's total."""
        day = now_ms // DAY_MS
        if day != self.day:
            self.day, self.total = day, Decimal(0)
        start = day * DAY_MS
        self.total += sum((realised_part(e) for e in executions if e.exec_time >= start), Decimal(0))
        return self.total


class EngineBridge:
    """Turns the backend's change batches into app messages; keeps today's fills for the realised-PnL figure."""

    def __init__(self, app: App[Any], backend: ConsoleBackend) -> None:
        self.app = app
        self.backend = backend
        self.today = RealisedToday()
        self._marks: dict[str, PositionMarked] = {}
        self._priced: set[str] = set()
        self._last_market = 0.0

    async def run(self) -> None:
        sub = self.backend.subscribe()
        self.post_snapshot()
        try:
            while True:
                timeout = None
                if self._marks or self._priced:
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

    def post_snapshot(self) -> None:
        """Everything at once (on start and after a resync)."""
        backend = self.backend
        self.app.post_message(messages.PositionsChanged(backend.positions()))
        self.app.post_message(messages.OrdersChanged(backend.open_orders()))
        wallet = backend.wallet()
        if wallet is not None:
            self.app.post_message(messages.WalletChanged(wallet, self.today.add([], int(time.time() * 1000))))
        self.app.post_message(messages.ModeChanged(backend.mode()))
        self.app.post_message(messages.RecommendationsChanged(backend.recommendations()))

    def dispatch(self, batch: list[object]) -> None:
        """Post one message per kind of change in the batch; marks and prices only every MARKET_INTERVAL_S."""
        backend = self.backend
        fills = [item.execution for item in batch if isinstance(item, ExecutionReceived)]
        realised = self.today.add(fills, int(time.time() * 1000))
        if fills:
            self.app.post_message(messages.FillsArrived(fills))
        if any(isinstance(item, (ResyncCompleted,)) for item in batch):
            self.post_snapshot()
        else:
            if any(isinstance(item, PositionUpdated) for item in batch):
                self.app.post_message(messages.PositionsChanged(backend.positions()))
            if any(isinstance(item, OrderUpdated) for item in batch):
                self.app.post_message(messages.OrdersChanged(backend.open_orders()))
            wallet = backend.wallet()
            if (fills or any(isinstance(item, WalletUpdated) for item in batch)) and wallet is not None:
                self.app.post_message(messages.WalletChanged(wallet, realised))
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
            elif isinstance(item, ProtectionActed):
                self.app.post_message(messages.ProtectionNoticed(item.symbol, item.action, item.detail))
        if any(isinstance(item, RecommendationChanged) for item in batch):
            self.app.post_message(messages.RecommendationsChanged(backend.recommendations()))
        if (self._marks or self._priced) and time.monotonic() - self._last_market >= MARKET_INTERVAL_S:
            self._post_market()

    def _post_market(self) -> None:
        """The marks and the symbols whose price moved, gathered since the last time (one message each, if any)."""
        self._last_market = time.monotonic()
        if self._marks:
            self.app.post_message(messages.MarksUpdated(list(self._marks.values())))
            self._marks.clear()
        if self._priced:
            self.app.post_message(messages.PricesMoved(self._priced))
            self._priced = set()
