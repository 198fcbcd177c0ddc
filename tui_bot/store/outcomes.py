"""Outcomes the learned score trains on: ideas with recorded features whose phantom or trade reached its target
(a win) or its stop (a loss) first; timeouts and other exits are neither."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, union_all

from tui_bot.store import schema
from tui_bot.store.db import Database

WIN_EXITS = ("win", "take_profit")
"""A phantom's outcome or a trade's exit reason that counts as a win (the other labels are losses)."""
PHANTOM_LABELS = ("win", "loss")
TRADE_LABELS = ("take_profit", "stop_loss")


@dataclass(frozen=True, slots=True)
class LabelledOutcome:
    """One idea's features, whether it won, when it closed, and the learned score it was given (if any)."""

    features: str
    win: bool
    closed_ms: int
    ml_score: float | None


def _labelled() -> Select[Any]:
    """Every labelled outcome as (features, label, closed_ms, ml_score): phantoms, then the bot's closed trades."""
    r, p, t = schema.recommendations.c, schema.phantoms.c, schema.trades.c
    phantoms = (
        select(r.features, p.outcome.label("label"), p.closed_ms.label("closed_ms"), r.ml_score)
        .join_from(schema.phantoms, schema.recommendations, p.recommendation_id == r.id)
        .where(p.outcome.in_(PHANTOM_LABELS), r.features.is_not(None))
    )
    trades = (
        select(r.features, t.exit_reason.label("label"), t.exit_time.label("closed_ms"), r.ml_score)
        .join_from(schema.trades, schema.recommendations, t.entry_order_link_id == r.order_link_id)
        .where(t.status == "closed", t.exit_reason.in_(TRADE_LABELS), r.features.is_not(None))
    )
    return union_all(phantoms, trades).subquery().select()


async def count_labelled(db: Database) -> int:
    """How many labelled outcomes the store holds."""
    query = select(func.count()).select_from(_labelled().subquery())
    async with db.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def load_labelled(db: Database) -> list[LabelledOutcome]:
    """Every labelled outcome, oldest close first."""
    query = _labelled()
    async with db.connect() as conn:
        rows = list(await conn.execute(query))
    rows.sort(key=lambda row: (row.closed_ms or 0, row.features))
    return [LabelledOutcome(row.features, row.label in WIN_EXITS, row.closed_ms or 0, row.ml_score) for row in rows]
