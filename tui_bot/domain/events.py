"""Domain events: past tense, with the exchange's timestamp and the local receive time; frozen, as are their models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution, Kline, Order, Position, Wallet
from tui_bot.domain.recommendations import Recommendation


class ConnectionState(StrEnum):
    """Lifecycle of one connection as health and the screen show it."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STALE = "stale"
    DOWN = "down"
    STOPPED = "stopped"


class Source(StrEnum):
    """Where an event's data came from."""

    STREAM = "stream"
    REST = "rest"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Common stamps: exchange time in ms (0 when unknown) and local receive time in ns (time.time_ns)."""

    exchange_ts: int
    received_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerUpdated(Event):
    """A ticker snapshot or delta; fields maps ticker attribute names to new values (absent = unchanged).

    From the stream, fields is a read-only TickerFields that keeps the wire strings and converts a
    value only when it is read (domain/live_ticker.py); any Mapping of typed values is accepted.
    """

    symbol: str
    snapshot: bool
    fields: Mapping[str, Decimal | str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class KlineUpdated(Event):
    kline: Kline


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(Event):
    order: Order
    source: Source = Source.STREAM


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReceived(Event):
    execution: Execution
    source: Source = Source.STREAM


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionUpdated(Event):
    position: Position
    source: Source = Source.STREAM


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletUpdated(Event):
    wallet: Wallet
    source: Source = Source.STREAM


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionStateChanged(Event):
    """A connection moved between states; reconnects travel in the same stream as data."""

    connection: str
    state: ConnectionState
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameRejected(Event):
    """A frame that failed to decode: counted and logged with its text, never fatal to the stream."""

    connection: str
    text: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResyncCompleted(Event):
    """Positions, open orders, wallet and missed executions were reloaded from REST."""

    reason: str
    divergences: int = 0


class StreamMode(StrEnum):
    """Whether account state is fed by the private stream or by REST polling."""

    STREAM = "stream"
    POLL = "poll"


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamModeChanged(Event):
    mode: StreamMode
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecommendationChanged(Event):
    """A recommendation was proposed or its status changed (the whole record, as now stored)."""

    recommendation: Recommendation


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtectionActed(Event):
    """The bot moved a stop, armed a trailing stop or closed an aged position: action names it
    ("tighten 1R→0R", "trail client", "aged close"…), detail says what changed."""

    symbol: str
    action: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    """The exchange refused a new order when it was sent (no order exists): code and message are the venue's."""

    symbol: str
    side: Side
    qty: Decimal
    order_link_id: str
    code: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PanicStarted(Event):
    """Panic was pressed: every order is being cancelled and every position closed at market."""

    positions: int
    orders: int
