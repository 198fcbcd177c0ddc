"""One analysis cycle: candles of the watchlist through every strategy, then the gates decide each idea's fate."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import aiosqlite

from tui_bot.core.candles import CandleBook
from tui_bot.core.gating import GateBook, Verdict, gate, strongest_per_symbol, take
from tui_bot.core.indicator_state import IndicatorBook
from tui_bot.core.risk import occupied_symbols
from tui_bot.core.state import AccountState
from tui_bot.core.strategies import Strategy, load_strategies
from tui_bot.domain.models import Kline
from tui_bot.domain.recommendations import Direction, Proposal, Recommendation, RecommendationStatus
from tui_bot.domain.trading_settings import TradingSettings

log = logging.getLogger(__name__)
_INTERVAL_MS = {"D": 86_400_000}
_ids = itertools.count(1)
BAR_WAIT_S = 3.0


class CycleSkipped(Exception):
    """The cycle could not analyse anything; the message is stored as its skip reason."""


def interval_ms(timeframe: str) -> int:
    """Length of one bar of a Bybit interval ("1".."720" minutes, or "D") in ms."""
    return _INTERVAL_MS.get(timeframe) or int(timeframe) * 60_000


def next_boundary_ms(now_ms: int, timeframe: str) -> int:
    """The first bar boundary strictly after now (bars are aligned to UTC epoch multiples)."""
    step = interval_ms(timeframe)
    return (now_ms // step + 1) * step


def new_cycle_id(now_ms: int) -> str:
    """A cycle id that sorts by time and is unique within this process."""
    return f"cy{now_ms}-{next(_ids)}"


def recommendation_of(proposal: Proposal, cycle_id: str, index: int, now_ms: int) -> Recommendation:
    """A proposal as a recommendation record (PENDING until the gates decide)."""
    side = proposal.direction.side
    assert side is not None
    return Recommendation(
        id=f"{cycle_id}-{index}",
        cycle_id=cycle_id,
        symbol=proposal.symbol,
        side=side,
        confidence=Decimal(str(round(proposal.confidence, 4))),
        entry=proposal.entry,
        stop_loss=proposal.stop_loss,
        take_profit=proposal.take_profit,
        rr=proposal.rr,
        strategy=proposal.strategy,
        strategy_version=proposal.strategy_version,
        reasoning=proposal.reasoning,
        status=RecommendationStatus.PENDING.value,
        created_ms=now_ms,
        updated_ms=now_ms,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A recommendation and the gates' verdict on it."""

    recommendation: Recommendation
    verdict: Verdict


