"""What a console talks to: the one door between a UI (or `listen`, `cycle --once`) and the core.

A console reads snapshots of the account, health and history through a ConsoleBackend and hands it the
trader's intents; it never reaches into the engine, the store or the exchange client. The local backend
(`core/local_backend.py`) runs the core in this process; an attached console will implement the same
surface over Redis (live state, commands) and PostgreSQL (history).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tui_bot.core.bus import Subscription
from tui_bot.core.health import CoreHealth
from tui_bot.core.stats import StatsReport
from tui_bot.domain.events import StreamMode
from tui_bot.domain.intents import LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.market import AccountSummary, DayPnl
from tui_bot.domain.metrics import ConnectionStats, RestStats
from tui_bot.domain.models import Instrument, Order, Position, Wallet
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.requests import OrderAck
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.rows import CycleRow

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


class ConsoleBackend(Protocol):
    """The account, its health and history, and the trader's intents, as a console sees them.

    Reads are synchronous snapshots of state the backend keeps current (a remote one mirrors it);
    acts are awaited and raise what the order path raises (ExchangeError, OrderInvalid) or
    ValueError / BotNotRunning with a message for the trader.
    """

    venue: Venue
    watchlist: list[str]
    has_bot: bool
    """True when the session runs the trading bot (recommendations, cycles)."""

    # -- live state ---------------------------------------------------------------------------------

    def subscribe(self) -> Subscription: ...
    def unsubscribe(self, subscription: Subscription) -> None: ...
    def positions(self) -> dict[str, Position]: ...
    def open_orders(self) -> dict[str, Order]: ...
    def wallet(self) -> Wallet | None: ...
    def mode(self) -> StreamMode: ...
    def account_summary(self) -> AccountSummary | None: ...
    def day_pnl(self) -> DayPnl | None: ...
    def instruments(self) -> Mapping[str, Instrument]: ...
    def last_price(self, symbol: str) -> Decimal | None: ...
    def last_prices(self) -> dict[str, Decimal]: ...
    def recommendations(self) -> list[Recommendation]: ...
    def initial_risk(self, symbol: str) -> Decimal | None: ...
    def settings(self) -> TradingSettings: ...
    def orders_via(self) -> str: ...

    # -- health and history -------------------------------------------------------------------------

    def health(self) -> HealthReport: ...
    async def stats_report(self) -> StatsReport: ...

    # -- intents ------------------------------------------------------------------------------------

    async def place_order(self, intent: PlaceOrderIntent) -> OrderAck: ...
    async def close_position(self, symbol: str) -> OrderAck | None: ...
    async def close_all(self) -> list[OrderAck]: ...
    async def cancel_order(self, symbol: str, order_id: str) -> OrderAck | None: ...
    async def cancel_all(self) -> list[OrderAck]: ...
    async def set_trading_stop(self, intent: TradingStopIntent) -> None: ...
    async def set_leverage(self, intent: LeverageIntent) -> None: ...
    def update_settings(self, changes: dict[str, Any]) -> TradingSettings: ...
    def toggle_setting(self, name: str) -> TradingSettings: ...
    async def approve(self, recommendation_id: str) -> Recommendation: ...
    async def dismiss(self, recommendation_id: str) -> Recommendation: ...
    async def run_cycle(self, trigger: str) -> CycleReport: ...

    async def close(self) -> None: ...
