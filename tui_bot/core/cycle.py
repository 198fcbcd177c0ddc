"""One analysis cycle: candles of the watchlist through every strategy, then the gates decide each idea's fate."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from tui_bot.core.candles import CandleBook, interval_ms
from tui_bot.core.features import idea_features, market_features, to_json
from tui_bot.core.gating import GateBook, Verdict, gate, holders, strongest_per_symbol, take
from tui_bot.core.indicator_state import IndicatorBook
from tui_bot.core.risk import entry_orders, occupied_symbols
from tui_bot.core.state import AccountState
from tui_bot.core.strategies import Strategy, load_strategies
from tui_bot.core.strategies.base import timeframes_of
from tui_bot.core.strategies.chart_llm import ChartLlm, ChartRequest
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.events import Event
from tui_bot.domain.models import Kline
from tui_bot.domain.recommendations import Direction, Proposal, Recommendation, RecommendationStatus
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.db import Database
from tui_bot.store.rows import Trade

log = logging.getLogger(__name__)
_ids = itertools.count(1)
BAR_WAIT_S = 3.0
HELD_SHOWN = 20
"""Symbols a model-backed strategy held on, with their reasons, named in the cycle's log line (the rest counted)."""


class CycleSkipped(Exception):
    """The cycle could not analyse anything; the message is stored as its skip reason."""


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
    rec = Recommendation(
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
        prompt_name=proposal.prompt_name,
        prompt_version=proposal.prompt_version,
        model_name=proposal.model_name,
        raw_response=proposal.raw_response,
        chart_path=proposal.chart_path,
        features=proposal.features,
    )
    ml = proposal.ml
    if ml is None:
        return rec
    return replace(
        rec,
        ml_score=ml.score,
        ml_model_version=ml.model_version,
        ml_train_size=ml.train_size,
        ml_auc=ml.auc,
        ml_brier=ml.brier,
    )


