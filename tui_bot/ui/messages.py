"""Textual messages the bridge posts to the app: one kind per thing that changed."""

from __future__ import annotations

from textual.message import Message

from tui_bot.core.cycle_report import CycleSummary
from tui_bot.core.state import PositionMarked
from tui_bot.domain.events import StreamMode
from tui_bot.domain.market import AccountSummary, DayPnl
from tui_bot.domain.models import Execution, Order, Position
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.trading_settings import TradingSettings


class PositionsChanged(Message):
    """The set of open positions or one of them changed (a snapshot, keyed by symbol)."""

    def __init__(self, positions: dict[str, Position]) -> None:
        super().__init__()
        self.positions = positions


class MarksUpdated(Message):
    """Positions re-marked from tickers (coalesced, at most ~10 per second)."""

    def __init__(self, marks: list[PositionMarked]) -> None:
        super().__init__()
        self.marks = marks


class PricesMoved(Message):
    """Symbols whose last traded price moved since the previous message (coalesced, at most ~10 per second)."""

    def __init__(self, symbols: set[str]) -> None:
        super().__init__()
        self.symbols = symbols


class OrdersChanged(Message):
    """The open orders changed (a snapshot, keyed by order id)."""

    def __init__(self, orders: dict[str, Order]) -> None:
        super().__init__()
        self.orders = orders


class FillsArrived(Message):
    """New executions, oldest first."""

    def __init__(self, executions: list[Execution]) -> None:
        super().__init__()
        self.executions = executions


class AccountChanged(Message):
    """The account at the current marks (on a wallet message, and with every marks message)."""

    def __init__(self, summary: AccountSummary) -> None:
        super().__init__()
        self.summary = summary


class DayPnlUpdated(Message):
    """Realised PnL since 00:00 UTC, from the exchange's transaction log."""

    def __init__(self, day: DayPnl) -> None:
        super().__init__()
        self.day = day


class WatchlistEdited(Message):
    """The watchlist now, in the trader's order."""

    def __init__(self, symbols: tuple[str, ...]) -> None:
        super().__init__()
        self.symbols = symbols


class BookMoved(Message):
    """The selected symbol's order book changed (coalesced, at most ~10 per second)."""


class TapeMoved(Message):
    """The selected symbol's recent trades changed (coalesced)."""


class ChartMoved(Message):
    """The chart's bars changed (coalesced)."""


class ModeChanged(Message):
    def __init__(self, mode: StreamMode) -> None:
        super().__init__()
        self.mode = mode


class SettingsApplied(Message):
    def __init__(self, settings: TradingSettings) -> None:
        super().__init__()
        self.settings = settings


class ConnectionsChanged(Message):
    """A connection changed state: refresh the health panel now rather than at the next tick."""


class RecommendationsChanged(Message):
    """The recommendations shown changed (all of them, oldest first)."""

    def __init__(self, recommendations: list[Recommendation]) -> None:
        super().__init__()
        self.recommendations = recommendations


class CycleReported(Message):
    """The bot finished a cycle (scheduled, `r` or a command): how it ended and why each symbol held."""

    def __init__(self, summary: CycleSummary) -> None:
        super().__init__()
        self.summary = summary


class ProtectionNoticed(Message):
    """The bot protected a position (stop moved, trailing armed, aged position handled)."""

    def __init__(self, symbol: str, action: str, detail: str) -> None:
        super().__init__()
        self.symbol = symbol
        self.action = action
        self.detail = detail


class AlertsChanged(Message):
    """An alert was raised (read the backend's recent and active alerts again)."""


class OrderRefused(Message):
    """The exchange accepted an order, then refused it (post-only would take, IOC/FOK could not fill): its words."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words
