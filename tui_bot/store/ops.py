"""Write operations for the store writer: small frozen records, one per kind of write (carrying frozen models)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution, Kline, Order, Position
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, RejectedOrder, Trade
from tui_bot.store.trades import RECONCILED


def now_ms() -> int:
    """Wall-clock time in ms UTC."""
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class RecordExecution:
    """Store a fill or funding (ignored if its exec id is known) and update the trades it touches."""

    execution: Execution


@dataclass(frozen=True, slots=True)
class UpsertOrder:
    """Store an order's latest state; an update older than the stored row is ignored."""

    order: Order


@dataclass(frozen=True, slots=True)
class RecordRejection:
    """Append an order the exchange refused when it was sent (it never reaches the orders table)."""

    rejected: RejectedOrder


@dataclass(frozen=True, slots=True)
class SnapshotPosition:
    """Append a position snapshot with why it was taken."""

    position: Position
    reason: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class SetConfig:
    """Set one config key to a JSON value (encoded, and so checked, when the op is built)."""

    key: str
    value: Any
    updated_ms: int = field(default_factory=now_ms)
    value_json: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value_json", json.dumps(self.value, sort_keys=True, allow_nan=False))


@dataclass(frozen=True, slots=True)
class UpsertCandle:
    """Store a candle; a confirmed candle is never replaced by an unconfirmed one."""

    kline: Kline


@dataclass(frozen=True, slots=True)
class SaveTrade:
    """Insert or replace a trade by its opening exec id (imports and corrections)."""

    trade: Trade


@dataclass(frozen=True, slots=True)
class SaveCycle:
    """Insert or replace an analysis cycle by id."""

    cycle: CycleRow


@dataclass(frozen=True, slots=True)
class SaveRecommendation:
    """Insert or replace a recommendation by id (its cycle must be saved first)."""

    recommendation: RecommendationRow


@dataclass(frozen=True, slots=True)
class SavePhantom:
    """Insert or replace a phantom trade by id (its recommendation must be saved first)."""

    phantom: PhantomRow


@dataclass(frozen=True, slots=True)
class ReconcileOpenTrades:
    """Close as "reconciled" every open trade whose symbol the exchange shows flat or on the other side."""

    positions: Mapping[str, Side]
    ts_ms: int
    reason: str = RECONCILED

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", MappingProxyType(dict(self.positions)))

    @classmethod
    def from_positions(cls, positions: Iterable[Position], ts_ms: int) -> ReconcileOpenTrades:
        """The op for the exchange's positions (flat ones, side None, count as flat)."""
        return cls({p.symbol: p.side for p in positions if p.side is not None and p.size > 0}, ts_ms)


WriteOp = (
    RecordExecution
    | UpsertOrder
    | RecordRejection
    | SnapshotPosition
    | SetConfig
    | UpsertCandle
    | SaveTrade
    | SaveCycle
    | SaveRecommendation
    | SavePhantom
    | ReconcileOpenTrades
)
