"""Alerts the core raises about health and trading, and the trader's price alerts: immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    """How urgent an alert is; CLEARED ends an episode that an earlier warning or critical alert began."""

    INFO = "info"
    CLEARED = "cleared"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for filtering: info < cleared = warning < critical (a cleared passes wherever warnings do)."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.CLEARED: 1, Severity.WARNING: 1, Severity.CRITICAL: 2}


class AlertKind(StrEnum):
    """What an alert is about."""

    CONNECTION_DOWN = "connection_down"
    LATENCY = "latency"
    NO_EVENTS = "no_events"
    SUBSCRIBE_FAILURES = "subscribe_failures"
    MARK_DIVERGENCE = "mark_divergence"
    STREAM_MODE = "stream_mode"
    STORE_FAILING = "store_failing"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    LIQUIDATION = "liquidation"
    STOP_MOVED = "stop_moved"
    ORDER_REJECTED = "order_rejected"
    PANIC = "panic"
    PRICE = "price"
    WR_GUARD = "wr_guard"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: when (epoch ms), how urgent, what kind, about what (a symbol, a connection, or "" for the
    account) and a one-line text (whitespace runs, newlines included, become one space)."""

    time_ms: int
    severity: Severity
    kind: AlertKind
    subject: str
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", " ".join(self.text.split()))


class Cross(StrEnum):
    """Which way the last price must cross a price alert's level."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True, slots=True)
class PriceAlert:
    """A trader's price alert: fires once when the symbol's last price reaches level from the given side."""

    alert_id: str
    symbol: str
    level: Decimal
    direction: Cross
    created_ms: int

    def reached(self, last_price: Decimal) -> bool:
        """True when last_price is at or beyond the level on the alert's side."""
        return last_price >= self.level if self.direction is Cross.ABOVE else last_price <= self.level
