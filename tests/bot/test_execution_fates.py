"""What the executor does when the account moves under it: a replacement whose entry fails after the close,
an entry's margin reported by the wallet, leverage changed by the trader. All against the embedded exchange."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from tests.bot.test_cycle import PERMISSIVE, holding_a_weak_position, started
from tests.core.conftest import sim_of, wait_for
from tui_bot.domain.events import Event, PositionUpdated


async def test_a_replacement_whose_entry_fails_after_the_close_says_the_position_was_closed(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, max_concurrent_trades=1, **PERMISSIVE)
    try:
        bot = rt.bot
        assert bot is not None
        held = await holding_a_weak_position(rt)  # the next better idea replaces it
        sim = sim_of(rt)

        def refuse_the_entry_once_flat(event: Event) -> None:  # the close went through: the next order is the entry
            if (
                isinstance(event, PositionUpdated)
                and event.position.symbol == held
                and not event.position.size
                and not sim.faults.order_rejects
            ):
                sim.faults.order_rejects.append((110007, "ab not enough for new order"))

        rt.engine.listeners.append(refuse_the_entry_once_flat)
        cycle = await bot.run_cycle("second")
        failed = [r for r in bot.recommendations.values() if r.cycle_id == cycle.id and r.status == "failed"]
        assert [r.fate for r in failed] == [
            f"closed {held} to make room, then the entry failed: Insufficient balance (110007)"
        ]
        await asyncio.sleep(0.3)
        assert rt.engine.state.positions == {}
    finally:
        await rt.close()


async def test_an_entry_reported_by_the_wallet_is_not_counted_again_for_the_next_one(tmp_path: Path) -> None:
    rt = await started(
        tmp_path,
        auto_approve_trades=True,
        max_concurrent_trades=1,
        risk_percentage=Decimal(1),
        max_loss_usd=Decimal(10**6),
        leverage=Decimal(5),
        **PERMISSIVE,
    )
    try:
        bot = rt.bot
        assert bot is not None
        await bot.run_cycle("first")
        first = [r.symbol for r in bot.recommendations.values() if r.status == "executed"]
        assert len(first) == 1
        await wait_for(lambda: first[0] in rt.engine.state.positions)
        await asyncio.sleep(0.5)  # the wallet update with this entry's margin has come in
        rt.trading.update({"max_concurrent_trades": 3})
        cycle = await bot.run_cycle("second")
        second = [(r.symbol, r.status, r.fate) for r in bot.recommendations.values() if r.cycle_id == cycle.id]
        assert any(status == "executed" for _, status, _ in second), second
        assert not any("not enough available margin" in fate for _, _, fate in second), second
    finally:
        await rt.close()


async def test_leverage_the_trader_changed_is_set_back_before_the_next_entry(tmp_path: Path) -> None:
    rt = await started(tmp_path, auto_approve_trades=True, max_concurrent_trades=3, leverage=Decimal(5), **PERMISSIVE)
    try:
        bot = rt.bot
        assert bot is not None
        await bot.run_cycle("first")
        executed = [r.symbol for r in bot.recommendations.values() if r.status == "executed"]
        assert executed
        await wait_for(lambda: all(s in rt.engine.state.positions for s in executed))
        await rt.orders.close_all()
        await wait_for(lambda: not rt.engine.state.positions)
        for symbol in executed:  # what the console's `l` key does
            await rt.orders.set_leverage(symbol, Decimal(1))
        bot.analysis.watchlist = list(executed)  # the next entry is in a symbol the bot has set 5x on before
        cycle = await bot.run_cycle("second")
        again = [r.symbol for r in bot.recommendations.values() if r.cycle_id == cycle.id and r.status == "executed"]
        assert again
        await wait_for(lambda: all(s in rt.engine.state.positions for s in again))
        assert {s: rt.engine.state.positions[s].leverage for s in again} == {s: Decimal(5) for s in again}
    finally:
        await rt.close()
