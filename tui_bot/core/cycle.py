"""One analysis cycle: candles of the watchlist through every strategy, then the gates decide each idea's fate."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aiosqlite

from tui_bot.core.candles import CandleBook
from tui_bot.core.gating import GateBook, Verdict, gate, strongest_per_symbol, take
from tui_bot.core.risk import occupied_symbols
from tui_bot.core.state import AccountState
from tui_bot.core.strategies import Strategy, load_strategies
from tui_bot.core.strategies.chart_llm import ChartLlm, ChartRequest
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.recommendations import (
    MODEL_FIELDS,
    Direction,
    ModelRecommendation,
    Proposal,
    Recommendation,
    RecommendationStatus,
)
from tui_bot.domain.trading_settings import TradingSettings

log = logging.getLogger(__name__)
_INTERVAL_MS = {"D": 86_400_000}
_ids = itertools.count(1)
BAR_WAIT_S = 3.0
HELD_SHOWN = 20
"""Symbols a model-backed strategy held on, with their reasons, named in the cycle's log line (the rest counted)."""


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
    """A proposal as a recommendation record (PENDING until the gates decide); a model's idea keeps its trace."""
    side = proposal.direction.side
    assert side is not None
    model = {name: getattr(proposal, name) for name in MODEL_FIELDS}
    kind, extra = (ModelRecommendation, model) if proposal.model_name is not None else (Recommendation, {})
    return kind(
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
        **extra,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A recommendation and the gates' verdict on it."""

    recommendation: Recommendation
    verdict: Verdict


class CycleAnalysis:
    """Reads closed candles of the watchlist at the settings' timeframe and asks every strategy for ideas."""

    def __init__(self, candles: CandleBook, watchlist: list[str], conn: aiosqlite.Connection | None = None) -> None:
        self.candles = candles
        self.watchlist = watchlist
        self.conn = conn
        self._strategies: tuple[tuple[str, ...], list[Strategy]] | None = None
        self.holds = 0
        self.chart_llm = ChartLlmSettings()
        self.chart_dir = self.chart_llm.charts_under(Path("."))

    def configure_chart_llm(self, settings: ChartLlmSettings, data_dir: Path) -> None:
        """The [chart_llm] settings, and the app's data folder its chart images go under."""
        self.chart_llm = settings
        self.chart_dir = settings.charts_under(data_dir)

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
            return [s for s in names if not self.candles.closed(s) or self.candles.closed(s)[-1].start < expected]

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

    async def propose(self, settings: TradingSettings, state: AccountState, now_ms: int) -> list[Proposal]:
        """Every strategy's LONG/SHORT idea for every tradable watchlist symbol (HOLDs are counted, not kept)."""
        strategies = self.strategies(settings.strategies)
        symbols = [s for s in self.watchlist if s in state.instruments]
        if not symbols:
            raise CycleSkipped("no tradable symbol in the watchlist")
        if self.candles.interval != settings.timeframe or not all(self.candles.closed(s) for s in symbols):
            self.candles.history = max(settings.candle_history, max(s.min_candles for s in strategies) + 1)
            await self.candles.prepare(symbols, settings.timeframe, self.conn)
        symbols = await self._fresh(symbols, settings.timeframe, now_ms)
        if not symbols:
            raise CycleSkipped("no fresh candles: the bar that just closed has not arrived for any symbol")
        proposals: list[Proposal] = []
        self.holds = 0
        analysts = [s for s in strategies if isinstance(s, ChartLlm)]
        rules = [s for s in strategies if not isinstance(s, ChartLlm)]
        for symbol in symbols:
            bars = self.candles.closed(symbol)
            for strategy in rules:
                try:
                    proposal = strategy.propose(symbol, bars, state.instruments[symbol])
                except Exception:
                    log.exception("strategy %s failed on %s", getattr(strategy, "name", strategy), symbol)
                    continue
                if proposal.direction is Direction.HOLD:
                    self.holds += 1
                else:
                    proposals.append(proposal)
        for analyst in analysts:
            proposals += await self._chart_ideas(analyst, symbols, settings.timeframe, state)
        return proposals

    async def _chart_ideas(
        self, analyst: ChartLlm, symbols: list[str], timeframe: str, state: AccountState
    ) -> list[Proposal]:
        """The model's trade ideas (within its deadline); each symbol it holds on is logged with the reason."""
        requests = [ChartRequest(s, timeframe, self.candles.closed(s), state.instruments[s]) for s in symbols]
        answers = await analyst.propose_many(requests, self.chart_llm, self.chart_dir)
        held = [p for p in answers if p.direction is Direction.HOLD]
        self.holds += len(held)
        if held:
            log.warning("%s", held_line(analyst.name, held, len(answers)))
        return [p for p in answers if p.direction is not Direction.HOLD]


def held_line(strategy: str, held: list[Proposal], asked: int) -> str:
    """One log line naming the symbols a strategy held on and why (the first HELD_SHOWN; the rest counted)."""
    reasons = "; ".join(f"{p.symbol}: {p.reasoning}" for p in held[:HELD_SHOWN])
    more = f"; and {len(held) - HELD_SHOWN} more" if len(held) > HELD_SHOWN else ""
    return f"{strategy} holds {len(held)} of {asked} symbols: {reasons}{more}"


def gate_book(state: AccountState, settings: TradingSettings, entry_scores: dict[str, float]) -> GateBook:
    """The account as the gates see it: free slots, symbols in use, and bot positions that could be replaced."""
    taken = occupied_symbols(state)
    free = settings.max_concurrent_trades - len(taken)
    replaceable = {s: score for s, score in entry_scores.items() if s in state.positions}
    return GateBook(settings, free, taken, replaceable)


def decide(proposals: list[Proposal], book: GateBook, cycle_id: str, now_ms: int | None = None) -> list[Decision]:
    """Every proposal as a recommendation with its verdict: strongest per symbol first, slots taken in order."""
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    kept, losers = strongest_per_symbol(proposals)
    decisions: list[Decision] = []
    for index, proposal in enumerate(kept + [p for p, _ in losers], start=1):
        loser_reason = next((reason for p, reason in losers if p is proposal), None)
        verdict = Verdict(False, loser_reason) if loser_reason else gate(proposal, book)
        if verdict.passed:
            take(book, proposal, verdict)
        decisions.append(Decision(recommendation_of(proposal, cycle_id, index, now), verdict))
    return decisions
