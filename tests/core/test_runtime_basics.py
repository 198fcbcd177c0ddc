"""The client core on the happy path: fills land in the DB, state equals REST, tickers follow positions."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.cli import send_fault
from tui_bot.domain.enums import Side, StopOrderType
from tui_bot.exchange.errors import RetryableError
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange


async def test_market_buy_with_tpsl_is_recorded_and_matches_rest(runtime: Runtime) -> None:
    state = runtime.engine.state
    ack = await runtime.orders.place(
        "SOLUSDT", Side.BUY, Decimal("2.0"), take_profit=Decimal("250"), stop_loss=Decimal("120")
    )
    await wait_for(
        lambda: "SOLUSDT" in state.positions and len(state.open_orders) == 2 and ack.order_id in state.closed_orders
    )
    rest_pos = (await runtime.client.rest.call("get_positions", category="linear", symbol="SOLUSDT"))["list"][0]
    pos = state.positions["SOLUSDT"]
    assert (pos.side.value, pos.size, pos.entry_price) == (
        rest_pos["side"],
        Decimal(rest_pos["size"]),
        Decimal(rest_pos["avgPrice"]),
    )
    assert (pos.take_profit, pos.stop_loss) == (Decimal("250"), Decimal("120"))
    assert {o.stop_order_type for o in state.open_orders.values()} == {
        StopOrderType.TAKE_PROFIT,
        StopOrderType.STOP_LOSS,
    }
    await runtime.writer.flush()
    db = sqlite3.connect(runtime.db_path)
    execs = [
        (link, Decimal(qty), reason)
        for link, qty, reason in db.execute("select order_link_id, qty, reason from executions")
    ]
    assert execs == [(ack.order_link_id, Decimal("2"), "manual_entry")]
    assert db.execute("select count(*) from orders where order_id = ?", (ack.order_id,)).fetchone() == (1,)
    trade = [
        (sym, side, Decimal(qty), Decimal(entry), status)
        for sym, side, qty, entry, status in db.execute("select symbol, side, qty, entry_price, status from trades")
    ]
    assert trade == [("SOLUSDT", "Buy", Decimal("2"), pos.entry_price, "open")]


async def test_unrealised_pnl_follows_the_ticker(runtime: Runtime) -> None:
    state = runtime.engine.state
    await runtime.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
    await wait_for(lambda: "BTCUSDT" in state.positions)
    pos = state.positions["BTCUSDT"]
    sim = sim_of(runtime)
    target = pos.entry_price + Decimal("500")
    sim.engine.markets["BTCUSDT"].set_price(target, sim.clock.now_ms())
    await wait_for(lambda: state.positions["BTCUSDT"].mark_price == sim.engine.markets["BTCUSDT"].mark_price)
    mark = state.positions["BTCUSDT"].mark_price
    assert abs(mark - target) < Decimal("10")
    assert state.positions["BTCUSDT"].unrealised_pnl == (mark - pos.entry_price) * Decimal("0.010")


async def test_ticker_subscriptions_follow_positions(runtime: Runtime) -> None:
    state = runtime.engine.state
    watch = {f"tickers.{s}" for s in runtime.settings.bot.watchlist}
    assert runtime.client.ticker_topics == watch
    await runtime.orders.place("SOLUSDT", Side.SELL, Decimal("1.0"))
    await wait_for(lambda: "tickers.SOLUSDT" in runtime.client.ticker_topics)
    await wait_for(lambda: "SOLUSDT" in state.tickers and state.tickers["SOLUSDT"].last_price > 0)
    await runtime.orders.close_position("SOLUSDT")
    await wait_for(lambda: "SOLUSDT" not in state.positions)
    await wait_for(lambda: runtime.client.ticker_topics == watch)


async def test_restart_on_the_same_db_with_a_fresh_embedded_exchange_records_new_fills(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    first = await make_runtime()
    try:
        await first.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: len(first.engine.state.exec_ids) == 1)
    finally:
        await first.close()
    second = await make_runtime()
    try:
        await second.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: "BTCUSDT" in second.engine.state.positions)
        await wait_for(lambda: len(second.engine.state.exec_ids) == 2)
        await second.writer.flush()
        db = sqlite3.connect(second.db_path)
        assert db.execute("select count(distinct exec_id) from executions").fetchone() == (2,)
    finally:
        await second.close()


async def test_the_embedded_exchange_admin_url_is_in_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tui_bot.runtime")
    rt = await start_runtime(fast_settings(), tmp_path / "bot.db")
    try:
        [admin] = {
            m for r in caplog.records for m in re.findall(r"admin (http://127\.0\.0\.1:\d+/_sim)", r.getMessage())
        }
        assert admin == sim_of(rt).urls.admin
        assert await asyncio.to_thread(send_fault, admin, "clear", []) == 0  # `tui-bot fault clear --admin URL`
    finally:
        await rt.close()


async def test_a_start_that_fails_on_its_first_request_reports_it_instead_of_hanging(
    tmp_path: Path, sim: SimExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    settings = fast_settings()
    settings.exchange.venue = "custom"
    settings.exchange.rest_url, settings.exchange.public_ws_url = sim.urls.rest, sim.urls.public_ws
    settings.exchange.private_ws_url, settings.exchange.trade_ws_url = sim.urls.private_ws, sim.urls.trade_ws
    sim.faults.rest_errors.extend([10016] * 3)  # the instruments request fails on every attempt
    with pytest.raises(RetryableError):
        await asyncio.wait_for(start_runtime(settings, tmp_path / "bot.db"), 30)
    assert not sim.faults.rest_errors
