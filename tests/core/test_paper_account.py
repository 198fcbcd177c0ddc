"""The embedded exchange's paper account survives a restart: balance, position, its TP/SL, fills and day PnL."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.runtime import Runtime, SetupError, start_runtime

Make = Callable[..., Awaitable[Runtime]]
QTY = Decimal("0.010")
TICK = Decimal("0.10")


async def test_a_restarted_console_finds_its_paper_position_its_stops_and_its_fills(make_runtime: Make) -> None:
    first = await make_runtime()
    try:
        take_profit = floor_to_step(sim_of(first).engine.markets["BTCUSDT"].last_price * Decimal("1.2"), TICK)
        await first.orders.place("BTCUSDT", Side.BUY, QTY, take_profit=take_profit)
        await wait_for(lambda: "BTCUSDT" in first.engine.state.positions)
        await first.orders.place("BTCUSDT", Side.SELL, Decimal("0.004"))  # a partial close: realised PnL today
        await wait_for(lambda: first.engine.state.positions["BTCUSDT"].size == Decimal("0.006"))
        before = sim_of(first).engine.accounts[sim_of(first).api_key]
        balance, fills = before.wallet_balance, [e.exec_id for e in before.executions]
        day = first.backend.day_pnl().net
    finally:
        await first.close()
    second = await make_runtime()
    try:
        sim = sim_of(second)
        after = sim.engine.accounts[sim.api_key]
        assert after.wallet_balance == balance and [e.exec_id for e in after.executions] == fills
        position = second.engine.state.positions["BTCUSDT"]
        assert (position.size, position.take_profit) == (Decimal("0.006"), take_profit)
        assert [o.trigger_price for o in second.engine.state.open_orders.values()] == [take_profit]
        await wait_for(lambda: second.backend.day_pnl().net == day)
        assert day < 0, "the partial close paid fees at least"
    finally:
        await second.close()


async def test_the_file_holds_no_api_key_or_secret_and_keep_account_off_starts_afresh(
    make_runtime: Make, tmp_path: Path
) -> None:
    first = await make_runtime()
    key, secret = sim_of(first).api_key, sim_of(first).api_secret
    try:
        await first.orders.place("BTCUSDT", Side.BUY, QTY)
        await wait_for(lambda: "BTCUSDT" in first.engine.state.positions)
    finally:
        await first.close()
    saved = (tmp_path / "core.sim.json").read_text()
    assert key not in saved and secret not in saved and json.loads(saved)["version"] == 1
    settings = fast_settings()
    settings.sim.keep_account = False
    fresh = await make_runtime(settings)
    try:
        assert "BTCUSDT" not in fresh.engine.state.positions
    finally:
        await fresh.close()


async def test_an_unreadable_paper_account_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "core.sim.json").write_text('{"version": 1, "account": {"wallet_balance": "lots"}, "markets": []}')
    with pytest.raises(SetupError) as caught:
        await start_runtime(fast_settings(), tmp_path / "core.db")
    message = str(caught.value)
    assert message.startswith(f"paper account file {tmp_path / 'core.sim.json'}: malformed (") and "\n" not in message
