"""Row types the store owns: trades derived from fills, and the analysis cycle's records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.numbers import ZERO
from tui_bot.domain.recommendations import Recommendation


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip in a symbol, from the opening fill to the fill that made it flat."""

    open_exec_id: str
    symbol: str
    side: Side
    status: str
    qty: Decimal
    entry_price: Decimal
    entry_time: int
    fees: Decimal
    exit_qty: Decimal = ZERO
    exit_price: Decimal | None = None
    exit_time: int | None = None
    pnl: Decimal | None = None
    pnl_pct: Decimal | None = None
    exit_reason: str | None = None
    entry_order_link_id: str = ""
    exit_order_link_id: str | None = None
    bot: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class CycleRow:
    """One run of the analysis cycle; the caller chooses the id."""

    id: str
    started_ms: int
    timeframe: str
    status: str
    finished_ms: int | None = None
    recommendations: int = 0
    approved: int = 0
    rejected: int = 0
    skip_reason: str | None = None
    slots_at_start: int | None = None
    positions_at_start: int | None = None


RecommendationRow = Recommendation
"""A recommendation as stored: the domain record itself."""


@dataclass(frozen=True, slots=True)
class PhantomRow:
    """A paper-followed recommendation; excursions are price distances from entry."""

    id: str
    recommendation_id: str | None
    symbol: str
    side: Side
    entry: Decimal
    sl: Decimal
    tp: Decimal
    opened_ms: int
    closed_ms: int | None = None
    outcome: str | None = None
    exit_price: Decimal | None = None
    max_favourable: Decimal = ZERO
    max_adverse: Decimal = ZERO
    features: str | None = None
    """The recommendation's features (versioned JSON, core/features.py) the phantom follows."""


@dataclass(frozen=True, slots=True)
class RejectedOrder:
    """An order the exchange refused when it was sent (so no order exists there): what was asked and why not."""

    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    code: int
    message: str
    ts_ms: int
