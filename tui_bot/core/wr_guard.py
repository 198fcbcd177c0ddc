"""The win-rate guard (a circuit breaker): a rolling, weighted win rate per strategy over its latest outcomes
(trades and phantoms); a strategy below the minimum has its real entries blocked, its ideas still followed as
phantoms, until it recovers. Its state lives in memory and is rebuilt from the stored outcomes at start."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from tui_bot.core.stats import GuardLine, day_of, phantom_outcome
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.domain.recommendations import Recommendation
from tui_bot.store.rows import PhantomRow, Trade

GUARD_PREFIX = "WR guard:"
"""How the guard's reasons begin (a stored recommendation whose fate begins so was blocked by it)."""


@dataclass(frozen=True, slots=True)
class GuardOutcome:
    """One closed result of a strategy's idea: a trade (the real entry) or a phantom (an idea not traded)."""

    strategy: str
    win: bool
    phantom: bool
    closed_ms: int


@dataclass(frozen=True, slots=True)
class WrGuardChanged:
    """The guard tripped (a strategy's entries are blocked from now on) or let a strategy through again."""

    strategy: str
    tripped: bool
    text: str
    time_ms: int


class WinRateGuard:
    """Rolling weighted win rate per strategy; `blocked()` names the strategies whose entries the gates refuse."""

    def __init__(self, settings: SignalSettings) -> None:
        self.settings = settings
        self._windows: dict[str, deque[tuple[bool, float]]] = {}
        self._tripped: dict[str, str] = {}
        self._blocked_days: Counter[tuple[str, str]] = Counter()
        self.strategy_of: dict[str, str] = {}
        """Ideas still to close, by recommendation id (phantoms) and entry order link id (trades)."""

    def rate(self, strategy: str) -> tuple[float | None, int]:
        """The weighted win rate (None before any outcome) and how many outcomes it is over."""
        window = self._windows.get(strategy)
        if not window:
            return None, 0
        weight = sum(w for _, w in window)
        won = sum(w for win, w in window if win)
        return (won / weight if weight else None), len(window)

    def record(self, outcome: GuardOutcome) -> WrGuardChanged | None:
        """Count one outcome; the change when the strategy trips or recovers."""
        s = self.settings
        weight = s.wr_guard_phantom_weight if outcome.phantom else s.wr_guard_trade_weight
        window = self._windows.setdefault(outcome.strategy, deque(maxlen=s.wr_guard_window))
        window.append((outcome.win, weight))
        return self._judge(outcome.strategy, outcome.closed_ms)

    def _judge(self, strategy: str, now_ms: int) -> WrGuardChanged | None:
        rate, sample = self.rate(strategy)
        s = self.settings
        if rate is None or s.wr_guard_min <= 0:
            return None
        if strategy not in self._tripped and sample >= s.wr_guard_min_sample and rate < s.wr_guard_min:
            reason = f"{GUARD_PREFIX} {strategy} {rate:.0%} < {s.wr_guard_min:.0%} over {sample}"
            self._tripped[strategy] = reason
            return WrGuardChanged(strategy, True, reason, now_ms)
        if strategy in self._tripped and rate >= s.wr_guard_min + s.wr_guard_hysteresis:
            del self._tripped[strategy]
            text = f"{GUARD_PREFIX} {strategy} back to {rate:.0%} over {sample}; its entries trade again"
            return WrGuardChanged(strategy, False, text, now_ms)
        return None

    def blocked(self) -> dict[str, str]:
        """Strategy → why its real entries are blocked now."""
        return dict(self._tripped)

    def note_blocked(self, strategy: str, now_ms: int) -> None:
        """Count one idea of the strategy the guard kept from trading (per UTC day)."""
        self._blocked_days[day_of(now_ms), strategy] += 1

    def blocked_on(self, day: str) -> dict[str, int]:
        """Ideas blocked on a UTC day (YYYY-MM-DD), by strategy."""
        return {strategy: n for (d, strategy), n in self._blocked_days.items() if d == day}

    def lines(self, now_ms: int) -> tuple[GuardLine, ...]:
        """Every strategy with outcomes or blocks today, by name."""
        today = self.blocked_on(day_of(now_ms))
        rows: list[GuardLine] = []
        for strategy in sorted(set(self._windows) | set(today)):
            rate, sample = self.rate(strategy)
            reason = self._tripped.get(strategy, "")
            rows.append(GuardLine(strategy, rate, sample, bool(reason), today.get(strategy, 0), reason))
        return tuple(rows)

    def rebuild(self, recommendations: list[Recommendation], trades: list[Trade], phantoms: list[PhantomRow]) -> None:
        """Start again from the stored outcomes (oldest first) and blocked ideas (their fate); remember the ideas
        still open (phantoms followed, entries whose trade has not closed)."""
        self._windows.clear()
        self._tripped.clear()
        executed = [r for r in recommendations if r.order_link_id]
        self.strategy_of = {r.id: r.strategy for r in recommendations}
        self.strategy_of.update((r.order_link_id or "", r.strategy) for r in executed)
        for outcome in sorted(self.take_closed(trades, phantoms), key=lambda o: o.closed_ms):
            self.record(outcome)
        self._blocked_days = Counter(
            (day_of(r.created_ms), r.strategy) for r in recommendations if (r.fate or "").startswith(GUARD_PREFIX)
        )
        following = {p.recommendation_id for p in phantoms if p.closed_ms is None}
        entries = {r.order_link_id for r in executed}
        self.strategy_of = {k: v for k, v in self.strategy_of.items() if k in following or k in entries}

    def remember(self, key: str, strategy: str) -> None:
        """Note which strategy an idea came from: its recommendation id (a phantom) or its entry's order link id."""
        self.strategy_of[key] = strategy

    def take_closed(self, trades: list[Trade], phantoms: list[PhantomRow]) -> list[GuardOutcome]:
        """The outcomes of remembered ideas among these closed trades and phantoms (each is taken once)."""
        found: list[GuardOutcome] = []
        for trade in trades:
            link = trade.entry_order_link_id
            if trade.status == "closed" and trade.pnl is not None and link and link in self.strategy_of:
                found.append(GuardOutcome(self.strategy_of.pop(link), trade.pnl > 0, False, trade.exit_time or 0))
        for phantom in phantoms:
            outcome = phantom_outcome(phantom)
            key = phantom.recommendation_id
            if outcome is not None and key is not None and key in self.strategy_of:
                found.append(GuardOutcome(self.strategy_of.pop(key), outcome.pnl > 0, True, outcome.closed_ms))
        return found
