"""The console backend of a core running in this process: its engine's state, its services, its store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from tui_bot.core import activity
from tui_bot.core.alerts import AlertService
from tui_bot.core.bot import TradingBot
from tui_bot.core.bus import Subscription
from tui_bot.core.console_api import (
    ORDER_HISTORY_LIMIT,
    RECENT_FILLS,
    BotNotRunning,
    CycleReport,
    HealthReport,
    StoreStatus,
    Venue,
)
from tui_bot.core.cycle_report import CycleSummary
from tui_bot.core.engine import Engine
from tui_bot.core.history import OrderEntry, TradeHistory, order_history, trade_history
from tui_bot.core.manual_orders import amend_intent, place_intent, trading_stop_intent
from tui_bot.core.market_view import MarketView
from tui_bot.core.orders import OrderService
from tui_bot.core.protection import Protection
from tui_bot.core.settings import SettingsService
from tui_bot.core.stats import StatsReport, stats_report
from tui_bot.domain.alerts import Alert, PriceAlert
from tui_bot.domain.events import StreamMode
from tui_bot.domain.intents import AmendOrderIntent, LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.market import AccountSummary, BookSnapshot, DayPnl
from tui_bot.domain.models import Execution, Instrument, Kline, Order, Position, PublicTrade, Ticker, Wallet
from tui_bot.domain.recommendations import Recommendation
from tui_bot.domain.requests import OrderAck
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store import history
from tui_bot.store.db import Database
from tui_bot.store.repos import load_orders, load_phantoms, load_trades
from tui_bot.store.writer import StoreWriter


class LocalConsoleBackend:
    """ConsoleBackend over the runtime's parts: reads the engine, acts through the order, settings and bot
    services, queries the store's connection for history; close() closes the whole runtime."""

    def __init__(
        self,
        engine: Engine,
        orders: OrderService,
        trading: SettingsService,
        writer: StoreWriter,
        conn: Database,
        *,
        market: MarketView,
        bot: TradingBot | None,
        protection: Protection | None,
        close: Callable[[], Awaitable[None]],
        alerts: AlertService | None = None,
    ) -> None:
        self._engine = engine
        self._orders = orders
        self._trading = trading
        self._writer = writer
        self._conn = conn
        self._market = market
        self._bot = bot
        self._protection = protection
        self._alerts = alerts
        self._close = close
        self.venue = Venue(engine.client.label, engine.client.live_money)
        self.has_bot = bot is not None

    # -- live state ---------------------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        """Every change the core publishes from now on (market data coalesced), in order."""
        return self._engine.bus.subscribe()

    def unsubscribe(self, subscription: Subscription) -> None:
        self._engine.bus.unsubscribe(subscription)

    def positions(self) -> dict[str, Position]:
        """The positions now (frozen values: a later mark or update replaces them in the engine, never changes them)."""
        return dict(self._engine.state.positions)

    def open_orders(self) -> dict[str, Order]:
        """The open orders now (frozen values, as positions)."""
        return dict(self._engine.state.open_orders)

    def wallet(self) -> Wallet | None:
        return self._engine.state.wallet

    def mode(self) -> StreamMode:
        return self._engine.mode

    def instruments(self) -> Mapping[str, Instrument]:
        return self._engine.state.instruments

    def last_price(self, symbol: str) -> Decimal | None:
        return self._engine.state.last_price(symbol)

    def last_prices(self) -> dict[str, Decimal]:
        """The last traded price of every symbol with a ticker so far."""
        return {s: t.last_price for s, t in self._engine.state.tickers.items() if t.last_price}

    def recommendations(self) -> list[Recommendation]:
        """The recommendations shown (pending ones and the latest decided), oldest first."""
        return list(self._bot.recommendations.values()) if self._bot is not None else []

    def held_reasons(self) -> dict[str, tuple[str, ...]]:
        """Why each symbol got no idea in the latest cycle: "strategy: reason" per HOLD answer ({} without a bot)."""
        held = self._bot.analysis.held if self._bot is not None else {}
        return {symbol: tuple(reasons) for symbol, reasons in held.items()}

    def last_cycle(self) -> CycleSummary | None:
        """The latest cycle's summary (scheduled, `r` or a command), with its HOLD reasons (None before one)."""
        return self._bot.last_cycle if self._bot is not None else None

    def initial_risk(self, symbol: str) -> Decimal | None:
        """R of a position (entry to its first stop) as protection measured it, once known."""
        return self._protection.initial_risk(symbol) if self._protection is not None else None

    def settings(self) -> TradingSettings:
        return self._trading.current

    def orders_via(self) -> str:
        return self._orders.via

    # -- market view ------------------------------------------------------------------------------

    def watchlist(self) -> tuple[str, ...]:
        """The watchlist as the market view keeps it (persisted), in the trader's order."""
        return self._market.watchlist_symbols()

    def ticker(self, symbol: str) -> Ticker | None:
        """The latest ticker of a streamed symbol (watchlist, positions, the selected one)."""
        live = self._engine.state.tickers.get(symbol)
        return live.to_ticker() if live is not None else None

    def selected_symbol(self) -> str | None:
        return self._market.selected

    def chart_interval(self) -> str:
        return self._market.chart_interval

    def book(self, symbol: str, depth: int) -> BookSnapshot | None:
        return self._market.book(symbol, depth)

    def public_trades(self, symbol: str) -> tuple[PublicTrade, ...]:
        """Recent trades of the selected symbol, newest first."""
        return self._market.trades(symbol)

    def candles(self, symbol: str, interval: str) -> tuple[Kline, ...]:
        return self._market.candles(symbol, interval)

    def account_summary(self) -> AccountSummary | None:
        return self._market.account_summary()

    def day_pnl(self) -> DayPnl:
        return self._market.day_pnl()

    # -- alerts -----------------------------------------------------------------------------------

    def recent_alerts(self) -> list[Alert]:
        """The latest alerts raised this session, oldest first (none when the session raises none)."""
        return self._alerts.recent() if self._alerts is not None else []

    def active_alerts(self) -> list[Alert]:
        """The alert of each condition that holds now, oldest first."""
        return self._alerts.active() if self._alerts is not None else []

    def price_alerts(self) -> list[PriceAlert]:
        """The armed price alerts, oldest first."""
        return self._alerts.price_alerts() if self._alerts is not None else []

    def add_price_alert(self, symbol: str, level: Decimal) -> PriceAlert:
        """Arm a price alert at level (above or below from the last price); PriceAlertInvalid says why not."""
        return self._running_alerts().add_price_alert(symbol, level)

    def remove_price_alert(self, alert_id: str) -> PriceAlert | None:
        return self._running_alerts().remove_price_alert(alert_id)

    def _running_alerts(self) -> AlertService:
        if self._alerts is None:
            raise ValueError("alerts are not raised in this session")
        return self._alerts

    # -- health and history -------------------------------------------------------------------------

    def health(self) -> HealthReport:
        client, writer = self._engine.client, self._writer
        return HealthReport(
            client.connection_stats(),
            client.rest_stats(),
            self._engine.health.snapshot(),
            StoreStatus(writer.stalled_since, writer.stall_error, writer.pending),
            self._engine.mode,
            len(self._engine.state.exec_ids),
        )

    async def stats_report(self) -> StatsReport:
        """Closed trades and phantoms as stored, with the figures worked out, the bot's win-rate guard and its
        learned score (status and calibration)."""
        conn = self._conn
        report = stats_report(await load_trades(conn, "closed"), await load_orders(conn), await load_phantoms(conn))
        if self._bot is None:
            return report
        guard = self._bot.guard.lines(self._engine.client.now_ms())
        return replace(report, guard=guard, ml=await self._bot.ml.report())

    async def trade_history(self) -> TradeHistory:
        """Closed trades as stored (newest first) with net PnL, R and reason, and their PnL by UTC day."""
        return trade_history(await history.closed_trades(self._conn), await history.entry_orders(self._conn))

    async def order_history(self, limit: int = ORDER_HISTORY_LIMIT) -> tuple[OrderEntry, ...]:
        """The newest orders the exchange holds or held (any status) and those it refused when sent, newest first."""
        conn = self._conn
        return order_history(
            await history.recent_orders(conn, limit), await history.recent_rejections(conn, limit), limit
        )

    async def recent_fills(self, limit: int = RECENT_FILLS) -> tuple[Execution, ...]:
        """The newest stored fills, newest first (the Fills table starts with them after a restart)."""
        return tuple(await history.recent_executions(self._conn, limit))

    # -- intents ------------------------------------------------------------------------------------

    async def place_order(self, intent: PlaceOrderIntent) -> OrderAck:
        """Set the ticket's leverage first when it names one (a refusal sends nothing), then the order."""
        return await place_intent(self._orders, intent)

    async def amend_order(self, intent: AmendOrderIntent) -> OrderAck:
        """Change a working order's price and/or qty (by its orderId; its orderLinkId resolves a lost answer)."""
        return await amend_intent(self._orders, intent)

    async def close_position(self, symbol: str, percent: int = 100) -> OrderAck | None:
        """Close percent of the position (rounded down to the qty step) with a reduce-only market order."""
        return await self._orders.close_position(symbol, percent=percent)

    async def close_all(self) -> list[OrderAck]:
        return await self._orders.close_all()

    async def cancel_order(self, symbol: str, order_id: str) -> OrderAck | None:
        return await self._orders.cancel(symbol, order_id)

    async def cancel_all(self) -> list[OrderAck]:
        return await self._orders.cancel_all()

    async def set_trading_stop(self, intent: TradingStopIntent) -> None:
        await trading_stop_intent(self._orders, intent)

    async def set_leverage(self, intent: LeverageIntent) -> None:
        await self._orders.set_leverage(intent.symbol, intent.leverage)

    async def leverage_now(self, symbol: str) -> Decimal:
        """The symbol's leverage as the exchange has it (position/list by symbol answers for a flat one too)."""
        return (await self._engine.client.fetch_position(symbol)).leverage

    def update_settings(self, changes: dict[str, Any]) -> TradingSettings:
        """Validate and apply all changes or none (SettingsRejected names each bad field)."""
        return self._trading.update(changes)

    def toggle_setting(self, name: str) -> TradingSettings:
        return self._trading.toggle(name)

    def _running_bot(self) -> TradingBot:
        if self._bot is None:
            raise BotNotRunning("the trading bot is not running in this session")
        return self._bot

    async def approve(self, recommendation_id: str) -> Recommendation:
        rec = await self._running_bot().approve(recommendation_id)
        activity.decided(rec, "approved")
        return rec

    async def dismiss(self, recommendation_id: str) -> Recommendation:
        rec = self._running_bot().dismiss(recommendation_id)
        activity.decided(rec, "dismissed")
        return rec

    async def run_cycle(self, trigger: str) -> CycleReport:
        return await self._running_bot().run_cycle(trigger)

    async def select_symbol(self, symbol: str | None) -> None:
        """Stream this symbol's ticker, book, tape and chart (None: none); UnknownSymbol when not listed."""
        await self._market.select_symbol(symbol)

    async def set_chart_interval(self, interval: str) -> None:
        await self._market.set_chart_interval(interval)

    def add_to_watchlist(self, symbol: str) -> tuple[str, ...]:
        return self._market.add_to_watchlist(symbol)

    def remove_from_watchlist(self, symbol: str) -> tuple[str, ...]:
        return self._market.remove_from_watchlist(symbol)

    async def close(self) -> None:
        """Close the runtime: bot, protection, streams, store, embedded exchange."""
        await self._close()
