"""Orders whose fate was in doubt: a lost reply after Bybit forgot closed orders, a panic whose cancel failed,
a fill missed during a gap that a later streamed fill must not hide. Each against the embedded exchange's faults."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tests.core.test_resilience import (
    account,
    exchange_positions,
    fill_of,
    private_stream_refused,
    settled,
    state_positions,
)
from tui_bot.core import engine as engine_module
from tui_bot.core.engine import EXEC_SYNCED_KEY
from tui_bot.domain.enums import OrderType, Side
from tui_bot.exchange.errors import RetryableError
from tui_bot.runtime import Runtime


async def test_lost_reply_is_resolved_from_order_history_when_realtime_forgot_the_filled_order(
    runtime: Runtime,
) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    assert runtime.client.trade is not None
    runtime.client.trade.request_timeout = 0.5
    sim.faults.order_cache_wiped = True  # as after a Bybit restart: order/realtime lists open orders only
    sim.faults.lost_replies = 1
    ack = await runtime.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))  # a market order: filled at once
    assert sim.faults.lost_replies == 0 and runtime.orders.resolved_by_query == 1
    [order] = account(sim).orders.values()
    assert (order.order_id, order.order_link_id) == (ack.order_id, ack.order_link_id), "one order, never re-sent"
    assert len(fill_of(sim, ack.order_link_id)) == 1
    await wait_for(lambda: "ETHUSDT" in runtime.engine.state.positions)


async def test_panic_closes_every_position_even_when_cancel_all_fails(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    runtime.orders.via = "ws"  # closes over the trade socket; cancel-all is REST, which fails once
    await runtime.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))
    await runtime.orders.place("SOLUSDT", Side.SELL, Decimal("2.0"))
    await wait_for(lambda: runtime.engine.state.last_price("BTCUSDT") is not None)
    price = runtime.engine.state.last_price("BTCUSDT")
    assert price is not None
    resting = await runtime.orders.place(
        "BTCUSDT",
        Side.BUY,
        Decimal("0.010"),
        order_type=OrderType.LIMIT,
        price=(price * Decimal("0.8")).quantize(Decimal("0.1")),
    )
    await wait_for(lambda: {"ETHUSDT", "SOLUSDT"} <= set(runtime.engine.state.positions))
    sim.faults.rest_errors.extend([10016] * 3)  # every attempt of the cancel-all
    with pytest.raises(RetryableError):
        await runtime.orders.close_all()
    assert await exchange_positions(runtime) == {}, "the positions were closed although the cancel failed"
    assert resting.order_id in {o.order_id for o in account(sim).open_orders("BTCUSDT")}, "the cancel really failed"


async def test_a_fill_missed_in_a_gap_is_reseeded_after_a_later_fill_streamed_in_first(
    make_runtime: Callable[..., Awaitable[Runtime]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_EXEC_LOOKBACK_MS", 300)  # REST's indexing margin, shortened for the test
    rt = await make_runtime(fast_settings(fallback_after_s=30.0))  # no polling: only reseeds can help
    try:
        sim, state = sim_of(rt), rt.engine.state
        await settled(rt)
        rt.orders.via = "rest"
        async with private_stream_refused(sim):
            await wait_for(lambda: not rt.client.private_live, 1.0)
            ack = await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))  # as a TP/SL firing in the gap
            [missed] = fill_of(sim, ack.order_link_id)
            await asyncio.sleep(0.5)  # the later fill comes more than the lookback after it
            sim.faults.rest_errors.extend([10016] * 12)  # the reconnect's reseed fails (4 calls x 3 attempts)
        await wait_for(lambda: rt.client.private_live and not sim.faults.rest_errors, 5.0)
        await asyncio.sleep(0.3)
        assert missed not in state.exec_ids, "the reconnect's reseed must have failed"
        later = await rt.orders.place("SOLUSDT", Side.BUY, Decimal("2.0"))  # streams in: the newest fill now
        await wait_for(lambda: set(fill_of(sim, later.order_link_id)) <= state.exec_ids.keys(), 3.0)
        await rt.engine.resync("periodic")
        await rt.engine.drain()
        assert missed in state.exec_ids, "the fill missed in the gap was never recovered"
        assert state_positions(rt) == await exchange_positions(rt)
    finally:
        await rt.close()


async def test_the_reseed_mark_is_stored_for_the_next_start(make_runtime: Callable[..., Awaitable[Runtime]]) -> None:
    rt = await make_runtime()
    try:
        await settled(rt)
        await rt.engine.resync("periodic")
        mark = rt.engine.state.exec_synced_ms
        assert mark > 0
    finally:
        await rt.close()
    with contextlib.closing(sqlite3.connect(rt.db_path)) as db:
        stored = db.execute("select value from config where key = ?", (EXEC_SYNCED_KEY,)).fetchall()
    assert stored == [(str(mark),)]  # start_runtime reads it back into state.exec_synced_ms


async def test_an_order_the_exchange_never_booked_is_sent_again_under_its_id_once_the_first_has_expired(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    settings = fast_settings()
    settings.exchange.recv_window_ms = 2500
    rt = await make_runtime(settings)
    try:
        sim = sim_of(rt)
        await settled(rt)
        rt.orders.via = "rest"
        sim.faults.rest_errors.append(10016)  # the create fails before it is booked: nothing at the exchange
        started = time.monotonic()
        ack = await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))
        waited = time.monotonic() - started
        assert rt.orders.resent == 1 and rt.orders.resolved_by_query == 0
        [order] = account(sim).orders.values()
        assert (order.order_id, order.order_link_id) == (ack.order_id, ack.order_link_id)
        assert waited >= 2.5, "sent again while the first request could still have been accepted"
    finally:
        await rt.close()
