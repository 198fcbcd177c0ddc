"""The win-rate guard in the bot on the embedded exchange: rebuilt tripped from stored phantom losses, it blocks
every real entry (each idea followed as a phantom, counted per day, alerted), lets a strategy through again once
a phantom of it wins, and counts the bot's closed trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.bot.test_cycle import PERMISSIVE, settings_with
from tests.core.conftest import sim_of, wait_for
from tui_bot.core.stats import day_of
from tui_bot.core.strategies import BUILTINS
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.domain.alerts import AlertKind, Severity
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.store.ops import SavePhantom, SaveRecommendation
from tui_bot.store.repos import count
from tui_bot.store.rows import PhantomRow

GUARD = SignalSettings(
    wr_guard_min=0.3, wr_guard_window=2, wr_guard_min_sample=2, wr_guard_hysteresis=0.1, wr_guard_phantom_weight=1
)
D = Decimal


def lost_idea(n: int, strategy: str) -> tuple[Recommendation, PhantomRow]:
    """A rejected idea of the strategy, followed as a phantom that hit its stop."""
    rec = Recommendation(
        id=f"old-{strategy}-{n}",
        cycle_id=None,
        symbol="BTCUSDT",
        side=Side.BUY,
        confidence=D("0.7"),
        entry=D(100),
        stop_loss=D(90),
        take_profit=D(120),
        rr=D(2),
        strategy=strategy,
        strategy_version="1.0",
        reasoning="scripted",
        status="rejected",
        created_ms=1_000 + n,
        updated_ms=1_000 + n,
    )
    phantom = PhantomRow(
        f"ph-{rec.id}", rec.id, "BTCUSDT", Side.BUY, D(100), D(90), D(120), 1_000 + n, 2_000 + n, "loss", D(90)
    )
    return rec, phantom


async def guarded(tmp_path: Path, *, losses: int, **trading: object) -> Runtime:
    """A runtime whose store holds `losses` lost phantoms of every built-in strategy (auto-approving, permissive)."""
    settings = settings_with(**{"auto_approve_trades": True, **PERMISSIVE, **trading})
    settings.signals = GUARD
    db = tmp_path / "guard.db"
    if losses:
        seeder = await start_runtime(settings, db, trading_bot=False, schedule_cycles=False, protect=False)
        for strategy in BUILTINS:
            for n in range(losses):
                rec, phantom = lost_idea(n, strategy)
                seeder.writer.enqueue(SaveRecommendation(rec))
                seeder.writer.enqueue(SavePhantom(phantom))
        await seeder.writer.flush()
        await seeder.close()
    return await start_runtime(settings, db, schedule_cycles=False)


def guard_alerts(rt: Runtime, severity: Severity) -> dict[str, str]:
    assert rt.alerts is not None
    return {a.subject: a.text for a in rt.alerts.recent() if a.kind is AlertKind.WR_GUARD and a.severity is severity}


async def test_a_tripped_strategy_trades_nothing_its_ideas_become_phantoms_and_a_win_lets_it_through(
    tmp_path: Path,
) -> None:
    rt = await guarded(tmp_path, losses=2)
    try:
        assert rt.bot is not None
        blocked = rt.bot.guard.blocked()
        assert blocked == {s: f"WR guard: {s} 0% < 30% over 2" for s in BUILTINS}
        await wait_for(lambda: guard_alerts(rt, Severity.WARNING) == blocked)
        cycle = await rt.bot.run_cycle("test")
        assert cycle.recommendations >= 1 and cycle.approved == 0 and cycle.rejected == cycle.recommendations
        ideas = [r for r in rt.bot.recommendations.values() if r.cycle_id == cycle.id]
        assert all(r.status == RecommendationStatus.REJECTED and r.fate == blocked[r.strategy] for r in ideas)
        followed = {p.recommendation_id: p for p in rt.bot.phantoms.open.values()}
        assert {r.id for r in ideas} <= set(followed)
        await rt.writer.flush()
        assert await count(rt.conn, "orders") == 0
        per_strategy: dict[str, int] = {}
        for r in ideas:
            per_strategy[r.strategy] = per_strategy.get(r.strategy, 0) + 1
        assert rt.bot.guard.blocked_on(day_of(ideas[0].created_ms)) == per_strategy
        summary = rt.backend.last_cycle()  # what the console's Recommendations title names
        assert summary is not None
        assert dict(summary.top_rejections(5)) == {blocked[s]: n for s, n in per_strategy.items()}
        report = await rt.backend.stats_report()
        assert {(x.strategy, x.blocked, x.blocked_today) for x in report.guard} >= {
            (s, True, n) for s, n in per_strategy.items()
        }

        winner = followed[ideas[0].id]
        sim = sim_of(rt)
        beyond = winner.tp + (winner.tp - winner.entry) * D("0.1")
        sim.engine.markets[winner.symbol].set_price(beyond, sim.clock.now_ms())
        sim.step_once()
        await wait_for(lambda: winner.id not in rt.bot.phantoms.open)
        strategy = ideas[0].strategy
        assert strategy not in rt.bot.guard.blocked() and rt.bot.guard.rate(strategy) == (0.5, 2)
        await wait_for(lambda: strategy in guard_alerts(rt, Severity.CLEARED))
        assert "back to 50% over 2" in guard_alerts(rt, Severity.CLEARED)[strategy]
    finally:
        await rt.close()


async def test_the_bots_closed_trades_count_for_their_strategy(tmp_path: Path) -> None:
    rt = await guarded(tmp_path, losses=0)
    try:
        assert rt.bot is not None
        await rt.bot.run_cycle("test")
        executed = [r for r in rt.bot.recommendations.values() if r.status == RecommendationStatus.EXECUTED]
        assert executed and all(r.order_link_id in rt.bot.guard.strategy_of for r in executed)
        entry = executed[0]
        await wait_for(lambda: entry.symbol in rt.engine.state.positions)
        await rt.backend.close_position(entry.symbol)
        await wait_for(lambda: entry.symbol not in rt.engine.state.positions)
        await rt.engine.drain()
        await rt.writer.flush()
        assert rt.bot.guard.rate(entry.strategy)[1] == 0
        await rt.bot.run_cycle("next")
        assert rt.bot.guard.rate(entry.strategy)[1] == 1 and entry.order_link_id not in rt.bot.guard.strategy_of
    finally:
        await rt.close()


async def test_a_phantom_loss_during_the_run_trips_the_guard_and_the_next_cycle_blocks_that_strategy(
    tmp_path: Path,
) -> None:
    rt = await guarded(tmp_path, losses=1, auto_approve_trades=False)
    try:
        assert rt.bot is not None and rt.bot.guard.blocked() == {}  # one outcome each: below the sample of 2
        rt.backend.update_settings({"min_confidence_threshold": 1.0})  # every idea rejected: followed as phantoms
        first = await rt.bot.run_cycle("test")
        assert first.recommendations >= 1 and first.rejected == first.recommendations
        followed = {p.recommendation_id: p for p in rt.bot.phantoms.open.values()}
        loser = next(r for r in rt.bot.recommendations.values() if r.cycle_id == first.id and r.id in followed)
        phantom = followed[loser.id]
        sim = sim_of(rt)
        beyond = phantom.sl - (phantom.entry - phantom.sl) * D("0.1")  # past its stop, either side
        sim.engine.markets[phantom.symbol].set_price(beyond, sim.clock.now_ms())
        sim.step_once()
        await wait_for(lambda: loser.strategy in rt.bot.guard.blocked())
        reason = rt.bot.guard.blocked()[loser.strategy]
        assert reason == f"WR guard: {loser.strategy} 0% < 30% over 2"
        await wait_for(lambda: guard_alerts(rt, Severity.WARNING).get(loser.strategy) == reason)
        rt.backend.update_settings({"min_confidence_threshold": 0.0})
        second = await rt.bot.run_cycle("next")
        ideas = [r for r in rt.bot.recommendations.values() if r.cycle_id == second.id]
        blocked = [r for r in ideas if r.strategy == loser.strategy]
        assert blocked and all(r.status == RecommendationStatus.REJECTED and r.fate == reason for r in blocked)
        assert rt.bot.guard.blocked_on(day_of(second.started_ms)).get(loser.strategy) == len(blocked)
    finally:
        await rt.close()
