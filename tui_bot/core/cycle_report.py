"""How the latest analysis cycle ended, for the console: its counts, why each symbol held, the learned score's state."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tui_bot.domain.events import Event
from tui_bot.store.rows import CycleRow

_DETAIL = re.compile(r"\s*\([^()]*\)")
"""A parenthesised detail of a reason (the values it was decided on), left out when reasons are grouped."""
_BELOW = re.compile(r"^(.+?) -?\d[\d.]* below (.+)$")
"""A threshold gate's reason ("confidence 0.58 below the minimum 0.60"): the idea's own value is left out."""


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """One finished cycle (done, skipped or failed), who started it, every symbol's HOLD answers and the ML status."""

    cycle: CycleRow
    trigger: str
    held: tuple[tuple[str, tuple[str, ...]], ...]
    """Per symbol, in watchlist order: each strategy's "strategy: reason" for holding on it."""
    rejected: tuple[tuple[str, str], ...]
    """Each idea the gates rejected: (symbol, reason)."""
    ml_status: str

    @property
    def holds(self) -> int:
        """How many (strategy, symbol, timeframe) answers were HOLD."""
        return sum(len(reasons) for _, reasons in self.held)

    def top_reasons(self, limit: int) -> list[tuple[str, int]]:
        """The commonest HOLD reasons without their values ("range_breakout: Inside the range"), most frequent first."""
        counts = Counter(reason_kind(reason) for _, reasons in self.held for reason in reasons)
        return counts.most_common(limit)

    def top_rejections(self, limit: int) -> list[tuple[str, int]]:
        """The commonest reasons the gates rejected ideas for ("WR guard: ...", "ML score below min_ml_score 0.55")."""
        return Counter(rejection_kind(symbol, reason) for symbol, reason in self.rejected).most_common(limit)


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleFinished(Event):
    """The bot finished a cycle (scheduled, from `r` or a command); the console shows its summary."""

    summary: CycleSummary


def reason_kind(reason: str) -> str:
    """A HOLD reason without the values in parentheses and the final full stop, so alike reasons count together."""
    return _DETAIL.sub("", reason).strip().rstrip(".")


def rejection_kind(symbol: str, reason: str) -> str:
    """A gate's reason as its kind: without the parenthesised details, the symbol or the idea's own value."""
    text = reason_kind(reason).replace(symbol, "the symbol")
    return _BELOW.sub(r"\1 below \2", text)


def cycle_summary(
    cycle: CycleRow,
    trigger: str,
    held: Mapping[str, Sequence[str]],
    rejected: Sequence[tuple[str, str]],
    ml_status: str,
) -> CycleSummary:
    """The summary of a cycle as it ended; HOLD answers and rejections count only for a cycle that ran to the end."""
    done = cycle.status == "done"
    kept = held if done else {}
    return CycleSummary(
        cycle, trigger, tuple((s, tuple(r)) for s, r in kept.items()), tuple(rejected) if done else (), ml_status
    )
