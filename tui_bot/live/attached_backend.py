"""The console backend of `tui-bot --attach URL`: the listener's live state from Redis, acts as bot commands.

Positions, open orders and the wallet are the listener's (LiveState); closing a position is a command to the bot
that holds it and panic goes to every bot (CommandSender). History is read from the store [storage] names, opened
without upgrading it. Each bot's recommendations come from the bot itself (AttachedRecommendations). What Redis does
not carry (market data, settings, manual orders) is refused with one line. Closing this backend closes only its own
connections: the listener and the bots go on running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, cast

from tui_bot.core.bus import Subscription
from tui_bot.core.console_api import (
    ORDER_HISTORY_LIMIT,
    RECENT_FILLS,
    CycleReport,
    HealthReport,
    StoreStatus,
    Venue,
)
from tui_bot.core.cycle_report import CycleSummary
from tui_bot.core.health import CoreHealth, TaskTrouble
from tui_bot.core.history import OrderEntry, TradeHistory, order_history, trade_history
from tui_bot.core.market_view import CHART_INTERVALS
from tui_bot.core.stats import StatsReport, stats_report
from tui_bot.domain.alerts import Alert, PriceAlert
from tui_bot.domain.events import ResyncCompleted, StreamMode
from tui_bot.domain.intents import AmendOrderIntent, LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.market import AccountSummary, BookSnapshot, DayPnl
from tui_bot.domain.metrics import Percentiles
from tui_bot.domain.models import Execution, Instrument, Kline, Order, Position, PublicTrade, Ticker, Wallet
from tui_bot.domain.requests import OrderAck
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.live import keys
from tui_bot.live.attached_recs import AttachedRecommendations
from tui_bot.live.commands import ClosePosition
from tui_bot.live.commands_handlers import one_line
from tui_bot.live.commands_sender import CommandSender
from tui_bot.live.connection import REDIS_ERRORS, connect
from tui_bot.live.reader import LiveState
from tui_bot.store.db import Database

CONSOLE_SENDER = "console"
"""The sender name an attached console's commands carry."""
READY_TIMEOUT_S = 5.0
NOT_ATTACHED = "not available when attached"


class AttachRefused(RuntimeError):
    """Redis gave no snapshot of the listener's state in time (unreachable, or refusing)."""


