"""What a console talks to: the one door between a UI (or `listen`, `cycle --once`) and the core.

A console reads snapshots of the account, health and history through a ConsoleBackend and hands it the
trader's intents; it never reaches into the engine, the store or the exchange client. The local backend
(`core/local_backend.py`) runs the core in this process; an attached console will implement the same
surface over Redis (live state, commands) and PostgreSQL (history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from tui_bot.core.bus import Subscription
from tui_bot.core.cycle_report import CycleSummary
from tui_bot.core.health import CoreHealth
from tui_bot.core.history import OrderEntry, TradeHistory
from tui_bot.core.stats import StatsReport
from tui_bot.domain.alerts import Alert, PriceAlert
from tui_bot.domain.events import StreamMode
from tui_bot.domain.intents import AmendOrderIntent, LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.market import AccountSummary, BookSnapshot, DayPnl
from tui_bot.domain.metrics import ConnectionStats, RestStats
from tui_bot.domain.models import Execution, Instrument, Kline, Order, Position, PublicTrade, Ticker, Wallet
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.requests import OrderAck
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.rows import CycleRow

ORDER_HISTORY_LIMIT = 500
"""How many of the newest orders the order history shows."""

RECENT_FILLS = 200
"""How many of the newest stored fills the console shows at start (the Fills table's own cap)."""

CycleReport = CycleRow
"""What running the analysis cycle reports: the cycle's record (status, idea counts, why it skipped)."""


class BotNotRunning(RuntimeError):
    """A recommendation or cycle intent reached a backend whose session runs no trading bot."""


@dataclass(frozen=True, slots=True)
class Venue:
    """Where the account trades: the badge text (SIM, DEMO, TESTNET, LIVE, ...) and whether it is real money."""

    label: str
    live_money: bool


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store's writer as health shows it: since when (epoch s) writes fail and why, and what waits."""

    stalled_since: float | None
    error: str | None
    pending: int


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One look at everything health shows: connections, REST, the core's own timings, the store, tasks."""

    connections: dict[str, ConnectionStats]
    rest: RestStats | None
    core: CoreHealth
    store: StoreStatus
    mode: StreamMode
    executions_known: int

    def task_lines(self, now_ms: int) -> list[str]:
        """One line per background task failing of late or ended (empty when all are well)."""
        return self.core.task_lines(now_ms)

    def topic_age_ms(self, topic: str, now_ns: int) -> float | None:
        """Milliseconds since the last frame of topic on the connection that carries it (None: none arrived)."""
        ages = [age for s in self.connections.values() if (age := s.topic_age_ms(topic, now_ns)) is not None]
        return min(ages) if ages else None

    def stale_topics(self, topics: Iterable[str], now_ns: int, after_ms: float) -> dict[str, float]:
        """The topics (of those given) whose last frame is older than after_ms, with its age in ms."""
        ages = {topic: self.topic_age_ms(topic, now_ns) for topic in topics}
        return {topic: age for topic, age in ages.items() if age is not None and age > after_ms}


class ConsoleBackend(Protocol):
    """The account, its health and history, and the trader's intents, as a console sees them.

    Reads are synchronous snapshots of state the backend keeps current (a remote one mirrors it);
    acts are awaited and raise what the order path raises (ExchangeError, OrderInvalid) or
    ValueError / BotNotRunning with a message for the trader.
    """

    venue: Venue
    has_bot: bool
    """True when the session runs the trading bot (recommendations, cycles)."""

    # -- live state ---------------------------------------------------------------------------------

    def subscribe(self) -> Subscription: ...
    def unsubscribe(self, subscription: Subscription) -> None: ...
    def positions(self) -> dict[str, Position]: ...
    def open_orders(self) -> dict[str, Order]: ...
    def wallet(self) -> Wallet | None: ...
    def mode(self) -> StreamMode: ...
    def instruments(self) -> Mapping[str, Instrument]: ...
    def last_price(self, symbol: str) -> Decimal | None: ...
    def last_prices(self) -> dict[str, Decimal]: ...
    def recommendations(self) -> list[Recommendation]: ...
    def held_reasons(self) -> dict[str, tuple[str, ...]]: ...  # latest cycle: symbol -> "strategy: why HOLD"
    def last_cycle(self) -> CycleSummary | None: ...  # how the latest cycle (any trigger) ended; None before one
    def initial_risk(self, symbol: str) -> Decimal | None: ...
    def settings(self) -> TradingSettings: ...
    def orders_via(self) -> str: ...

    # -- market view (the selected symbol's ticker, book, tape and chart; the account at the marks) ---

    def watchlist(self) -> tuple[str, ...]: ...
    def ticker(self, symbol: str) -> Ticker | None: ...
    def selected_symbol(self) -> str | None: ...
    def chart_interval(self) -> str: ...
    def book(self, symbol: str, depth: int) -> BookSnapshot | None: ...
    def public_trades(self, symbol: str) -> tuple[PublicTrade, ...]: ...
    def candles(self, symbol: str, interval: str) -> tuple[Kline, ...]: ...
    def account_summary(self) -> AccountSummary | None: ...
    def day_pnl(self) -> DayPnl: ...

    # -- alerts (health, trading and the trader's price alerts) ---------------------------------------

    def recent_alerts(self) -> list[Alert]: ...
    def active_alerts(self) -> list[Alert]: ...
    def price_alerts(self) -> list[PriceAlert]: ...
    def add_price_alert(self, symbol: str, level: Decimal) -> PriceAlert: ...
    def remove_price_alert(self, alert_id: str) -> PriceAlert | None: ...

    # -- health and history -------------------------------------------------------------------------

    def health(self) -> HealthReport: ...
    async def stats_report(self) -> StatsReport: ...
    async def trade_history(self) -> TradeHistory: ...
    async def order_history(self, limit: int = ORDER_HISTORY_LIMIT) -> tuple[OrderEntry, ...]: ...
    async def recent_fills(self, limit: int = RECENT_FILLS) -> tuple[Execution, ...]: ...  # stored, newest first

    # -- intents ------------------------------------------------------------------------------------

    async def place_order(self, intent: PlaceOrderIntent) -> OrderAck: ...
    async def amend_order(self, intent: AmendOrderIntent) -> OrderAck: ...
    async def close_position(self, symbol: str, percent: int = 100) -> OrderAck | None: ...
    async def close_all(self) -> list[OrderAck]: ...
    async def cancel_order(self, symbol: str, order_id: str) -> OrderAck | None: ...
    async def cancel_all(self) -> list[OrderAck]: ...
    async def set_trading_stop(self, intent: TradingStopIntent) -> None: ...
    async def set_leverage(self, intent: LeverageIntent) -> None: ...
    async def leverage_now(self, symbol: str) -> Decimal: ...  # the exchange's, flat symbols too
    def update_settings(self, changes: dict[str, Any]) -> TradingSettings: ...
    def toggle_setting(self, name: str) -> TradingSettings: ...
    async def approve(self, recommendation_id: str) -> Recommendation: ...
    async def dismiss(self, recommendation_id: str) -> Recommendation: ...
    async def run_cycle(self, trigger: str) -> CycleReport: ...
    async def select_symbol(self, symbol: str | None) -> None: ...
    async def set_chart_interval(self, interval: str) -> None: ...
    def add_to_watchlist(self, symbol: str) -> tuple[str, ...]: ...
    def remove_from_watchlist(self, symbol: str) -> tuple[str, ...]: ...

    async def close(self) -> None: ...


# -- several bots on one account: what a console attached to a listener adds (a one-bot backend has none) ----------


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A process's heartbeat as last read: whose (the listener, a bot id) and how long ago it beat (None: gone)."""

    name: str
    age_ms: int | None


@dataclass(frozen=True, slots=True)
class BotSummary:
    """One bot on the account: open positions and their uPnL (live), closed trades and realised PnL (stored)."""

    bot: str
    positions: int
    upnl: Decimal
    trades: int
    realised_today: Decimal
    realised_total: Decimal


@runtime_checkable
class BotsView(Protocol):
    """The bots of one account as a console attached to its listener sees them."""

    def bot_ids(self) -> list[str]: ...  # every bot known to the listener, sorted
    def bots_holding(self, symbol: str) -> list[str]: ...
    def heartbeats(self, now_ms: int) -> list[Heartbeat]: ...  # the listener first, then each bot
    async def bot_summaries(self) -> list[BotSummary]: ...