class CycleAnalysis:
    """Reads closed candles of the watchlist at the settings' timeframe and asks every strategy for ideas."""

    def __init__(
        self,
        candles: CandleBook,
        watchlist: list[str],
        conn: aiosqlite.Connection | None = None,
        *,
        incremental: bool = True,
    ) -> None:
        self.candles = candles
        self.watchlist = watchlist
        self.conn = conn
        self.incremental = incremental
        """Strategies read indicators kept per closed bar (False: recomputed over the whole history, as before)."""
        self.indicators = IndicatorBook()
        self.indicators.follow(candles)
        self._strategies: tuple[tuple[str, ...], list[Strategy]] | None = None
        self.holds = 0

    def strategies(self, names: list[str]) -> list[Strategy]:
        """The configured strategies, loaded once per distinct list (raises StrategyLoadError)."""
        key = tuple(names)
        if self._strategies is None or self._strategies[0] != key:
            self._strategies = (key, load_strategies(names))
        return self._strategies[1]

    async def _fresh(self, symbols: list[str], timeframe: str, now_ms: int) -> list[str]:
        """The symbols whose last closed bar is the one that closed at the latest boundary.

        Right after a boundary that bar may still be on its way: give the stream a moment, then ask
        REST once; a symbol still without it is left out of this cycle rather than analysed on stale data.
        """
        expected = (now_ms // interval_ms(timeframe) - 1) * interval_ms(timeframe)

        def late(names: list[str]) -> list[str]:
            return [s for s in names if self._last_start(s) < expected]

        missing = late(symbols)
        deadline = time.monotonic() + BAR_WAIT_S
        while missing and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            missing = late(missing)
        if missing:
            await self.candles.prepare(list(self.candles.symbols), timeframe, self.conn)
            missing = late(missing)
        if missing:
            log.warning("left out of this cycle, no bar closed at %d yet: %s", expected, ", ".join(missing))
        return [s for s in symbols if s not in missing]

    def _last_start(self, symbol: str) -> int:
        """Start of the newest closed bar of symbol (-1 without one)."""
        series = self.candles.series(symbol)
        return series.starts[-1] if series is not None and series.starts else -1

    def bars(self, symbol: str, timeframe: str) -> Sequence[Kline]:
        """The closed bars of symbol a strategy reads: with incremental indicators, or a plain copy."""
        source = self.candles.series(symbol)
        if not self.incremental or source is None:
            return self.candles.closed(symbol)
        return self.indicators.sync(symbol, timeframe, source)

    async def propose(self, settings: TradingSettings, state: AccountState, now_ms: int) -> list[Proposal]:
        """Every strategy's LONG/SHORT idea for every tradable watchlist symbol (HOLDs are counted, not kept)."""
        strategies = self.strategies(settings.strategies)
        symbols = [s for s in self.watchlist if s in state.instruments]
        if not symbols:
            raise CycleSkipped("no tradable symbol in the watchlist")
        if self.candles.interval != settings.timeframe or min(map(self._last_start, symbols)) < 0:
            self.candles.history = max(settings.candle_history, max(s.min_candles for s in strategies) + 1)
            await self.candles.prepare(symbols, settings.timeframe, self.conn)
        symbols = await self._fresh(symbols, settings.timeframe, now_ms)
        if not symbols:
            raise CycleSkipped("no fresh candles: the bar that just closed has not arrived for any symbol")
        proposals: list[Proposal] = []
        self.holds = 0
        for symbol in symbols:
            bars = self.bars(symbol, settings.timeframe)
            for strategy in strategies:
                try:
                    proposal = strategy.propose(symbol, bars, state.instruments[symbol])
                except Exception:
                    log.exception("strategy %s failed on %s", getattr(strategy, "name", strategy), symbol)
                    continue
                if proposal.direction is Direction.HOLD:
                    self.holds += 1
                else:
                    proposals.append(proposal)
        return proposals


def gate_book(
    state: AccountState,
    settings: TradingSettings,
    entry_scores: dict[str, float],
    blocked: dict[str, str] | None = None,
) -> GateBook:
    """The account as the gates see it: free slots, symbols in use, bot positions that could be replaced, and the
    strategies the win-rate guard blocks."""
    taken = occupied_symbols(state)
    free = settings.max_concurrent_trades - len(taken)
    replaceable = {s: score for s, score in entry_scores.items() if s in state.positions}
    return GateBook(settings, free, taken, replaceable, dict(blocked or {}))


def decide(proposals: list[Proposal], book: GateBook, cycle_id: str, now_ms: int | None = None) -> list[Decision]:
    """Every proposal as a recommendation with its verdict: strongest per symbol first, slots taken in order.

    Ideas of a strategy the win-rate guard blocks do not compete for their symbol: they are rejected on their own.
    """
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    guarded = [p for p in proposals if p.strategy in book.blocked]
    kept, losers = strongest_per_symbol([p for p in proposals if p.strategy not in book.blocked])
    decisions: list[Decision] = []
    for index, proposal in enumerate(kept + [p for p, _ in losers] + guarded, start=1):
        loser_reason = next((reason for p, reason in losers if p is proposal), None)
        verdict = Verdict(False, loser_reason) if loser_reason else gate(proposal, book)
        if verdict.passed:
            take(book, proposal, verdict)
        decisions.append(Decision(recommendation_of(proposal, cycle_id, index, now), verdict))
    return decisions
