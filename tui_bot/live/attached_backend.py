"""The console backend of `tui-bot --attach URL`: the listener's live state from Redis, acts as bot commands.

Positions, open orders, the wallet and today's PnL are the listener's (LiveState), each change handed to the console
as events for only what it touched (the header's figures summed as the local console sums them); every bot of the
account is visible (BotsView: holders, heartbeats, PnL per bot). Closing a bot's position is a command to that bot
and panic goes to every bot (CommandSender); manual orders go out under the console's own id (AttachedOrders); each
bot's recommendations come from the bot itself (AttachedRecommendations); new fills from the listener's fills stream
(FillsFollower). History is read from the store [storage] names, opened without upgrading it. What none of them
carries (market view, settings, cycles) is refused with one line. Closing this backend closes only its own
connections: the listener and the bots go on running.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tui_bot.core.account_summary import summary_of
from tui_bot.core.bus import Subscription
from tui_bot.core.console_api import (
    ORDER_HISTORY_LIMIT,
    RECENT_FILLS,
    BotSummary,
    CycleReport,
    HealthReport,
    Heartbeat,
    StoreStatus,
    Venue,
)
from tui_bot.core.cycle_report import CycleSummary
from tui_bot.core.health import CoreHealth, TaskTrouble
from tui_bot.core.history import OrderEntry, TradeHistory, order_history, trade_history
from tui_bot.core.market_view import CHART_INTERVALS
from tui_bot.core.stats import StatsReport, stats_report
from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.alerts import Alert, PriceAlert
from tui_bot.domain.events import OrderUpdated, PositionUpdated, ResyncCompleted, StreamMode, WalletUpdated
from tui_bot.domain.market import AccountSummary, BookSnapshot, DayPnl, DayPnlChanged
from tui_bot.domain.metrics import Percentiles, wall_ms
from tui_bot.domain.models import Execution, Kline, Order, Position, PublicTrade, Wallet
from tui_bot.domain.numbers import ZERO
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.live import keys
from tui_bot.live.attached_bots import BotWatch, RealisedPnl, summaries
from tui_bot.live.attached_orders import AttachedOrders, OrderPathOpener, refuse
from tui_bot.live.attached_recs import AttachedRecommendations
from tui_bot.live.commands_sender import CommandSender
from tui_bot.live.connection import connect
from tui_bot.live.fills_cursor import FillsFollower
from tui_bot.live.reader import LiveState
from tui_bot.store.db import Database
from tui_bot.store.rows import Trade

CONSOLE_SENDER = "console"
"""The sender name an attached console's commands carry, and the bot part of its orders' orderLinkIds."""
READY_TIMEOUT_S = 5.0


class AttachRefused(RuntimeError):
    """Redis gave no snapshot of the listener's state in time (unreachable, or refusing)."""