def proposal_of(rec: Recommendation) -> Proposal:
    """A stored recommendation back as the proposal it came from (to re-run the gates at approval)."""
    direction = Direction.LONG if rec.side.sign > 0 else Direction.SHORT
    return Proposal(
        rec.symbol,
        direction,
        float(rec.confidence),
        rec.entry,
        rec.stop_loss,
        rec.take_profit,
        rec.reasoning,
        rec.strategy,
        rec.strategy_version,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """A recommendation and the gates' verdict on it."""

    recommendation: Recommendation
    verdict: Verdict


class CycleAnalysis:
    """Reads closed candles of the watchlist and asks every strategy for ideas on the timeframes it reads.

    `candles` follows the cycle's timeframe (the settings' `timeframe`); a strategy that declares `timeframes`
    reads those of them that are kept (`timeframes`, from [signals]) instead, each from a candle book of its own.
    """

    def __init__(
        self,
        candles: CandleBook,
        watchlist: list[str],
        conn: Database | None = None,
        *,
        incremental: bool = True,
        timeframes: Sequence[str] = (),
    ) -> None:
        self.candles = candles
        self.watchlist = watchlist
        self.conn = conn
        self.incremental = incremental
        """Strategies read indicators kept per closed bar (False: recomputed over the whole history, as before)."""
        self.timeframes = tuple(timeframes)
        self.indicators = IndicatorBook()
        self.indicators.follow(candles)
        self.books: dict[str, CandleBook] = {}
        """Candle books of the timeframes other than the cycle's that a strategy reads."""
        self._strategies: tuple[tuple[str, ...], list[Strategy]] | None = None
        self.held: dict[str, list[str]] = {}
        """The latest cycle's HOLD answers per symbol, each "strategy: reason"."""
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

    def on_event(self, event: Event) -> None:
        """Engine listener: every candle book hears the kline stream."""
        self.candles.on_event(event)
        for book in self.books.values():
            book.on_event(event)

    def plan(self, strategies: list[Strategy], cycle_timeframe: str) -> dict[str, list[Strategy]]:
        """Which strategies run on which timeframe this cycle (the cycle's timeframe first)."""
        plan: dict[str, list[Strategy]] = {cycle_timeframe: []}
        for strategy in strategies:
            timeframes = timeframes_of(strategy, cycle_timeframe, self.timeframes)
            if not timeframes:
                log.warning("strategy %s reads no kept timeframe ([signals] timeframes): not run", strategy.name)
            for timeframe in timeframes:
                plan.setdefault(timeframe, []).append(strategy)
        return plan

    async def _book(self, timeframe: str, cycle_timeframe: str, symbols: list[str], history: int) -> CandleBook:
        """The candle book of timeframe, tracking symbols with enough history."""
        if timeframe == cycle_timeframe:
            book = self.candles
        elif timeframe not in self.books:
            book = self.books[timeframe] = CandleBook(
                self.candles.client, self.candles.writer, history=history, stream_owner=f"candles-{timeframe}"
            )
            self.indicators.follow(book)
        else:
            book = self.books[timeframe]
        if book.interval != timeframe or min((_last_start(book, s) for s in symbols), default=0) < 0:
            book.history = history
            await book.prepare(symbols, timeframe, self.conn)
        return book

    async def _release(self, keep: set[str]) -> None:
        """Stop following the timeframes no strategy reads any more."""
        for timeframe in [t for t in self.books if t not in keep]:
            book = self.books.pop(timeframe)
            await book.stop()
            await book.client.set_kline_streams(set(), timeframe, owner=book.stream_owner)

    async def _fresh(self, book: CandleBook, symbols: list[str], now_ms: int) -> list[str]:
        """The symbols whose last closed bar in book is the one that closed at the latest boundary.

        Right after a boundary that bar may still be on its way: give the stream a moment, then ask
        REST once; a symbol still without it is left out of this cycle rather than analysed on stale data.
        """
        timeframe = book.interval
        expected = (now_ms // interval_ms(timeframe) - 1) * interval_ms(timeframe)

        def late(names: list[str]) -> list[str]:
            return [s for s in names if _last_start(book, s) < expected]

        missing = late(symbols)
        deadline = time.monotonic() + BAR_WAIT_S
        while missing and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            missing = late(missing)
        if missing:
            await book.prepare(list(book.symbols), timeframe, self.conn)
            missing = late(missing)
        if missing:
            log.warning(
                "left out of this cycle, no %s bar closed at %d yet: %s", timeframe, expected, ", ".join(missing)
            )
        return [s for s in symbols if s not in missing]

    def bars(self, book: CandleBook, symbol: str) -> Sequence[Kline]:
        """The closed bars of symbol a strategy reads: with incremental indicators, or a plain copy."""
        source = book.series(symbol)
        if not self.incremental or source is None:
            return book.closed(symbol)
        return self.indicators.sync(symbol, book.interval, source)

    async def propose(self, settings: TradingSettings, state: AccountState, now_ms: int) -> list[Proposal]:
        """Every strategy's LONG/SHORT idea for every tradable watchlist symbol on each timeframe it reads (HOLDs
        are not kept: `held` says why each was)."""
        self.held = {}
        strategies = self.strategies(settings.strategies)
        symbols = [s for s in self.watchlist if s in state.instruments]
        if not symbols:
            raise CycleSkipped("no tradable symbol in the watchlist")
        history = max(settings.candle_history, max(s.min_candles for s in strategies) + 1)
        plan = self.plan(strategies, settings.timeframe)
        await self._release(set(plan) - {settings.timeframe})
        proposals: list[Proposal] = []
        analysed = False
        for timeframe, readers in plan.items():
            book = await self._book(timeframe, settings.timeframe, symbols, history)
            fresh = await self._fresh(book, symbols, now_ms)
            analysed = analysed or bool(fresh and readers)
            tag = "" if timeframe == settings.timeframe else f"[{timeframe_label(timeframe)}] "
            proposals += self._ideas(book, fresh, [s for s in readers if not isinstance(s, ChartLlm)], state, tag)
            for analyst in (s for s in readers if isinstance(s, ChartLlm)):
                proposals += await self._chart_ideas(analyst, book, fresh, state)
        books = [self.candles, *self.books.values()]
        self.indicators.drop((s, book.interval) for book in books for s in book.symbols)
        if not analysed:
            raise CycleSkipped("no fresh candles: the bar that just closed has not arrived for any symbol")
        return proposals

    def _ideas(
        self, book: CandleBook, symbols: list[str], strategies: list[Strategy], state: AccountState, tag: str
    ) -> list[Proposal]:
        """The strategies' trade ideas on book's bars of each symbol (reasoning tagged with the timeframe)."""
        proposals: list[Proposal] = []
        for symbol in symbols:
            bars = self.bars(book, symbol)
            market: dict[str, float | None] | None = None
            for strategy in strategies:
                try:
                    proposal = strategy.propose(symbol, bars, state.instruments[symbol])
                except Exception:
                    log.exception("strategy %s failed on %s", getattr(strategy, "name", strategy), symbol)
                    continue
                if proposal.direction is Direction.HOLD:
                    self._hold(proposal, tag)
                    continue
                market = market_features(bars, state.tickers.get(symbol)) if market is None else market
                proposals.append(recorded(proposal, market, book.interval, tag))
        return proposals

    def _hold(self, proposal: Proposal, tag: str) -> None:
        """Keep why a strategy held on a symbol ("strategy: reason"), for the console's cycle report."""
        self.held.setdefault(proposal.symbol, []).append(f"{proposal.strategy}: {tag}{proposal.reasoning}")

    @property
    def holds(self) -> int:
        """How many (strategy, symbol, timeframe) answers of the latest cycle were HOLD."""
        return sum(len(reasons) for reasons in self.held.values())

    async def _chart_ideas(
        self, analyst: ChartLlm, book: CandleBook, symbols: list[str], state: AccountState
    ) -> list[Proposal]:
        """The model's trade ideas on book's bars (within its deadline); each symbol it holds on is logged with why."""
        requests = [ChartRequest(s, book.interval, book.closed(s), state.instruments[s]) for s in symbols]
        answers = await analyst.propose_many(requests, self.chart_llm, self.chart_dir)
        held = [p for p in answers if p.direction is Direction.HOLD]
        for proposal in held:
            self._hold(proposal, "")
        if held:
            log.warning("%s", held_line(analyst.name, held, len(answers)))
        return [
            recorded(p, market_features(self.bars(book, p.symbol), state.tickers.get(p.symbol)), book.interval, "")
            for p in answers
            if p.direction is not Direction.HOLD
        ]


def recorded(proposal: Proposal, market: dict[str, float | None], timeframe: str, tag: str) -> Proposal:
    """The idea with the features it was made on, its reasoning tagged with the timeframe (when not the cycle's)."""
    features = to_json(idea_features(market, proposal, timeframe))
    return replace(proposal, reasoning=tag + proposal.reasoning, features=features)


def held_line(strategy: str, held: list[Proposal], asked: int) -> str:
    """One log line naming the symbols a strategy held on and why (the first HELD_SHOWN; the rest counted)."""
    reasons = "; ".join(f"{p.symbol}: {p.reasoning}" for p in held[:HELD_SHOWN])
    more = f"; and {len(held) - HELD_SHOWN} more" if len(held) > HELD_SHOWN else ""
    return f"{strategy} holds {len(held)} of {asked} symbols: {reasons}{more}"


def _last_start(book: CandleBook, symbol: str) -> int:
    """Start of the newest closed bar of symbol in book (-1 without one)."""
    series = book.series(symbol)
    return series.starts[-1] if series is not None and series.starts else -1


def timeframe_label(timeframe: str) -> str:
    """A Bybit interval as people write it: "3" is 3m, "60" is 60m, "D" is D."""
    return timeframe if timeframe == "D" else f"{timeframe}m"


def gate_book(
    state: AccountState,
    settings: TradingSettings,
    entry_scores: dict[str, float],
    blocked: dict[str, str] | None = None,
    min_ml_score: float | None = None,
    *,
    open_trades: Sequence[Trade] = (),
    bot_id: str = "",
) -> GateBook:
    """The account as the gates see it: free slots, symbols in use, bot positions that could be replaced, the
    strategies the win-rate guard blocks, the learned score's minimum (None: it does not gate), and the symbols
    other bots (not bot_id) hold."""
    taken = occupied_symbols(state)
    free = settings.max_concurrent_trades - len(taken)
    replaceable = {s: score for s, score in entry_scores.items() if s in state.positions}
    held_by = holders(open_trades, entry_orders(state), taken, bot_id)
    return GateBook(settings, free, taken, replaceable, dict(blocked or {}), min_ml_score, held_by)


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
