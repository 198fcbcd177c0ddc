"""The console: layout, message handlers that hand payloads to widgets, and the backend's lifecycle."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal

from rich.console import RenderableType
from textual import events, work
from textual._compositor import CompositorUpdate
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Static

from tui_bot.config import Settings
from tui_bot.core.console_api import BotsView, ConsoleBackend, HealthReport
from tui_bot.domain.models import Instrument
from tui_bot.ui import messages
from tui_bot.ui.alert_actions import AlertActions
from tui_bot.ui.bot_actions import BotActions
from tui_bot.ui.bridge import EngineBridge
from tui_bot.ui.history_actions import HistoryActions
from tui_bot.ui.keymap import app_bindings, validated_keymap
from tui_bot.ui.log_handler import PaneLogHandler
from tui_bot.ui.market_actions import MarketActions
from tui_bot.ui.order_actions import OrderActions
from tui_bot.ui.output import trimmed
from tui_bot.ui.pacing import Encoded, OutputPacer, PacedScreen
from tui_bot.ui.palette import KeyCommands
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.tpsl import TpSlModal
from tui_bot.ui.styles import APP_CSS, ThemeTones, require_stylesheets
from tui_bot.ui.widgets.alert_line import AlertLine
from tui_bot.ui.widgets.book import BookPanel, TradesPanel
from tui_bot.ui.widgets.chart import CandleChart
from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.footer import ConsoleFooter
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.log_pane import LogPane
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable
from tui_bot.ui.widgets.quotes import QuoteBoard
from tui_bot.ui.widgets.recommendations import RecommendationsTable, RecommendationsTitle

log = logging.getLogger(__name__)
NARROW_BELOW = 140
TAPELESS_BELOW = 160
CHARTLESS_BELOW = 100
SHORT_BELOW = 30
TALL_FROM = 45
QUOTES_FULL_FROM = 230
"""From this width the quote board shows open interest and its sparkline and the chart beside it, the book and the
tape still gets about 60 columns (at 200 it would get 35)."""
TICKERS = "tickers."
BackendOpener = Callable[[], Awaitable[ConsoleBackend]]
"""Opens the backend the console talks to (cli.py composes it: a runtime in this process, for now)."""


class TuiBotApp(ThemeTones, KeyCommands, AlertActions, HistoryActions, MarketActions, OrderActions, BotActions):
    """The trading console; it opens its backend on mount and closes it on exit."""

    CSS_PATH = APP_CSS
    TITLE = "tui_bot"
    BINDINGS = app_bindings()
    trim_output = True
    """Whether frames are sent trimmed to their changed cells (ui/output.py); the bench's baseline turns it off."""
    encode_headless = False
    """Whether frames are encoded (and paced) with no terminal to send them to: the bench's; tests skip the work."""

    def __init__(
        self, settings: Settings, open_backend: BackendOpener, *, log_handler: PaneLogHandler | None = None
    ) -> None:
        require_stylesheets()
        super().__init__()
        self.settings = settings
        self.open_backend = open_backend
        self.backend = None
        self.pacer = OutputPacer()
        self.log_handler = log_handler
        keymap, self.keymap_warnings = validated_keymap(settings.keys)
        self.keymap = keymap
        self.set_keymap(keymap)

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield AlertLine(id="alert-line")
        with Horizontal(id="market"):
            yield QuoteBoard(id="quotes", now_ms=lambda: self.now_ns() // 1_000_000)
            yield CandleChart(id="chart")
            yield BookPanel(id="book")
            yield TradesPanel(id="trades")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static("Positions", classes="panel-title", id="positions-title")
                yield PositionsTable(
                    id="positions", now_ms=lambda: self.now_ns() // 1_000_000, initial_risk=self._initial_risk
                )
                yield Static("Orders", classes="panel-title")
                yield OrdersTable(id="orders")
                yield Static("Fills", classes="panel-title")
                yield FillsTable(id="fills")
            with Vertical(id="right"):
                yield RecommendationsTitle(classes="panel-title")
                yield RecommendationsTable(id="recommendations")
                yield Static("Connections", classes="panel-title")
                yield HealthPanel(id="health")
        yield LogPane(id="log")
        yield ConsoleFooter()

    def _initial_risk(self, symbol: str) -> Decimal | None:
        """R of a position (entry to its first stop) as protection measured it, once known."""
        return self.backend.initial_risk(symbol) if self.backend is not None else None

    def get_default_screen(self) -> Screen[object]:
        return PacedScreen(self.pacer, id="_default")

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        """Send only the cells a frame changed (ui/output.py); the main screen's frames feed the output pacer."""
        sent = trimmed(renderable) if self.trim_output else renderable
        paced = isinstance(screen, PacedScreen) and not self._batch_count
        if paced and isinstance(sent, CompositorUpdate) and (self.encode_headless or not self.is_headless):
            sent = Encoded(sent.render_segments(self.console))
            self.pacer.sent(len(sent.text))
        super()._display(screen, sent)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.pacer.urgent()  # what the trader did shows in the next frame, however busy the screen
        await super().on_event(event)

    def now_ns(self) -> int:
        """Wall-clock epoch ns behind time-dependent text (position ages, health); a test may freeze it."""
        return time.time_ns()

    def on_mount(self) -> None:
        self.query_one(HeaderBar).set_venue(
            self.settings.exchange.venue.upper(), self.settings.exchange.venue == "mainnet"
        )
        self._apply_size(self.size)
        for warning in self.keymap_warnings:
            log.warning("%s", warning)
            self.notify(warning, severity="warning", timeout=15)
        self.set_interval(1.0, self._refresh_health)
        self.set_interval(0.25, self._drain_logs)
        self.connect()

    def on_resize(self, event: events.Resize) -> None:
        """Lay out for the size the terminal has now (the event's, not the app's previous one)."""
        self._apply_size(event.size)
        self.call_after_refresh(self.draw_market)

    def _apply_size(self, size: Size) -> None:
        """Collapse the layout by width and height: which panels show, and how tall the market view is."""
        width, height = size
        self.set_class(width < NARROW_BELOW, "-narrow")
        self.set_class(width < CHARTLESS_BELOW, "-chartless")
        self.set_class(width < TAPELESS_BELOW, "-tapeless")
        self.set_class(height < SHORT_BELOW, "-short")
        self.set_class(height >= TALL_FROM, "-tall")
        self.query_one(HealthPanel).set_class(width < NARROW_BELOW, "-narrow")
        stacked = self.has_class("-market-focus") and CHARTLESS_BELOW <= width < NARROW_BELOW
        full_quotes = width >= QUOTES_FULL_FROM or stacked
        self.set_class(full_quotes, "-quotes-full")
        self.query_one(QuoteBoard).set_wide(full_quotes)

    def action_market_view(self) -> None:
        """Give the market view the whole screen (or share it again), laid out for that."""
        super().action_market_view()
        self._apply_size(self.size)

    @work(group="backend", exclusive=True, exit_on_error=False)
    async def connect(self) -> None:
        """Open the backend (venue and store), then start the bridge; a failure is shown, not raised."""
        try:
            backend = await self.open_backend()
        except Exception as err:
            log.exception("could not start")
            self.notify(f"Could not start: {err}", severity="error", timeout=30)
            return
        self.backend = backend
        self.query_one(HeaderBar).set_venue(backend.venue.label, backend.venue.live_money)
        attached = isinstance(backend, BotsView)  # its bots each have their own settings; this console sets none
        self.query_one(HeaderBar).set_tightening(None if attached else backend.settings().enable_sl_tightening)
        self.run_bridge(backend)

    @work(group="bridge", exclusive=True, exit_on_error=False)
    async def run_bridge(self, backend: ConsoleBackend) -> None:
        await EngineBridge(self, backend).run()

    async def on_unmount(self) -> None:
        if self.backend is not None:
            await self.backend.close()

    # -- bridge messages: hand each payload to its widget ---------------------------------------

    def _instruments(self) -> Mapping[str, Instrument]:
        return self.backend.instruments() if self.backend is not None else {}

    def on_positions_changed(self, message: messages.PositionsChanged) -> None:
        if table := self._widget(PositionsTable):
            table.apply_positions(message.positions, self._instruments())
        self.draw_chart()

    def on_marks_updated(self, message: messages.MarksUpdated) -> None:
        if table := self._widget(PositionsTable):
            table.apply_marks(message.marks)
        if isinstance(dialog := self.screen, TpSlModal):
            for marked in message.marks:
                dialog.set_mark(marked.symbol, marked.mark_price)

    def on_prices_moved(self, message: messages.PricesMoved) -> None:
        """The quote board and an open order ticket get the new prices (the ticket is skipped while none is open)."""
        self.show_quotes(message.symbols)
        form = self.screen_stack[-1] if self.screen_stack else None
        if isinstance(form, OrderFormModal) and self.backend is not None:
            for symbol in message.symbols:
                if price := self.backend.last_price(symbol):
                    ticker = self.backend.ticker(symbol)
                    form.set_last_price(symbol, price, ticker.mark_price if ticker else None)

    def on_orders_changed(self, message: messages.OrdersChanged) -> None:
        if table := self._widget(OrdersTable):
            table.apply_orders(message.orders, self._instruments())
        self.draw_chart()

    def on_fills_arrived(self, message: messages.FillsArrived) -> None:
        if table := self._widget(FillsTable):
            table.add_fills(message.executions, self._instruments())

    def on_account_changed(self, message: messages.AccountChanged) -> None:
        if header := self._widget(HeaderBar):
            header.apply_account(message.summary)

    def on_day_pnl_updated(self, message: messages.DayPnlUpdated) -> None:
        if header := self._widget(HeaderBar):
            header.apply_day(message.day)

    def on_mode_changed(self, message: messages.ModeChanged) -> None:
        if header := self._widget(HeaderBar):
            header.set_mode(message.mode)

    def on_settings_applied(self, message: messages.SettingsApplied) -> None:
        if header := self._widget(HeaderBar):
            header.set_tightening(message.settings.enable_sl_tightening)

    def on_recommendations_changed(self, message: messages.RecommendationsChanged) -> None:
        if table := self._widget(RecommendationsTable):
            instruments = self.backend.instruments() if self.backend is not None else {}
            table.apply_recommendations(message.recommendations, instruments)

    def on_cycle_reported(self, message: messages.CycleReported) -> None:
        """A cycle ended (scheduled too): the Recommendations title and empty state say how, and why symbols held."""
        if title := self._widget(RecommendationsTitle):
            title.show_cycle(message.summary)
        if table := self._widget(RecommendationsTable):
            table.show_cycle(message.summary)

    def on_protection_noticed(self, message: messages.ProtectionNoticed) -> None:
        if table := self._widget(PositionsTable):
            table.set_stage(message.symbol, message.action)
        self.notify(f"{message.symbol}: {message.action}, {message.detail}", title="Protection")

    def on_order_refused(self, message: messages.OrderRefused) -> None:
        self.notify(message.words, title="Order refused", severity="error", timeout=8)

    def on_connections_changed(self, message: messages.ConnectionsChanged) -> None:
        self._refresh_health()

    def health_report(self) -> HealthReport:
        """What the health panel shows, from the backend (a test may freeze it)."""
        assert self.backend is not None
        return self.backend.health()

    def _refresh_health(self) -> None:
        panel = self._widget(HealthPanel)
        if self.backend is not None and panel is not None:
            report = self.health_report()
            now_ns = self.now_ns()
            panel.refresh_health(report.connections, report.rest, now_ns)
            store = report.store
            panel.refresh_store(store.stalled_since, store.error, store.pending, now_ns)
            panel.refresh_tasks(report.task_lines(now_ns // 1_000_000))
            self._show_staleness(report, now_ns, panel.public_stale_ms)
        self.draw_alerts()

    def _show_staleness(self, report: HealthReport, now_ns: int, after_ms: float) -> None:
        """Flag tickers silent past the health panel's public threshold where the trader looks: position rows and
        the header."""
        assert self.backend is not None
        symbols = {*self.backend.positions(), *self.backend.watchlist()}
        stale = report.stale_topics((f"{TICKERS}{s}" for s in symbols), now_ns, after_ms)
        if header := self._widget(HeaderBar):
            header.set_stale(stale)
        if table := self._widget(PositionsTable):
            table.set_stale({topic.removeprefix(TICKERS): age for topic, age in stale.items()})

    def _drain_logs(self) -> None:
        pane = self._widget(LogPane)
        if self.log_handler is not None and pane is not None:
            for level, text in self.log_handler.drain():
                pane.write_record(level, text)
