"""A trade left open by an earlier session is closed as "reconciled" when the exchange is flat at start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.config import Settings
from tui_bot.domain.enums import Side
from tui_bot.runtime import Runtime
from tui_bot.store.repos import load_trades
from tui_bot.store.trades import RECONCILED

QTY = Decimal("0.010")


async def _buy(rt: Runtime, fills_before: int) -> Decimal:
    """Market-buy QTY BTCUSDT, wait until its fill is stored, and return the position's entry price."""
    await rt.orders.place("BTCUSDT", Side.BUY, QTY)
    await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions and len(rt.engine.state.exec_ids) == fills_before + 1)
    await rt.writer.flush()
    return rt.engine.state.positions["BTCUSDT"].entry_price


def fresh_exchange() -> Settings:
    """Settings whose embedded exchange starts a new paper account each time (flat, as after a venue reset)."""
    settings = fast_settings()
    settings.sim.keep_account = False
    return settings


async def test_a_new_session_on_a_flat_exchange_does_not_extend_the_old_trade(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    first = await make_runtime(fresh_exchange())
    try:
        first_entry = await _buy(first, 0)
    finally:
        await first.close()

    second = await make_runtime(fresh_exchange())
    try:
        assert second.engine.state.positions == {}
        sim = sim_of(second)
        market = sim.engine.markets["BTCUSDT"]
        market.set_price(first_entry + Decimal("1000"), sim.clock.now_ms())
        second_entry = await _buy(second, 1)
        assert second_entry != first_entry
        trades = await load_trades(second.conn)
        assert len(trades) == 2, "the second session's fill extended the first session's trade"
        old, new = trades
        assert (old.status, old.exit_reason, old.pnl, old.pnl_pct, old.exit_price) == (
            "closed",
            RECONCILED,
            None,
            None,
            None,
        )
        assert (old.qty, old.entry_price) == (QTY, first_entry)
        assert old.exit_time is not None and old.entry_time <= old.exit_time  # stamped by our clock at the start
        assert (new.status, new.qty, new.entry_price) == ("open", QTY, second_entry)
        assert new.open_exec_id != old.open_exec_id
    finally:
        await second.close()

    third = await make_runtime(fresh_exchange())
    try:
        await third.writer.flush()
        trades = await load_trades(third.conn)
        assert len(trades) == 2
        old2, new2 = trades
        assert (old2.open_exec_id, old2.qty, old2.exit_reason, old2.pnl) == (old.open_exec_id, QTY, RECONCILED, None)
        assert (new2.open_exec_id, new2.qty, new2.entry_price) == (new.open_exec_id, QTY, second_entry)
        assert (new2.status, new2.exit_reason, new2.pnl) == ("closed", RECONCILED, None)
        assert third.writer.ledger is not None and third.writer.ledger.open_trades() == []
    finally:
        await third.close()
