"""The alert service: health checks on a timer, trading events and price alerts from the bus; every alert is
logged, kept for the console, published on the bus and handed to the sinks (notification channels).

Nothing here runs on the trading path: the service reads the bus in its own task and its sinks must not block.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from tui_bot.core.alert_rules import (
    AlertSettings,
    HealthInputs,
    HealthRules,
    MarkCheck,
    mark_checks,
)
from tui_bot.core.bus import Subscription
from tui_bot.core.engine import Engine
from tui_bot.core.price_alerts import PriceAlertBook, new_price_alert
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.core.trade_alerts import TradeAlerts
from tui_bot.domain.alerts import Alert, AlertKind, Cross, PriceAlert, Severity
from tui_bot.domain.events import TickerUpdated
from tui_bot.domain.metrics import wall_ms
from tui_bot.domain.numbers import plain

log = logging.getLogger("tui_bot.alerts")
_task_log = logging.getLogger(__name__)
_LOG_LEVEL = {
    Severity.INFO: logging.INFO,
    Severity.CLEARED: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.ERROR,
}
TICKER_OWNER = "price-alerts"
AlertSink = Callable[[Alert], None]


class AlertService:
    """Derives alerts from the engine's health and events and the trader's price alerts; the console reads
    `recent()`, `active()` and `price_alerts()` and edits price alerts with add/remove."""

    def __init__(self, engine: Engine, settings: AlertSettings, *, stored_price_alerts: object = None) -> None:
        self.engine = engine
        self.settings = settings
        self.rules = HealthRules(settings, wall_ms())
        self.trade = TradeAlerts(settings, self.rules.episodes)
        self.book = PriceAlertBook(stored_price_alerts, engine.writer)
        self.sinks: list[AlertSink] = []
        self.tasks = BackgroundTasks(engine.health.tasks, _task_log)
        self._recent: deque[Alert] = deque(maxlen=settings.kept)
        self._sub: Subscription | None = None
        self._marks: dict[str, MarkCheck] = {}

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        """Hear the bus from now on (fills the start's reseed replayed are history, not news) and check health
        every check_interval_s."""
        self._sub = self.engine.bus.subscribe()
        self.tasks.spawn("alerts-bus", self._consume(self._sub))
        self.tasks.every("alerts-check", self.settings.check_interval_s, self.check_health)
        self.tasks.every("alerts-marks", self.settings.mark_check_interval_s, self.check_marks)
        self._want_tickers()

    async def stop(self) -> None:
        await self.tasks.stop()
        if self._sub is not None:
            self.engine.bus.unsubscribe(self._sub)
            self._sub = None

    # -- what a console reads and does --------------------------------------------------------------

    def recent(self, limit: int | None = None) -> list[Alert]:
        """The latest alerts (at most [alerts] kept), oldest first; the newest `limit` when given."""
        alerts = list(self._recent)
        return alerts[-limit:] if limit is not None else alerts

    def active(self) -> list[Alert]:
        """The alert of each condition that holds now (connection down, latency, ...), oldest first."""
        return sorted(self.rules.episodes.raised.values(), key=lambda a: a.time_ms)

    def price_alerts(self) -> list[PriceAlert]:
        """The armed price alerts, oldest first."""
        return self.book.alerts()

    def add_price_alert(self, symbol: str, level: Decimal, direction: Cross | None = None) -> PriceAlert:
        """Arm a price alert (stored at once); without direction it fires when the last price moves from where
        it is now to level. Raises PriceAlertInvalid with a one-line reason."""
        state = self.engine.state
        alert = new_price_alert(
            symbol, level, direction, state.instruments, state.last_price(symbol.strip().upper()), wall_ms()
        )
        self.book.add(alert)
        self._want_tickers()
        log.info(
            "price alert %s armed: %s %s %s", alert.alert_id, alert.symbol, alert.direction.value, plain(alert.level)
        )
        return alert

    def remove_price_alert(self, alert_id: str) -> PriceAlert | None:
        """Disarm a price alert; None when there is no such alert."""
        alert = self.book.remove(alert_id)
        if alert is not None:
            self._want_tickers()
            log.info("price alert %s removed", alert_id)
        return alert

    # -- raising ------------------------------------------------------------------------------------

    async def check_marks(self) -> None:
        """Read the open positions' marks over REST and set each beside its streamed mark (the next health check
        judges them); nothing is asked while no position is open."""
        state = self.engine.state
        positions = await self.engine.client.fetch_positions() if state.positions else []
        self._marks = mark_checks(positions, state.tickers, wall_ms())

    def check_health(self) -> None:
        """Apply the health rules to what the core measures now."""
        engine, writer = self.engine, self.engine.writer
        stalled = writer.stalled_since if writer is not None else None
        inputs = HealthInputs(
            now_ms=wall_ms(),
            connections=engine.client.connection_stats(),
            applied_total=engine.health.applied_rate.total,
            streaming=bool(engine.client.ticker_topics),
            mark_checks=self._marks,
            store_failing_since_ms=None if stalled is None else int(stalled * 1000),
            store_error=(writer.stall_error or "") if writer is not None else "",
            store_pending=writer.pending if writer is not None else 0,
        )
        for alert in self.rules.check(inputs):
            self.raise_alert(alert)

    def raise_alert(self, alert: Alert) -> None:
        """Log the alert, keep it, publish it on the bus and hand it to every sink (a failing sink is reported)."""
        self._recent.append(alert)
        subject = f" {alert.subject}" if alert.subject else ""
        log.log(
            _LOG_LEVEL[alert.severity], "alert %s %s%s: %s", alert.severity.value, alert.kind.value, subject, alert.text
        )
        self.engine.bus.publish([alert])
        for sink in self.sinks:
            try:
                sink(alert)
            except Exception as err:
                self.tasks.failed(f"alert sink {getattr(sink, '__qualname__', sink)}", err)

    async def _consume(self, sub: Subscription) -> None:
        """Take every batch the bus has for us (an item that fails is reported and the next one goes on)."""
        while True:
            batch = await sub.next_batch()
            now = wall_ms()
            for item in batch:
                try:
                    self._on_item(item, now)
                except Exception as err:
                    self.tasks.failed("alerts-bus", err, f"on {type(item).__name__}")

    def _on_item(self, item: object, now: int) -> None:
        if type(item) is TickerUpdated:
            self._check_price(item.symbol, now)
        elif not isinstance(item, Alert):
            alert = self.trade.on_item(item, now)
            if alert is not None:
                self.raise_alert(alert)

    def _check_price(self, symbol: str, now: int) -> None:
        if symbol not in self.book.symbols():
            return
        last = self.engine.state.last_price(symbol)
        if last is None:
            return
        fired = self.book.reached(symbol, last)
        for alert in fired:
            text = f"{symbol} crossed {alert.direction.value} {plain(alert.level)}: last {plain(last)}"
            self.raise_alert(Alert(now, Severity.INFO, AlertKind.PRICE, symbol, text))
        if fired:
            self._want_tickers()

    def _want_tickers(self) -> None:
        self.engine.tickers.want(TICKER_OWNER, set(self.book.symbols()))
