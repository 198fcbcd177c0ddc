"""The analysis cycle on the embedded exchange: audit rows, gating, execution, approvals and phantoms."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.config import Settings
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.store.repos import count, load_cycles, load_phantoms, load_recommendations

PERMISSIVE = {"min_confidence_threshold": 0.0, "min_rr": Decimal("0.1"), "timeframe": "1", "run_cycles": False}
STRICT = {"min_confidence_threshold": 1.0, "min_rr": Decimal("100"), "timeframe": "1", "run_cycles": False}


def settings_with(**trading: object) -> Settings:
    settings = fast_settings()
    settings.trading = settings.trading.model_copy(update=trading)
    return settings


async def started(tmp_path: Path, **trading: object) -> Runtime:
    return await start_runtime(settings_with(**trading), tmp_path / "bot.db", schedule_cycles=False)


async def test_auto_approved_cycle_writes_cycle_recommendation_order_and_trade_rows(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, **PERMISSIVE)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        assert cycle.status == "done" and cycle.approved >= 1, cycle
        executed = [r for r in rt.bot.recommendations.values() if r.status == RecommendationStatus.EXECUTED]
        assert executed and all(r.order_link_id for r in executed)
        await wait_for(lambda: all(r.symbol in rt.engine.state.positions for r in executed))
        await rt.engine.drain()
        await rt.writer.flush()
        cycles = await load_cycles(rt.conn)
        assert [(c.id, c.status, c.approved) for c in cycles] == [(cycle.id, "done", cycle.approved)]
        assert cycles[0].slots_at_start == 3 and cycles[0].positions_at_start == 0
        stored = {r.id: r for r in await load_recommendations(rt.conn, cycle.id)}
        assert {r.id for r in executed} <= set(stored) and len(stored) == cycle.recommendations
        assert await count(rt.conn, "orders") >= len(executed)
        assert await count(rt.conn, "trades") >= len(executed)
        for rec in executed:
            pos = rt.engine.state.positions[rec.symbol]
            assert pos.side is rec.side and pos.stop_loss == rec.stop_loss and pos.take_profit == rec.take_profit
    finally:
        await rt.close()


async def test_strict_thresholds_reject_everything_follow_phantoms_and_send_nothing(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, **STRICT)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        assert cycle.status == "done" and cycle.recommendations >= 1 and cycle.approved == 0
        assert cycle.rejected == cycle.recommendations
        await rt.writer.flush()
        recs = await load_recommendations(rt.conn, cycle.id)
        assert recs and all(r.status == "rejected" and r.fate for r in recs)
        assert {p.recommendation_id for p in await load_phantoms(rt.conn)} == {r.id for r in recs}
        assert await count(rt.conn, "orders") == 0
        assert not await rt.client.fetch_open_orders() and not [p for p in await rt.client.fetch_positions() if p.size]
    finally:
        await rt.close()


async def test_rejected_idea_whose_target_is_reached_closes_as_a_phantom_win(tmp_path: Path) -> None:
    rt = await started(tmp_path, **STRICT)
    try:
        assert rt.bot is not None
        await rt.bot.run_cycle("test")
        phantom = next(iter(rt.bot.phantoms.open.values()))
        sim = sim_of(rt)
        beyond = phantom.tp + (phantom.tp - phantom.entry) * Decimal("0.1")
        sim.engine.markets[phantom.symbol].set_price(beyond, sim.clock.now_ms())
        sim.step_once()
        await wait_for(lambda: phantom.id not in rt.bot.phantoms.open)
        await rt.writer.flush()
        stored = {p.id: p for p in await load_phantoms(rt.conn)}[phantom.id]
        assert (stored.outcome, stored.exit_price) == ("win", phantom.tp)
        assert stored.max_favourable >= (phantom.tp - phantom.entry) * phantom.side.sign
    finally:
        await rt.close()


async def test_pending_idea_is_approved_or_dismissed_by_the_trader(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=False, **PERMISSIVE)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        pending = rt.bot.pending()
        assert pending and cycle.approved == 0 and not rt.engine.state.positions
        done = await rt.bot.approve(pending[0].id)
        assert done.status == RecommendationStatus.EXECUTED, done.fate
        await wait_for(lambda: done.symbol in rt.engine.state.positions)
        assert len(pending) >= 2, "both watchlist symbols should have an idea under permissive gates"
        dismissed = rt.bot.dismiss(pending[1].id)
        assert dismissed.status == RecommendationStatus.DISMISSED
        assert any(p.recommendation_id == dismissed.id for p in rt.bot.phantoms.open.values())
        await rt.bot.run_cycle("next")
        assert all(
            r.status != RecommendationStatus.PENDING for r in rt.bot.recommendations.values() if r.cycle_id == cycle.id
        )
    finally:
        await rt.close()


async def test_a_bad_strategy_path_fails_the_cycle_with_the_reason(tmp_path: Path) -> None:
    rt = await started(tmp_path, strategies=["no_such_module.Strategy"], **PERMISSIVE)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        assert cycle.status == "failed" and "no_such_module" in (cycle.skip_reason or "")
    finally:
        await rt.close()


async def holding_a_weak_position(rt: Runtime) -> str:
    """Run a cycle that opens one position, mark it as opened on a very weak idea, and turn replacement on."""
    assert rt.bot is not None
    await rt.bot.run_cycle("first")
    await wait_for(lambda: bool(rt.engine.state.positions))
    held = next(iter(rt.engine.state.positions))
    rt.bot.entry_scores[held] = 0.0
    rt.trading.update({"enable_intelligent_replacement": True, "min_score_improvement": 0.01})
    return held


async def test_full_slots_replace_the_weakest_bot_position_when_the_new_idea_is_better(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, max_concurrent_trades=1, **PERMISSIVE)
    try:
        bot = rt.bot
        assert bot is not None
        held = await holding_a_weak_position(rt)
        cycle = await bot.run_cycle("second")
        replaced = [r for r in bot.recommendations.values() if r.cycle_id == cycle.id and r.status == "executed"]
        assert replaced, [(r.symbol, r.status, r.fate) for r in bot.recommendations.values() if r.cycle_id == cycle.id]
        new_symbol = replaced[0].symbol
        assert new_symbol != held
        await wait_for(lambda: set(rt.engine.state.positions) == {new_symbol})
        closing = [o for o in rt.engine.state.closed_orders.values() if o.symbol == held and "-rp-" in o.order_link_id]
        assert [o.status.value for o in closing] == ["Filled"]
    finally:
        await rt.close()


async def test_entry_is_sized_on_margin_left_after_the_marks_moved_not_refused_by_the_exchange(tmp_path: Path) -> None:
    """The wallet topic fires on account events only; a losing position since then leaves less margin to spare."""
    rt = await started(
        tmp_path,
        auto_approve_trades=True,
        risk_percentage=Decimal(100),
        max_loss_usd=Decimal(10**6),
        leverage=Decimal(5),
        **PERMISSIVE,
    )
    try:
        assert rt.bot is not None
        sim = sim_of(rt)
        await rt.orders.set_leverage("BTCUSDT", Decimal(5))
        btc = sim.engine.markets["BTCUSDT"]
        qty = (Decimal(45000) / btc.last_price).quantize(Decimal("0.001"))  # 9,000 of the 10,000 as margin
        await rt.orders.place("BTCUSDT", Side.BUY, qty)
        await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions)
        await asyncio.sleep(0.3)
        wallet = rt.engine.state.wallet
        btc.set_price(btc.last_price * Decimal("0.985"), sim.clock.now_ms())  # about -675 USDT of uPnL
        sim.step_once()
        await wait_for(lambda: rt.engine.state.positions["BTCUSDT"].unrealised_pnl < -600)
        assert rt.engine.state.wallet is wallet, "the exchange pushed a wallet update; the stale case is not set up"
        cycle = await rt.bot.run_cycle("test")
        eth = [r for r in rt.bot.recommendations.values() if r.cycle_id == cycle.id and r.symbol == "ETHUSDT"]
        assert eth and eth[0].status == "executed", [(r.symbol, r.status, r.fate) for r in eth]
    finally:
        await rt.close()


async def test_paper_trading_on_a_live_money_venue_sends_nothing_and_follows_a_phantom(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, paper_trading=True, **PERMISSIVE)
    try:
        assert rt.bot is not None
        rt.bot.executor.live_money = True  # as on mainnet; the embedded exchange itself is a paper venue
        cycle = await rt.bot.run_cycle("test")
        papers = [r for r in rt.bot.recommendations.values() if r.cycle_id == cycle.id and r.status == "paper"]
        assert papers and cycle.approved == len(papers)
        assert {p.recommendation_id for p in rt.bot.phantoms.open.values()} >= {r.id for r in papers}
        await asyncio.sleep(0.2)
        assert not rt.engine.state.positions and not await rt.client.fetch_open_orders()
    finally:
        await rt.close()


async def test_pending_ideas_and_open_phantoms_come_back_after_a_restart(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=False, **PERMISSIVE)
    assert rt.bot is not None
    await rt.bot.run_cycle("test")
    pending = {r.id for r in rt.bot.pending()}
    dismissed = rt.bot.dismiss(sorted(pending)[0]).id
    phantoms = set(rt.bot.phantoms.open)
    await rt.close()
    assert pending and phantoms
    again = await started(tmp_path, auto_approve_trades=False, **PERMISSIVE)
    try:
        assert again.bot is not None
        assert {r.id for r in again.bot.pending()} == pending - {dismissed}
        assert again.bot.recommendations[dismissed].status == "dismissed"
        assert set(again.bot.phantoms.open) == phantoms
    finally:
        await again.close()
