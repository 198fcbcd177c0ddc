"""The trading bot: analysis cycles at timeframe boundaries, approvals and phantoms (protection: core/protection.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from decimal import Decimal

from tui_bot.core.candles import CandleBook
from tui_bot.core.cycle import (
    CycleAnalysis,
    CycleSkipped,
    Decision,
    decide,
    gate_book,
    new_cycle_id,
    next_boundary_ms,
)
from tui_bot.core.engine import Engine
from tui_bot.core.execution import RecommendationExecutor
from tui_bot.core.gating import GateBook, SharedAccount, gate
from tui_bot.core.ml_score import MlScorer
from tui_bot.core.orders import OrderService
from tui_bot.core.phantoms import PhantomTracker
from tui_bot.core.risk import free_slots
from tui_bot.core.settings import SettingsService
from tui_bot.core.state import AccountState
from tui_bot.core.strategies import StrategyLoadError
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.core.wr_guard import WinRateGuard, WrGuardChanged
from tui_bot.domain.events import Event, PositionUpdated, RecommendationChanged, TickerUpdated
from tui_bot.domain.recommendations import Direction, Proposal, Recommendation, RecommendationStatus
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.store.db import Database
from tui_bot.store.ops import SaveCycle, SaveRecommendation
from tui_bot.store.repos import load_phantoms, load_recommendations, load_shown_recommendations, load_trades
from tui_bot.store.rows import CycleRow, PhantomRow
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
SETTLE_MS = 2_000
"""Wait this long after a bar boundary so the closed bar has arrived before analysing it."""
SCHEDULE_NAP_MS = 30_000
PHANTOM_CHECK_S = 5.0
_KEEP_SHOWN = 50
"""Recommendations kept in memory (and reloaded at start) once final; pending and approved ones stay until decided."""
_FINAL = frozenset(s.value for s in RecommendationStatus) - {"pending", "approved"}
_FOLLOWED = frozenset(RecommendationStatus(s) for s in ("rejected", "dismissed", "expired", "paper", "failed"))
"""Ideas that were not traded: each is followed as a phantom."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class TradingBot:
    """Runs cycles (on schedule, on `r`, or once from the CLI), trades approved ideas, follows the rest as phantoms."""

    def __init__(
        self,
        engine: Engine,
        orders: OrderService,
        settings: SettingsService,
        writer: StoreWriter | None,
        watchlist: list[str],
        *,
        live_money: bool,
        conn: Database | None = None,
        signals: SignalSettings | None = None,
    ) -> None:
        self.engine = engine
        self.bot_id = orders.ids.bot
        self.settings = settings
        self.writer = writer
        self.conn = conn
        self.candles = CandleBook(engine.client, writer, history=settings.current.candle_history)
        signals = signals or SignalSettings()
        self.analysis = CycleAnalysis(self.candles, watchlist, conn, timeframes=signals.timeframes)
        self.executor = RecommendationExecutor(engine, orders, live_money)
        self.phantoms = PhantomTracker(writer, lambda: self.settings.current.phantom_timeout_hours)
        self.guard = WinRateGuard(signals)
        self.ml = MlScorer(conn)
        self.phantoms.closed_listeners.append(self._phantom_closed)
        self.recommendations: dict[str, Recommendation] = {}
        self.entry_scores: dict[str, float] = {}
        self.shared: SharedAccount | None = None
        """Set by a headless bot: what the listener's live state adds to the gates."""
        self._lock = asyncio.Lock()
        self.tasks = BackgroundTasks(engine.health.tasks, log)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, *, schedule: bool = True) -> None:
        """Reload pending recommendations and open phantoms, listen to the engine, and schedule cycles."""
        if self.conn is not None:
            self.guard.rebuild(
                await load_recommendations(self.conn), await load_trades(self.conn), await load_phantoms(self.conn)
            )
            self.phantoms.restore(await load_phantoms(self.conn, open_only=True))
            for strategy, reason in self.guard.blocked().items():  # tripped before this start: said again
                self._guard_changed(WrGuardChanged(strategy, True, reason, _now_ms()))
            for rec in await load_shown_recommendations(self.conn, _KEEP_SHOWN):
                self.recommendations[rec.id] = rec
                if rec.status == RecommendationStatus.EXECUTED and rec.symbol in self.engine.state.positions:
                    self.entry_scores[rec.symbol] = float(rec.confidence)
        await self.ml.start()
        self.engine.listeners.append(self._on_event)
        self.engine.tickers.want("phantoms", self.phantoms.symbols)
        self.engine.tickers.want("pending", {r.symbol for r in self.pending()})
        if schedule:
            self.tasks.every("bot-schedule", 0, self._schedule_once)
        self.tasks.every("bot-phantoms", PHANTOM_CHECK_S, self._expire_phantoms)

    async def stop(self) -> None:
        await self.tasks.stop()
        for book in (self.candles, *self.analysis.books.values()):
            await book.stop()
        await self.ml.stop()
        if self._on_event in self.engine.listeners:
            self.engine.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        """Engine listener: candles (every timeframe read), phantoms, flat positions (the engine reports a failure)."""
        self.analysis.on_event(event)
        self.phantoms.on_event(event, self.engine.state.last_price)
        if isinstance(event, PositionUpdated) and not event.position.size:
            self.entry_scores.pop(event.position.symbol, None)  # flat: a later position here is not the bot's idea
        if isinstance(event, TickerUpdated):
            self._expire_stale(event.symbol)

    def _expire_stale(self, symbol: str) -> None:
        """Pending ideas in symbol whose price has passed their stop expire at once (they can no longer be taken)."""
        price = self.engine.state.last_price(symbol)
        if not price:
            return
        for rec in self.pending():
            if rec.symbol == symbol and (why := rec.stale_reason(price)):
                self._expire(rec, why)

    def _expire(self, rec: Recommendation, why: str) -> Recommendation:
        log.info("recommendation %s %s %s expired: %s", rec.id, rec.symbol, rec.side.value, why)
        return self.record(replace(rec, status=RecommendationStatus.EXPIRED.value, fate=why, updated_ms=_now_ms()))

    # -- recording ------------------------------------------------------------------------------

    def record(self, rec: Recommendation) -> Recommendation:
        """Store a recommendation's latest state and tell the console; unapproved ones start a phantom."""
        self.recommendations[rec.id] = rec
        while len(self.recommendations) > _KEEP_SHOWN:
            oldest = next(iter(self.recommendations))
            if self.recommendations[oldest].status not in _FINAL:
                break
            del self.recommendations[oldest]
        if self.writer is not None:
            self.writer.enqueue(SaveRecommendation(rec))
        if rec.status in _FOLLOWED:
            self.guard.remember(rec.id, rec.strategy)
            self.phantoms.start(rec, self._phantom_entry(rec))
            self.engine.tickers.want("phantoms", self.phantoms.symbols)
        elif rec.status == RecommendationStatus.EXECUTED and rec.order_link_id:
            self.guard.remember(rec.order_link_id, rec.strategy)
        self.engine.tickers.want("pending", {r.symbol for r in self.pending()})
        self.engine.announce([RecommendationChanged(recommendation=rec, exchange_ts=0, received_ns=time.time_ns())])
        return rec

    def _phantom_entry(self, rec: Recommendation) -> Decimal | None:
        """Follow from the current price when it is still between the stop and the target, else from the entry."""
        price = self.engine.state.last_price(rec.symbol)
        if price and rec.tradable_at(price):
            return price
        return None

    def _save_cycle(self, cycle: CycleRow) -> CycleRow:
        if self.writer is not None:
            self.writer.enqueue(SaveCycle(cycle))
        return cycle

    def pending(self) -> list[Recommendation]:
        return [r for r in self.recommendations.values() if r.status == RecommendationStatus.PENDING]

    # -- the cycle ----------------------------------------------------------------------------------

    async def run_cycle(self, trigger: str = "manual") -> CycleRow:
        """Analyse, gate, record every idea, then execute (auto-approve) or leave pending; returns the cycle row."""
        settings = self.settings.current
        started = _now_ms()
        state = self.engine.state
        cycle = CycleRow(
            id=new_cycle_id(started),
            started_ms=started,
            timeframe=settings.timeframe,
            status="running",
            slots_at_start=free_slots(state, settings),
            positions_at_start=len(state.positions),
        )
        if self._lock.locked():
            return self._save_cycle(
                replace(cycle, status="skipped", finished_ms=started, skip_reason="the previous cycle is still running")
            )
        async with self._lock:
            self._save_cycle(cycle)
            self._expire_pending()
            try:
                proposals = self.ml.score(await self.analysis.propose(settings, state, self.engine.client.now_ms()))
                self.ml.retrain_when_due()  # in the background: this cycle scores with the model it has
            except (CycleSkipped, StrategyLoadError) as err:
                status = "failed" if isinstance(err, StrategyLoadError) else "skipped"
                log.warning("cycle %s %s: %s", cycle.id, status, err)
                return self._save_cycle(replace(cycle, status=status, finished_ms=_now_ms(), skip_reason=str(err)))
            except Exception as err:
                log.exception("cycle %s failed", cycle.id)
                return self._save_cycle(replace(cycle, status="failed", finished_ms=_now_ms(), skip_reason=str(err)))
            try:
                await self._count_closed_trades()
                book = self._gate_book(state, settings, self.ml.min_score())
                approved, rejected = await self._settle(decide(proposals, book, cycle.id), settings)
            except Exception as err:
                log.exception("cycle %s failed while settling its ideas", cycle.id)
                return self._save_cycle(
                    replace(
                        cycle,
                        status="failed",
                        finished_ms=_now_ms(),
                        skip_reason=str(err),
                        recommendations=len(proposals),
                    )
                )
            done = replace(
                cycle,
                status="done",
                finished_ms=_now_ms(),
                recommendations=len(proposals),
                approved=approved,
                rejected=rejected,
                skip_reason=None if proposals else f"no trade ideas ({self.analysis.holds} HOLD)",
            )
            log.info(
                "cycle %s (%s): %d ideas, %d approved, %d rejected",
                cycle.id,
                trigger,
                len(proposals),
                approved,
                rejected,
            )
            return self._save_cycle(done)

    async def _settle(self, decisions: list[Decision], settings: TradingSettings) -> tuple[int, int]:
        """Record each decision; passed ones execute now under auto-approve, else wait for `a`/`d`."""
        approved = rejected = 0
        for decision in decisions:
            rec = decision.recommendation
            if not decision.verdict.passed:
                rejected += 1
                if decision.verdict.blocked_by_guard:
                    self.guard.note_blocked(rec.strategy, rec.created_ms)
                self.record(replace(rec, status=RecommendationStatus.REJECTED.value, fate=decision.verdict.reason))
            elif settings.auto_approve_trades:
                approved += 1
                await self._execute(
                    replace(rec, status=RecommendationStatus.APPROVED.value, fate="auto-approved"),
                    decision.verdict.replaces,
                )
            else:
                self.record(replace(rec, fate=f"awaiting approval: {decision.verdict.reason}"))
        return approved, rejected

    async def _execute(self, rec: Recommendation, replaces: str | None) -> Recommendation:
        self.record(rec)
        done = self.record(await self.executor.execute(rec, self.settings.current, replaces))
        if done.status == RecommendationStatus.EXECUTED:
            self.entry_scores[done.symbol] = float(done.confidence)
        return done

    def _expire_pending(self) -> None:
        """Ideas left unapproved until the next cycle expire (and are followed as phantoms)."""
        for rec in self.pending():
            self.record(
                replace(
                    rec,
                    status=RecommendationStatus.EXPIRED.value,
                    fate="not approved before the next cycle",
                    updated_ms=_now_ms(),
                )
            )

    # -- the win-rate guard ---------------------------------------------------------------------------

    def _phantom_closed(self, phantom: PhantomRow) -> None:
        for outcome in self.guard.take_closed([], [phantom]):
            self._guard_changed(self.guard.record(outcome))

    async def _count_closed_trades(self) -> None:
        """Count the trades of the bot's entries that closed since the last cycle (as the store has them)."""
        if self.conn is None or not self.guard.strategy_of:
            return
        for outcome in self.guard.take_closed(await load_trades(self.conn, "closed"), []):
            self._guard_changed(self.guard.record(outcome))

    def _guard_changed(self, change: WrGuardChanged | None) -> None:
        """Log a trip or recovery and put it on the bus (the alert service raises it)."""
        if change is not None:
            log.warning("%s", change.text)
            self.engine.announce([change])

    # -- approvals ----------------------------------------------------------------------------------

    async def approve(self, rec_id: str) -> Recommendation:
        """Execute a pending recommendation after re-checking the gates against the account as it is now."""
        async with self._lock:  # one decision at a time: a cycle or another approval may be taking the last slot
            return await self._approve(rec_id)

    async def _approve(self, rec_id: str) -> Recommendation:
        rec = self._approvable(rec_id)
        settings = self.settings.current
        proposal = _as_proposal(rec)
        verdict = gate(proposal, self._gate_book(self.engine.state, settings))
        if not verdict.passed:
            return self.record(
                replace(rec, status=RecommendationStatus.REJECTED.value, fate=verdict.reason, updated_ms=_now_ms())
            )
        return await self._execute(
            replace(
                rec, status=RecommendationStatus.APPROVED.value, fate="approved by the trader", updated_ms=_now_ms()
            ),
            verdict.replaces,
        )

    def _gate_book(self, state: AccountState, settings: TradingSettings, ml: float | None = None) -> GateBook:
        """The account as the gates see it now, with the symbols other bots hold (open trades of the store's ledger)."""
        trades = self.writer.ledger.open_trades() if self.writer is not None and self.writer.ledger is not None else []
        blocked = self.guard.blocked()
        book = gate_book(state, settings, self.entry_scores, blocked, ml, open_trades=trades, bot_id=self.bot_id)
        if self.shared is not None:
            self.shared.restrict(book)
        return book

    def _approvable(self, rec_id: str) -> Recommendation:
        """The pending recommendation; one whose price has passed its stop expires now and is refused (ValueError)."""
        rec = self.recommendations.get(rec_id)
        price = self.engine.state.last_price(rec.symbol) if rec is not None else None
        if rec is not None and rec.status == RecommendationStatus.PENDING and price:
            why = rec.stale_reason(price)
            rec = self._expire(rec, why) if why else rec
        if rec is not None and rec.status == RecommendationStatus.EXPIRED:
            raise ValueError(f"{rec.symbol} {rec.side.value} idea expired, not approved: {rec.fate}")
        if rec is None or rec.status != RecommendationStatus.PENDING:
            raise ValueError("only a pending recommendation can be approved")
        return rec

    def dismiss(self, rec_id: str) -> Recommendation:
        """Decline a pending recommendation; it is followed as a phantom."""
        rec = self.recommendations.get(rec_id)
        if rec is None or rec.status != RecommendationStatus.PENDING:
            raise ValueError("only a pending recommendation can be dismissed")
        return self.record(
            replace(
                rec, status=RecommendationStatus.DISMISSED.value, fate="dismissed by the trader", updated_ms=_now_ms()
            )
        )

    # -- timers -------------------------------------------------------------------------------------

    async def _schedule_once(self) -> None:
        """Sleep until just after the next bar boundary of the timeframe, then run a cycle if run_cycles is on."""
        now = self.engine.client.now_ms()
        wake = next_boundary_ms(now, self.settings.current.timeframe) + SETTLE_MS
        if wake - now > SCHEDULE_NAP_MS:  # wake up now and then: the timeframe may change meanwhile
            await asyncio.sleep(SCHEDULE_NAP_MS / 1000)
            return
        await asyncio.sleep((wake - now) / 1000)
        if self.settings.current.run_cycles:
            await self.run_cycle("schedule")

    def _expire_phantoms(self) -> None:
        """Close the phantoms past their timeout, and keep tickers only for the symbols still followed."""
        last = self.engine.state.last_price
        self.phantoms.expire({s: price for s in self.phantoms.symbols if (price := last(s))})
        self.engine.tickers.want("phantoms", self.phantoms.symbols)


def _as_proposal(rec: Recommendation) -> Proposal:
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
