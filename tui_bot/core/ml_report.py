"""What the console shows of the learned score: whether it gates and why (not), and its calibration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BUCKETS = 5
"""Score buckets of the calibration table (equal widths over 0-1)."""


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """Ideas scored in [low, high): how many closed, the mean predicted and the realised win rate."""

    low: float
    high: float
    count: int
    predicted: float
    realised: float


@dataclass(frozen=True, slots=True)
class MlReport:
    """The learned score's state in one line (the reason when its gate is off) and its calibration by bucket."""

    status: str
    gating: bool
    calibration: tuple[CalibrationRow, ...] = ()


def calibration(scored: Iterable[tuple[float, bool]], buckets: int = BUCKETS) -> tuple[CalibrationRow, ...]:
    """Predicted against realised win rate per score bucket, for closed ideas (score, won); empty buckets left out."""
    groups: dict[int, list[tuple[float, bool]]] = {}
    for score, won in scored:
        groups.setdefault(min(int(score * buckets), buckets - 1), []).append((score, won))
    rows = []
    for index in sorted(groups):
        members = groups[index]
        rows.append(
            CalibrationRow(
                index / buckets,
                (index + 1) / buckets,
                len(members),
                sum(s for s, _ in members) / len(members),
                sum(1 for _, won in members if won) / len(members),
            )
        )
    return tuple(rows)
