"""Health alerts derived from what the core already measures: connection states, latency windows, event flow,
subscription failures, REST vs stream marks and the store writer; each raised once per episode."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.domain.events import ConnectionState
from tui_bot.domain.live_ticker import LiveTicker
from tui_bot.domain.metrics import ConnectionStats
from tui_bot.domain.models import Position
from tui_bot.domain.numbers import plain

LATENCY_MIN_SAMPLES = 20
"""A latency window judged with fewer samples than this says too little (one slow frame would be its p99)."""
_HUNDRED = Decimal(100)


class AlertSettings(BaseModel):
    """Thresholds of the health alerts ([alerts] in config.toml); the defaults are the issue's monitoring rules."""

    model_config = ConfigDict(extra="forbid")

    check_interval_s: float = Field(1, gt=0, le=60)
    connection_down_warning_s: float = Field(30, gt=0)
    connection_down_critical_s: float = Field(120, gt=0)
    latency_warning_ms: float = Field(500, gt=0)
    latency_critical_ms: float = Field(1000, gt=0)
    latency_critical_for_s: float = Field(300, ge=0)
    no_events_critical_s: float = Field(300, gt=0)
    subscribe_failures_critical: int = Field(10, ge=0)
    subscribe_failures_window_s: float = Field(3600, gt=0)
    mark_divergence_critical_pct: Decimal = Field(Decimal(1), gt=0)
    mark_check_interval_s: float = Field(60, gt=0)
    store_failing_warning_s: float = Field(5, gt=0)
    store_failing_critical_s: float = Field(60, gt=0)
    stop_moved_every_s: float = Field(60, ge=0)
    kept: int = Field(200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _warning_before_critical(self) -> AlertSettings:
        for warning, critical in (
            ("connection_down_warning_s", "connection_down_critical_s"),
            ("latency_warning_ms", "latency_critical_ms"),
            ("store_failing_warning_s", "store_failing_critical_s"),
        ):
            if getattr(self, warning) > getattr(self, critical):
                raise ValueError(f"{warning} must not exceed {critical}")
        return self


@dataclass(frozen=True, slots=True)
class MarkCheck:
    """An open position's mark as REST reported it, beside the streamed ticker's mark then."""

    rest_mark: Decimal
    stream_mark: Decimal
    as_of_ms: int

    def divergence_pct(self) -> Decimal:
        """How far the stream's mark is from REST's, in % of REST's."""
        return abs(self.stream_mark - self.rest_mark) / self.rest_mark * _HUNDRED


def mark_checks(positions: list[Position], tickers: Mapping[str, LiveTicker], as_of_ms: int) -> dict[str, MarkCheck]:
    """The REST mark of every open position (as fetched) with a streamed mark, beside that mark."""
    checks = {}
    for pos in positions:
        ticker = tickers.get(pos.symbol)
        if pos.size and pos.mark_price > 0 and ticker is not None and ticker.mark_price:
            checks[pos.symbol] = MarkCheck(pos.mark_price, ticker.mark_price, as_of_ms)
    return checks


def duration(ms: float) -> str:
    """A short duration: 45s, 3m05s, 2h10m."""
    seconds = int(max(ms, 0) // 1000)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Episodes:
    """Raises an alert when a condition begins or worsens, and a cleared one when it ends; nothing while it holds."""

    def __init__(self) -> None:
        self.raised: dict[tuple[AlertKind, str], Alert] = {}
        """The latest alert of each ongoing episode."""

    def update(
        self, kind: AlertKind, subject: str, severity: Severity | None, text: str, now_ms: int, cleared_text: str = ""
    ) -> Alert | None:
        """The alert to raise now for (kind, subject) at severity (None: the condition does not hold), if any."""
        key = (kind, subject)
        held = self.raised.get(key)
        if severity is None:
            if held is None:
                return None
            del self.raised[key]
            return Alert(now_ms, Severity.CLEARED, kind, subject, cleared_text or f"{kind.value} cleared")
        if held is not None and held.severity.rank >= severity.rank:
            return None
        alert = self.raised[key] = Alert(now_ms, severity, kind, subject, text)
        return alert


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """One look at what the rules judge, taken by the alert service."""

    now_ms: int
    connections: Mapping[str, ConnectionStats]
    applied_total: int
    """Events the engine has applied since it started (tickers included)."""
    streaming: bool
    """True while the engine wants at least one ticker: then silence means something is wrong."""
    mark_checks: Mapping[str, MarkCheck] = field(default_factory=dict)
    store_failing_since_ms: int | None = None
    store_error: str = ""
    store_pending: int = 0


def _level(value: float, warning: float | None, critical: float | None) -> Severity | None:
    if critical is not None and value > critical:
        return Severity.CRITICAL
    if warning is not None and value > warning:
        return Severity.WARNING
    return None


class HealthRules:
    """The health thresholds applied to successive HealthInputs; remembers what each episode needs.

    Bounded: one entry per connection or open position, and at most one subscription-failure entry per
    check within the failure window.
    """

    def __init__(self, settings: AlertSettings, now_ms: int) -> None:
        self.settings = settings
        self.episodes = Episodes()
        self._down_since: dict[str, int] = {}
        self._latency_total: dict[str, int] = {}
        self._latency_high_since: dict[str, int] = {}
        self._applied = (-1, now_ms)
        self._subscribe_seen: dict[str, int] = {}
        self._subscribe_failures: deque[tuple[int, int]] = deque()
        self._marks_seen: dict[str, int] = {}

    def check(self, inputs: HealthInputs) -> list[Alert]:
        """Every alert the inputs raise or clear now."""
        found = [
            *self._connections(inputs),
            *self._latency(inputs),
            self._no_events(inputs),
            self._subscribe(inputs),
            *self._marks(inputs),
            self._store(inputs),
        ]
        return [alert for alert in found if alert is not None]

    def _connections(self, inputs: HealthInputs) -> list[Alert | None]:
        s, now, found = self.settings, inputs.now_ms, []
        for name, stats in inputs.connections.items():
            if stats.state in (ConnectionState.LIVE, ConnectionState.STOPPED):
                since = self._down_since.pop(name, now)
                found.append(
                    self.episodes.update(
                        AlertKind.CONNECTION_DOWN,
                        name,
                        None,
                        "",
                        now,
                        f"{name} connection live again after {duration(now - since)}",
                    )
                )
                continue
            since = self._down_since.setdefault(name, stats.state_changed_ms or now)
            down = now - since
            level = _level(down / 1000, s.connection_down_warning_s, s.connection_down_critical_s)
            why = f": {stats.reason}" if stats.reason else ""
            found.append(
                self.episodes.update(
                    AlertKind.CONNECTION_DOWN,
                    name,
                    level,
                    f"{name} connection {stats.state.value} for {duration(down)}{why}",
                    now,
                )
            )
        return found

    def _latency(self, inputs: HealthInputs) -> list[Alert | None]:
        """p99 exchange→local of each live connection, judged only when new samples arrived since the last check."""
        s, now, found = self.settings, inputs.now_ms, []
        for name, stats in inputs.connections.items():
            window = stats.latency_ms
            if stats.state is not ConnectionState.LIVE or window.total == self._latency_total.get(name):
                continue
            self._latency_total[name] = window.total
            if len(window) < LATENCY_MIN_SAMPLES:
                continue
            p99 = window.percentile(99)
            if p99 > s.latency_critical_ms:
                high_for = now - self._latency_high_since.setdefault(name, now)
            else:
                high_for = -1
                self._latency_high_since.pop(name, None)
            critical = high_for >= s.latency_critical_for_s * 1000
            level = Severity.CRITICAL if critical else _level(p99, s.latency_warning_ms, None)
            above = f" for {duration(high_for)}" if critical else ""
            found.append(
                self.episodes.update(
                    AlertKind.LATENCY,
                    name,
                    level,
                    f"{name} latency p99 {p99:.0f} ms{above}",
                    now,
                    f"{name} latency p99 back to {p99:.0f} ms",
                )
            )
        return found

    def _no_events(self, inputs: HealthInputs) -> Alert | None:
        now = inputs.now_ms
        if inputs.applied_total != self._applied[0]:
            self._applied = (inputs.applied_total, now)
        silent = now - self._applied[1]
        level = Severity.CRITICAL if inputs.streaming and silent > self.settings.no_events_critical_s * 1000 else None
        return self.episodes.update(
            AlertKind.NO_EVENTS,
            "",
            level,
            f"no market or account events for {duration(silent)}",
            now,
            "events arriving again",
        )

    def _subscribe(self, inputs: HealthInputs) -> Alert | None:
        """Subscription failures of every connection within the window (counts only grow, so add the increase)."""
        s, now = self.settings, inputs.now_ms
        for name, stats in inputs.connections.items():
            new = stats.subscribe_failures - self._subscribe_seen.get(name, 0)
            self._subscribe_seen[name] = stats.subscribe_failures
            if new > 0:
                self._subscribe_failures.append((now, new))
        horizon = now - s.subscribe_failures_window_s * 1000
        while self._subscribe_failures and self._subscribe_failures[0][0] <= horizon:
            self._subscribe_failures.popleft()
        count = sum(n for _, n in self._subscribe_failures)
        level = Severity.CRITICAL if count > s.subscribe_failures_critical else None
        window = duration(s.subscribe_failures_window_s * 1000)
        return self.episodes.update(
            AlertKind.SUBSCRIBE_FAILURES,
            "",
            level,
            f"{count} subscription failures in the last {window}",
            now,
            f"subscription failures down to {count} in the last {window}",
        )

    def _marks(self, inputs: HealthInputs) -> list[Alert | None]:
        """Each position's stream mark against REST's at the latest read; a position gone ends its episode."""
        now, found = inputs.now_ms, []
        for symbol, check in inputs.mark_checks.items():
            if self._marks_seen.get(symbol) == check.as_of_ms:
                continue
            self._marks_seen[symbol] = check.as_of_ms
            pct = check.divergence_pct()
            level = Severity.CRITICAL if pct > self.settings.mark_divergence_critical_pct else None
            text = (
                f"{symbol} stream mark {plain(check.stream_mark)} is {plain(pct, 2)}% from REST mark "
                f"{plain(check.rest_mark)}"
            )
            found.append(
                self.episodes.update(
                    AlertKind.MARK_DIVERGENCE, symbol, level, text, now, f"{symbol} stream mark agrees with REST again"
                )
            )
        for kind, symbol in list(self.episodes.raised):
            if kind is AlertKind.MARK_DIVERGENCE and symbol not in inputs.mark_checks:
                self._marks_seen.pop(symbol, None)
                found.append(self.episodes.update(kind, symbol, None, "", now, f"{symbol} position closed"))
        return found

    def _store(self, inputs: HealthInputs) -> Alert | None:
        s, now, since = self.settings, inputs.now_ms, inputs.store_failing_since_ms
        failing = 0 if since is None else now - since
        level = None if since is None else _level(failing / 1000, s.store_failing_warning_s, s.store_failing_critical_s)
        text = f"database writes failing for {duration(failing)}, {inputs.store_pending} queued ({inputs.store_error})"
        return self.episodes.update(AlertKind.STORE_FAILING, "", level, text, now, "database writes succeed again")