class AttachedBackend(AttachedOrders, AttachedRecommendations):
    """ConsoleBackend and BotsView over Redis (LiveState, CommandSender), the store read as it is, manual orders
    through the console's own order path (when it has one) and the bots' recommendations from their own keys."""

    def __init__(
        self,
        url: str,
        venue: Venue,
        trading: TradingSettings,
        db_target: str | Path,
        *,
        timeout_s: float = 3.0,
        orders: OrderPathOpener | None = None,
        watch: tuple[str, ...] = (),
    ) -> None:
        self.venue = venue
        self.console_id = CONSOLE_SENDER
        self._trading = trading
        self._db_target = db_target
        self._db: Database | None = None
        self._live = LiveState(url)
        self._redis = connect(url, decode=True)
        self._sender = CommandSender(url, CONSOLE_SENDER, timeout_s=timeout_s)
        self._subscriptions: list[Subscription] = []
        self._live.listeners.append(self._changed)
        self._bots = BotWatch(self._redis, self._live, self.console_id)
        self._realised = RealisedPnl(self._closed_trades)
        self._shown_orders: dict[str, Order] = {}
        self._held: frozenset[str] = frozenset()
        self._order_path, self._watch = orders, watch
        self._orders = None
        self._orders_refused = "no API keys for the venue"
        self._tasks: list[asyncio.Task[None]] = []
        self._fills = FillsFollower(self._redis, self._push)
        self._follow_recommendations(url)

    async def start(self) -> None:
        """Follow the live state and the bots; AttachRefused when the first snapshot does not come in time."""
        await self._live.start()
        await self._recs.start()
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                await self._live.ready.wait()
        except TimeoutError:
            await self.close()
            raise AttachRefused(f"no live state from Redis within {READY_TIMEOUT_S:g} s") from None
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._bots.run(), name="attached-bots"))
        self._tasks.append(loop.create_task(self._fills.run(), name="attached-fills"))
        await self._open_orders(self._order_path)

    def _changed(self, touched: frozenset[str] | None) -> None:
        """A change of the live state as events for what it touched: positions, orders, wallet (a new snapshot:
        everything)."""
        self._push(self._events(touched))
        self._shown_orders = self._live.open_orders()
        if touched is None or keys.FILLS_STREAM in touched:
            self._fills.due()
        held = frozenset(self._live.account_positions())
        if held != self._held:
            if self._held - held:
                self._realised.stale()
            self._held = held
            if self._orders is not None:
                self._tasks = [task for task in self._tasks if not task.done()]
                self._tasks.append(asyncio.get_running_loop().create_task(self.follow_tickers()))

    def _push(self, events: list[object]) -> None:
        for subscription in self._subscriptions:
            for event in events:
                subscription.push(event)

    def _events(self, touched: frozenset[str] | None) -> list[object]:
        """What the console re-reads after a change: each touched position, order and the wallet."""
        now = time.time_ns()
        if touched is None:
            self._realised.stale()
            return [ResyncCompleted(reason="live state snapshot", exchange_ts=0, received_ns=now)]
        events: list[object] = []
        marked = {parsed[1] for key in touched if (parsed := keys.parse_position(key)) is not None}
        if marked or keys.ACCOUNT_POSITIONS in touched:
            positions = self._live.account_positions()
            symbols = marked | (set(positions) | self._held if keys.ACCOUNT_POSITIONS in touched else set())
            shown = [positions.get(s) or Position(symbol=s) for s in symbols]  # a closed one: flat
            events += [PositionUpdated(position=p, exchange_ts=0, received_ns=now) for p in shown]
        if keys.ACCOUNT_ORDERS in touched:
            orders = self._live.open_orders()
            gone = [o for oid, o in self._shown_orders.items() if oid not in orders]
            events += [OrderUpdated(order=o, exchange_ts=0, received_ns=now) for o in [*orders.values(), *gone]]
        if keys.ACCOUNT_WALLET in touched and (wallet := self._live.wallet()) is not None:
            events.append(WalletUpdated(wallet=wallet, exchange_ts=0, received_ns=now))
        if keys.ACCOUNT_DAY_PNL in touched:
            events.append(DayPnlChanged(day=self.day_pnl(), exchange_ts=0, received_ns=now))
        return events

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

    # -- the bots (BotsView) ------------------------------------------------------------------------

    def bot_ids(self) -> list[str]:
        return self._bots.bot_ids()

    def heartbeats(self, now_ms: int) -> list[Heartbeat]:
        return self._bots.heartbeats(now_ms)

    async def bot_summaries(self) -> list[BotSummary]:
        """Each bot's open positions and uPnL (live) beside its closed trades' PnL as `tui-bot stats` sums it."""
        return summaries(self.bot_ids(), self._live, await self._realised.outcomes(), wall_ms())

    async def _closed_trades(self) -> list[Trade]:
        from tui_bot.store.repos import load_trades

        return await load_trades(await self._store(), "closed")

    def mode(self) -> StreamMode:
        return StreamMode.STREAM

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
        """The listener's wallet and positions at the marks it published, summed as the local console sums them."""
        return summary_of(self._live.wallet(), self._live.account_positions().values())

    def day_pnl(self) -> DayPnl:
        """The listener's figure from the exchange's log; before it published one, a figure never read (as_of 0)."""
        return self._live.day_pnl() or DayPnl(0, ZERO, ZERO, ZERO, ZERO, 0)

    # -- alerts -------------------------------------------------------------------------------------

    def recent_alerts(self) -> list[Alert]:
        return []

    def active_alerts(self) -> list[Alert]:
        return []

    def price_alerts(self) -> list[PriceAlert]:
        return []

    def add_price_alert(self, symbol: str, level: Decimal) -> PriceAlert:
        refuse("price alerts")

    def remove_price_alert(self, alert_id: str) -> PriceAlert | None:
        refuse("price alerts")

    # -- health and history -------------------------------------------------------------------------

    def health(self) -> HealthReport:
        """The listener's heartbeat as a task (dead when its key is gone from Redis); the console's own order path's
        public streams and REST when it has one."""
        troubles = {}
        if not self._live.listener_alive:
            troubles["listener"] = TaskTrouble(1, "no heartbeat in Redis", int(time.time() * 1000), ended=True)
        empty = Percentiles(0, 0.0, 0.0, 0.0, 0.0)
        core = CoreHealth(empty, {}, {}, troubles)
        client = self._orders.client if self._orders is not None else None
        streams = client.connection_stats() if client is not None else {}
        rest = client.rest_stats() if client is not None else None
        return HealthReport(streams, rest, core, StoreStatus(None, None, 0), StreamMode.STREAM, 0)

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

    def update_settings(self, changes: dict[str, Any]) -> TradingSettings:
        refuse("trading settings")

    def toggle_setting(self, name: str) -> TradingSettings:
        refuse("trading settings")

    async def run_cycle(self, trigger: str) -> CycleReport:
        refuse("analysis cycles")

    async def select_symbol(self, symbol: str | None) -> None:
        refuse("market data")

    async def set_chart_interval(self, interval: str) -> None:
        refuse("charts")

    def add_to_watchlist(self, symbol: str) -> tuple[str, ...]:
        refuse("the watchlist")

    def remove_from_watchlist(self, symbol: str) -> tuple[str, ...]:
        refuse("the watchlist")

    async def close(self) -> None:
        """Close this console's connections only (the listener and the bots go on)."""
        self._subscriptions.clear()
        await cancel_and_wait(self._tasks, raise_errors=False)
        await self.close_orders()
        await self._live.close()
        await self._recs.close()
        await self._sender.close()
        await self._redis.aclose()
        if self._db is not None:
            await self._db.close()


class AttachedBackendOpener:
    """How `tui-bot --attach URL` opens the console's backend: attached to the listener's Redis at url."""

    def __init__(
        self,
        url: str,
        venue: Venue,
        trading: TradingSettings,
        db_target: str | Path,
        *,
        orders: OrderPathOpener | None = None,
        watch: tuple[str, ...] = (),
    ) -> None:
        self.url, self.venue, self.trading, self.db_target = url, venue, trading, db_target
        self.orders, self.watch = orders, watch

    async def __call__(self) -> AttachedBackend:
        backend = AttachedBackend(
            self.url, self.venue, self.trading, self.db_target, orders=self.orders, watch=self.watch
        )
        await backend.start()
        return backend
