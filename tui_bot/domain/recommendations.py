"""Trade ideas from the analysis cycle: a strategy's proposal and the recommendation record it becomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tui_bot.domain.enums import Side


class Direction(StrEnum):
    """What a strategy proposes for a symbol."""

    LONG = "LONG"
    SHORT = "SHORT"
    HOLD = "HOLD"

    @property
    def side(self) -> Side | None:
        """The order side that opens this direction (None for HOLD)."""
        return {Direction.LONG: Side.BUY, Direction.SHORT: Side.SELL}.get(self)


class RecommendationStatus(StrEnum):
    """Where a recommendation stands; every status but PENDING and APPROVED is final."""

    PENDING = "pending"  # waiting for `a` / `d` in the console
    APPROVED = "approved"  # approved, order being sent
    EXECUTED = "executed"  # the entry order was acknowledged
    REJECTED = "rejected"  # failed a gate (the fate says which)
    DISMISSED = "dismissed"  # declined by the trader
    EXPIRED = "expired"  # left pending until the next cycle
    FAILED = "failed"  # approved, but the exchange or sizing refused it
    PAPER = "paper"  # approved under paper_trading on a live-money venue: followed, never sent


def reward_risk(direction: Direction, entry: Decimal, stop_loss: Decimal, take_profit: Decimal) -> Decimal | None:
    """Reward:risk of a long or short idea; None for HOLD or when the stop or target is on the wrong side."""
    side = direction.side
    if side is None:
        return None
    risk = (entry - stop_loss) * side.sign
    reward = (take_profit - entry) * side.sign
    if risk <= 0 or reward <= 0:
        return None
    return (reward / risk).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class MlStamp:
    """The learned score of an idea and the model that gave it: version, rows trained on, held-out AUC and Brier."""

    score: float
    model_version: str
    train_size: int
    auc: float | None
    brier: float


@dataclass(frozen=True, slots=True)
class Proposal:
    """One strategy's view of one symbol: direction, confidence 0-1, entry/SL/TP and why."""

    symbol: str
    direction: Direction
    confidence: float
    entry: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    reasoning: str
    strategy: str
    strategy_version: str
    # Set by a model-backed strategy (chart_llm): the prompt and model asked, their raw reply, the chart sent.
    prompt_name: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None
    raw_response: str | None = None
    chart_path: str | None = None
    inputs: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    """The strategy's own inputs (indicator levels it decided on), recorded with the idea's features; not part of
    equality (the same idea from incremental or recomputed indicators differs in them by float noise only)."""
    features: str | None = None
    """The features the idea was made on, as versioned JSON (set by the cycle, core/features.py)."""
    ml: MlStamp | None = None
    """The learned score (set before the gates when a model is trained, core/ml_score.py)."""

    @property
    def rr(self) -> Decimal | None:
        return reward_risk(self.direction, self.entry, self.stop_loss, self.take_profit)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A proposal recorded by a cycle, and what became of it (status, fate); the caller chooses the id."""

    id: str
    cycle_id: str | None
    symbol: str
    side: Side
    confidence: Decimal
    entry: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    rr: Decimal | None
    strategy: str
    strategy_version: str
    reasoning: str
    status: str
    created_ms: int
    updated_ms: int
    fate: str | None = None
    order_link_id: str | None = None
    # Set by a model-backed strategy (chart_llm): the prompt and model asked, their raw reply, the chart sent.
    prompt_name: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None
    raw_response: str | None = None
    chart_path: str | None = None
    features: str | None = None
    """The features the idea was made on, as versioned JSON (core/features.py)."""
    ml_score: float | None = None
    ml_model_version: str | None = None
    ml_train_size: int | None = None
    ml_auc: float | None = None
    ml_brier: float | None = None

    def tradable_at(self, price: Decimal) -> bool:
        """True while price is strictly between the stop and the target (the idea has not played out)."""
        sign = self.side.sign
        return (price - self.stop_loss) * sign > 0 and (self.take_profit - price) * sign > 0

    def stale_reason(self, price: Decimal) -> str | None:
        """Why the idea can no longer be taken at price (a Buy's last at or below its stop, a Sell's at or above)."""
        if (price - self.stop_loss) * self.side.sign > 0:
            return None
        return f"the price {price} has passed the stop {self.stop_loss}"