class AttachedBackend(AttachedRecommendations):
    """ConsoleBackend over Redis (LiveState, CommandSender) and the store read as it is."""

    def __init__(
        self, url: str, venue: Venue, trading: TradingSettings, db_target: str | Path, *, timeout_s: float = 3.0
    ) -> None:
        self.venue = venue
        self._trading = trading
        self._db_target = db_target
        self._db: Database | None = None
        self._live = LiveState(url)
        self._redis = connect(url, decode=True)
        self._sender = CommandSender(url, CONSOLE_SENDER, timeout_s=timeout_s)
        self._subscriptions: list[Subscription] = []
        self._live.listeners.append(self._changed)
        self._follow_recommendations(url)

    async def start(self) -> None:
        """Follow the live state; AttachRefused when the first snapshot does not come in time."""
        await self._live.start()
        await self._recs.start()
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await self._live.ready.wait()
        except TimeoutError:
            await self.close()
            raise AttachRefused(f"no live state from Redis within {READY_TIMEOUT_S:g} s") from None

    def _changed(self, touched: frozenset[str] | None) -> None:
        """Any change of the live state: every subscriber reads the whole account again (it is small)."""
        changed = ResyncCompleted(reason="live state changed", exchange_ts=0, received_ns=time.time_ns())
        for subscription in self._subscriptions:
            subscription.push(changed)

    # -- live state ---------------------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def positions(self) -> dict[str, Position]:
        return {s: p for s, p in self._live.account_positions().items() if p.size}

    def open_orders(self) -> dict[str, Order]:
        return self._live.open_orders()

    def wallet(self) -> Wallet | None:
        return self._live.wallet()

    def bots_holding(self, symbol: str) -> list[str]:
        """The bots whose position in symbol the listener publishes (external: no bot of ours)."""
        return sorted(bot for bot, held in self._live.positions().items() if symbol in held)

    def mode(self) -> StreamMode:
        return StreamMode.STREAM

    def instruments(self) -> Mapping[str, Instrument]:
        return {}

    def last_price(self, symbol: str) -> Decimal | None:
        return None

    def last_prices(self) -> dict[str, Decimal]:
        return {}

    def last_cycle(self) -> CycleSummary | None:
        """None: the bots' cycle summaries are not in Redis (their ideas are)."""
        return None

    def initial_risk(self, symbol: str) -> Decimal | None:
        return None

    def settings(self) -> TradingSettings:
        return self._trading

    def orders_via(self) -> str:
        return "redis"

    # -- market view: not carried by Redis ----------------------------------------------------------

    def watchlist(self) -> tuple[str, ...]:
        return ()

    def ticker(self, symbol: str) -> Ticker | None:
        return None

    def selected_symbol(self) -> str | None:
        return None

    def chart_interval(self) -> str:
        return CHART_INTERVALS[0]

    def book(self, symbol: str, depth: int) -> BookSnapshot | None:
        return None

    def public_trades(self, symbol: str) -> tuple[PublicTrade, ...]:
        return ()

    def candles(self, symbol: str, interval: str) -> tuple[Kline, ...]:
        return ()

    def account_summary(self) -> AccountSummary | None:
        return None

    def day_pnl(self) -> DayPnl:
        zero = Decimal(0)
        return DayPnl(0, zero, zero, zero, zero, 0)

    # -- alerts -------------------------------------------------------------------------------------

    def recent_alerts(self) -> list[Alert]:
        return []

    def active_alerts(self) -> list[Alert]:
        return []

    def price_alerts(self) -> list[PriceAlert]:
        return []

    def add_price_alert(self, symbol: str, level: Decimal) -> PriceAlert:
        _refuse("price alerts")

    def remove_price_alert(self, alert_id: str) -> PriceAlert | None:
        _refuse("price alerts")

    # -- health and history -------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """The listener's heartbeat as a task: dead when its key is gone from Redis."""
        troubles = {}
        if not self._live.listener_alive:
            troubles["listener"] = TaskTrouble(1, "no heartbeat in Redis", int(time.time() * 1000), ended=True)
        empty = Percentiles(0, 0.0, 0.0, 0.0, 0.0)
        core = CoreHealth(empty, {}, {}, troubles)
        return HealthReport({}, None, core, StoreStatus(None, None, 0), StreamMode.STREAM, 0)

    async def _store(self) -> Database:
        from tui_bot.store.db import open_database, sqlite_file

        if self._db is None:
            path = sqlite_file(self._db_target)
            if path is not None and not path.is_file():
                raise ValueError(f"history: no database at {path} (give --db or [storage] url)")
            self._db = await open_database(self._db_target, upgrade=False)
        return self._db

    async def stats_report(self) -> StatsReport:
        from tui_bot.store.repos import load_orders, load_phantoms, load_trades

        conn = await self._store()
        return stats_report(await load_trades(conn, "closed"), await load_orders(conn), await load_phantoms(conn))

    async def trade_history(self) -> TradeHistory:
        from tui_bot.store import history

        conn = await self._store()
        return trade_history(await history.closed_trades(conn), await history.entry_orders(conn))

    async def recent_fills(self, limit: int = RECENT_FILLS) -> tuple[Execution, ...]:
        from tui_bot.store import history

        return tuple(await history.recent_executions(await self._store(), limit))

    async def order_history(self, limit: int = ORDER_HISTORY_LIMIT) -> tuple[OrderEntry, ...]:
        from tui_bot.store import history

        conn = await self._store()
        return order_history(
            await history.recent_orders(conn, limit), await history.recent_rejections(conn, limit), limit
        )

    # -- intents ------------------------------------------------------------------------------------

    async def close_position(self, symbol: str, percent: int = 100) -> OrderAck | None:
        """Tell the bot holding symbol to close percent of it; ValueError with the bot's line unless it did."""
        bots = [bot for bot in self.bots_holding(symbol) if bot != keys.EXTERNAL_BOT]
        if len(bots) != 1:
            who = "no bot of ours holds it" if not bots else f"held by {', '.join(bots)}"
            raise ValueError(f"close {symbol}: {who}; not closable when attached")
        reply = await self._sender.send(bots[0], ClosePosition(symbol, percent))
        if not reply.ok:
            raise ValueError(f"close {symbol}: {reply.line()}")
        return None

    async def close_all(self) -> list[OrderAck]:
        """Panic every bot registered (external is no bot); ValueError with the answers unless every bot did."""
        try:
            registered = await cast("Awaitable[set[str]]", self._redis.smembers(keys.BOTS))
        except REDIS_ERRORS as err:
            raise ValueError(f"panic: no bot told: Redis failed ({one_line(err)})") from None
        report = await self._sender.panic(registered - {keys.EXTERNAL_BOT})
        if report.unsent or report.silent or not all(reply.ok for reply in report.replies):
            raise ValueError(report.line())
        return []

    async def place_order(self, intent: PlaceOrderIntent) -> OrderAck:
        _refuse("manual orders")

    async def amend_order(self, intent: AmendOrderIntent) -> OrderAck:
        _refuse("amending orders")

    async def cancel_order(self, symbol: str, order_id: str) -> OrderAck | None:
        _refuse("cancelling orders")

    async def cancel_all(self) -> list[OrderAck]:
        _refuse("cancelling orders")

    async def set_trading_stop(self, intent: TradingStopIntent) -> None:
        _refuse("setting TP/SL")

    async def set_leverage(self, intent: LeverageIntent) -> None:
        _refuse("setting leverage")

    async def leverage_now(self, symbol: str) -> Decimal:
        _refuse("leverage")

    def update_settings(self, changes: dict[str, Any]) -> TradingSettings:
        _refuse("trading settings")

    def toggle_setting(self, name: str) -> TradingSettings:
        _refuse("trading settings")

    async def run_cycle(self, trigger: str) -> CycleReport:
        _refuse("analysis cycles")

    async def select_symbol(self, symbol: str | None) -> None:
        _refuse("market data")

    async def set_chart_interval(self, interval: str) -> None:
        _refuse("charts")

    def add_to_watchlist(self, symbol: str) -> tuple[str, ...]:
        _refuse("the watchlist")

    def remove_from_watchlist(self, symbol: str) -> tuple[str, ...]:
        _refuse("the watchlist")

    async def close(self) -> None:
        """Close this console's connections only (the listener and the bots go on)."""
        self._subscriptions.clear()
        await self._live.close()
        await self._recs.close()
        await self._sender.close()
        await self._redis.aclose()
        if self._db is not None:
            await self._db.close()


def _refuse(what: str) -> NoReturn:
    raise ValueError(f"{what}: {NOT_ATTACHED}")


class AttachedBackendOpener:
    """How `tui-bot --attach URL` opens the console's backend: attached to the listener's Redis at url."""

    def __init__(self, url: str, venue: Venue, trading: TradingSettings, db_target: str | Path) -> None:
        self.url, self.venue, self.trading, self.db_target = url, venue, trading, db_target

    async def __call__(self) -> AttachedBackend:
        backend = AttachedBackend(self.url, self.venue, self.trading, self.db_target)
        await backend.start()
        return backend
