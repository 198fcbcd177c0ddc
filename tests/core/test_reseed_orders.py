"""After a reseed the DB's orders table matches the exchange: orders that rested, filled, were cancelled or had their
TP/SL fire while the private stream was down, orders another program placed meanwhile, and orders a previous run
left open. The oracle is the exchange's own order history (status, cumExecQty, avgPrice) and its executions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SignedRest
from tests.core.conftest import custom_venue, fast_settings, sim_of, wait_for
from tests.core.test_resilience import (
    account,
    converged,
    db_rows,
    exchange_exec_ids,
    private_stream_refused,
    settled,
)
from tui_bot.core.order_reconcile import MAX_MISSES
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange

Row = tuple[str, Decimal, Decimal]
BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"
AGE_MS = 10_000  # how far the exchange's clock jumps so that resting orders predate the last reseed's query window


# -- oracles -------------------------------------------------------------------------------------------


async def exchange_orders(other: SignedRest, sim: SimExchange) -> dict[str, Row]:
    """Every order as the exchange's order history reports it: orderId → (status, cumExecQty, avgPrice)."""
    resp = await other.get("/v5/order/history", {"category": "linear", "limit": 50}, timestamp=sim.clock.now_ms())
    assert resp["retCode"] == 0 and resp["result"]["nextPageCursor"] == "", resp
    return {
        o["orderId"]: (o["orderStatus"], Decimal(o["cumExecQty"]), Decimal(o["avgPrice"] or 0))
        for o in resp["result"]["list"]
    }


async def stored_orders(rt: Runtime) -> dict[str, Row]:
    rows = await db_rows(rt, "select order_id, status, cum_exec_qty, avg_price from orders")
    return {str(i): (str(s), Decimal(str(q)), Decimal(str(p))) for i, s, q, p in rows}


async def db_matches_exchange(rt: Runtime, other: SignedRest, sim: SimExchange, timeout: float = 8.0) -> dict[str, Row]:
    """Wait until the DB's orders table equals the exchange's order history (the market keeps moving); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        on_exchange, in_db = await exchange_orders(other, sim), await stored_orders(rt)
        if in_db == on_exchange or time.monotonic() > deadline:
            assert in_db == on_exchange, _differences(in_db, on_exchange)
            return on_exchange
        await asyncio.sleep(0.1)


def _differences(in_db: dict[str, Row], on_exchange: dict[str, Row]) -> str:
    wrong = {i: (in_db.get(i), row) for i, row in on_exchange.items() if in_db.get(i) != row}
    return f"DB vs exchange differ for {len(wrong)} orders: {wrong}; DB only: {set(in_db) - set(on_exchange)}"


async def executions_match(rt: Runtime) -> None:
    await converged(rt)
    in_db = [row[0] for row in await db_rows(rt, "select exec_id from executions")]
    assert sorted(in_db) == sorted(exchange_exec_ids(sim_of(rt))), "executions missed or doubled"


async def statuses(rt: Runtime, order_ids: list[str]) -> list[str]:
    """The stored statuses of these orders, in their order ("missing" for an order without a row)."""
    rows = dict(
        await db_rows(
            rt, f"select order_id, status from orders where order_id in ({', '.join('?' * len(order_ids))})", *order_ids
        )
    )
    return [str(rows.get(i, "missing")) for i in order_ids]


# -- driving the exchange -------------------------------------------------------------------------------


def price(sim: SimExchange, symbol: str, factor: str) -> Decimal:
    """factor × the last price, on the symbol's tick grid."""
    tick = sim.engine.instruments[symbol].tick_size
    return (sim.engine.markets[symbol].last_price * Decimal(factor) / tick).to_integral_value() * tick


async def move_price(other: SignedRest, sim: SimExchange, symbol: str, factor: str) -> None:
    """Move the market through the admin endpoint (fills crossed limits, fires reached triggers)."""
    assert sim.urls is not None
    async with other.session.post(
        f"{sim.urls.admin}/price", json={"symbol": symbol, "price": str(price(sim, symbol, factor))}
    ) as resp:
        assert resp.status == 200, await resp.text()


async def signed(other: SignedRest, sim: SimExchange, path: str, **body: object) -> dict[str, object]:
    """A signed POST by another program (at the exchange's clock); returns its result."""
    resp = await other.post(path, {"category": "linear", **body}, timestamp=sim.clock.now_ms())
    assert resp["retCode"] == 0, resp
    return resp["result"]


async def age_orders(rt: Runtime, sim: SimExchange) -> None:
    """Let exchange time pass (its clock jumps) and reseed: the orders so far predate every later recent-order query."""
    sim.clock.skew_ms += AGE_MS
    await rt.client.rest.sync_clock()
    await rt.engine.resync("test: time passed")
    oldest_open = min(o.created_time for o in rt.engine.state.open_orders.values())
    assert oldest_open < rt.engine.state.exec_synced_ms - AGE_MS / 2, "the resting orders must be older than the window"


def status_of(sim: SimExchange, order_id: str) -> OrderStatus:
    return account(sim).orders[order_id].status


def tpsl_legs(sim: SimExchange, symbol: str) -> dict[str, str]:
    """The symbol's system TP/SL orders on the exchange: stopOrderType → orderId."""
    return {
        o.stop_order_type.value: o.order_id
        for o in account(sim).orders.values()
        if o.symbol == symbol and o.stop_order_type.value in ("TakeProfit", "StopLoss")
    }


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime that reseeds when the private stream comes back (no polling fallback within a test's span)."""
    runtime = await start_runtime(fast_settings(fallback_after_s=30.0), tmp_path / "core.db")
    yield runtime
    await runtime.close()


@pytest.fixture
async def other(rt: Runtime) -> AsyncIterator[SignedRest]:
    """Another program trading the same account over signed REST."""
    sim = sim_of(rt)
    assert sim.urls is not None
    client = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    yield client
    await client.close()


async def reconnected(rt: Runtime, resyncs_before: int) -> None:
    """Wait until the private stream is LIVE again and the reseed its return triggered has been applied."""
    await wait_for(lambda: rt.client.private_live and rt.engine.resyncs > resyncs_before, 5.0)
    await rt.engine.drain()


# -- 1: orders rest, fill, are cancelled and have their TP/SL fire while the private stream is down -----------


async def test_db_orders_match_the_exchange_after_a_gap_in_the_private_stream(rt: Runtime, other: SignedRest) -> None:
    sim, state = sim_of(rt), rt.engine.state
    await settled(rt)
    cancelled = await rt.orders.place(
        SOL, Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=price(sim, SOL, "0.95")
    )
    fills = await rt.orders.place(
        BTC, Side.BUY, Decimal("0.010"), order_type=OrderType.LIMIT, price=price(sim, BTC, "0.995")
    )
    entry = await rt.orders.place(
        ETH, Side.BUY, Decimal("0.10"), take_profit=price(sim, ETH, "1.02"), stop_loss=price(sim, ETH, "0.98")
    )
    eth_legs = tpsl_legs(sim, ETH)
    await wait_for(lambda: {cancelled.order_id, fills.order_id, *eth_legs.values()} <= set(state.open_orders))
    await age_orders(rt, sim)
    resyncs_before = rt.engine.resyncs
    async with private_stream_refused(sim):
        await wait_for(lambda: not rt.client.private_live, 1.0)
        await signed(other, sim, "/v5/order/cancel", symbol=SOL, orderId=cancelled.order_id)
        rests = await signed(
            other,
            sim,
            "/v5/order/create",
            symbol=SOL,
            side="Buy",
            orderType="Limit",
            qty="1.0",
            price=str(price(sim, SOL, "0.95")),
        )
        gone = await signed(
            other,
            sim,
            "/v5/order/create",
            symbol=SOL,
            side="Buy",
            orderType="Limit",
            qty="1.0",
            price=str(price(sim, SOL, "0.95")),
        )
        await signed(other, sim, "/v5/order/cancel", symbol=SOL, orderId=gone["orderId"])
        unseen = await signed(
            other,
            sim,
            "/v5/order/create",
            symbol=SOL,
            side="Buy",
            orderType="Market",
            qty="2.0",
            takeProfit=str(price(sim, SOL, "1.02")),
            stopLoss=str(price(sim, SOL, "0.98")),
        )
        sol_legs = tpsl_legs(sim, SOL)
        await move_price(other, sim, BTC, "0.99")
        await move_price(other, sim, ETH, "1.03")
        await move_price(other, sim, SOL, "1.03")
        expected = {
            cancelled.order_id: OrderStatus.CANCELLED,
            fills.order_id: OrderStatus.FILLED,
            entry.order_id: OrderStatus.FILLED,
            eth_legs["TakeProfit"]: OrderStatus.FILLED,
            eth_legs["StopLoss"]: OrderStatus.DEACTIVATED,
            rests["orderId"]: OrderStatus.NEW,
            gone["orderId"]: OrderStatus.CANCELLED,
            unseen["orderId"]: OrderStatus.FILLED,
            sol_legs["TakeProfit"]: OrderStatus.FILLED,
            sol_legs["StopLoss"]: OrderStatus.DEACTIVATED,
        }
        assert {i: status_of(sim, i) for i in expected} == expected, "the exchange must have done it all"
        await asyncio.sleep(0.2)
        assert not rt.client.private_live and state.open_orders[cancelled.order_id].status is OrderStatus.NEW
    await reconnected(rt, resyncs_before)

    on_exchange = await db_matches_exchange(rt, other, sim)
    assert set(expected) <= set(on_exchange)
    assert state.unresolved == {}
    assert set(state.open_orders) == {i for i, row in on_exchange.items() if row[0] in ("New", "Untriggered")}
    assert state.closed_orders[eth_legs["StopLoss"]].status is OrderStatus.DEACTIVATED
    await executions_match(rt)


# -- 2: more orders to look up than one reseed may ask about --------------------------------------------------


async def test_orders_over_the_lookup_budget_are_resolved_by_the_following_reseeds(
    rt: Runtime, other: SignedRest
) -> None:
    sim, state = sim_of(rt), rt.engine.state
    await settled(rt)
    rt.engine.options.order_lookups_per_reseed = 2
    acks = [
        await rt.orders.place(
            SOL, Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=price(sim, SOL, f"0.9{i}")
        )
        for i in range(5)
    ]
    ids = [a.order_id for a in acks]
    await wait_for(lambda: set(ids) <= set(state.open_orders))
    await age_orders(rt, sim)
    resyncs_before = rt.engine.resyncs
    async with private_stream_refused(sim):
        await wait_for(lambda: not rt.client.private_live, 1.0)
        await signed(other, sim, "/v5/order/cancel-all", symbol=SOL)
    await reconnected(rt, resyncs_before)
    while True:
        resolved = min(len(ids), 2 * (rt.engine.resyncs - resyncs_before))
        assert sorted(await statuses(rt, ids)) == ["Cancelled"] * resolved + ["New"] * (len(ids) - resolved)
        assert len(state.unresolved) == len(ids) - resolved, "the rest waits for the next reseed"
        if resolved == len(ids):
            break
        await rt.engine.resync("periodic")
    await db_matches_exchange(rt, other, sim)


# -- 3: a DB left with open orders by a previous run --------------------------------------------------------


async def test_orders_a_previous_run_left_open_are_closed_out_at_start(
    tmp_path: Path, sim: SimExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    first = await start_runtime(custom_venue(sim), tmp_path / "core.db")
    try:
        await wait_for(lambda: first.client.private_live and first.engine.resyncs >= 2, 3.0)
        cancelled = await first.orders.place(
            SOL, Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=price(sim, SOL, "0.95")
        )
        fills = await first.orders.place(
            BTC, Side.BUY, Decimal("0.010"), order_type=OrderType.LIMIT, price=price(sim, BTC, "0.995")
        )
        await first.orders.place(
            ETH, Side.BUY, Decimal("0.10"), take_profit=price(sim, ETH, "1.02"), stop_loss=price(sim, ETH, "0.98")
        )
        legs = tpsl_legs(sim, ETH)
        held = [cancelled.order_id, fills.order_id, legs["TakeProfit"], legs["StopLoss"]]
        await wait_for(lambda: set(held) <= set(first.engine.state.open_orders))
        await age_orders(first, sim)
        assert await statuses(first, held) == ["New", "New", "Untriggered", "Untriggered"]
    finally:
        await first.close()
    other = SignedRest(sim.urls.rest if sim.urls else "", sim.api_key, sim.api_secret)
    try:
        await signed(other, sim, "/v5/order/cancel", symbol=SOL, orderId=cancelled.order_id)
        await move_price(other, sim, BTC, "0.99")
        await move_price(other, sim, ETH, "1.03")
        rests = await signed(
            other,
            sim,
            "/v5/order/create",
            symbol=SOL,
            side="Buy",
            orderType="Limit",
            qty="1.0",
            price=str(price(sim, SOL, "0.95")),
        )
        assert [status_of(sim, i).value for i in held] == ["Cancelled", "Filled", "Filled", "Deactivated"]
        second = await start_runtime(custom_venue(sim), tmp_path / "core.db")
        try:
            assert await statuses(second, held) == ["Cancelled", "Filled", "Filled", "Deactivated"], "settled at start"
            assert second.engine.state.unresolved == {}
            on_exchange = await db_matches_exchange(second, other, sim)
            assert on_exchange[rests["orderId"]][0] == "New" and rests["orderId"] in second.engine.state.open_orders
        finally:
            await second.close()
    finally:
        await other.close()


async def test_orders_the_exchange_no_longer_knows_are_closed_after_a_few_reseeds(
    make_runtime: Callable[..., Awaitable[Runtime]], caplog: pytest.LogCaptureFixture
) -> None:
    first = await make_runtime(fast_settings(fallback_after_s=30.0))
    try:
        sim = sim_of(first)
        await settled(first)
        resting = await first.orders.place(
            SOL, Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=price(sim, SOL, "0.95")
        )
        entry = await first.orders.place(
            ETH, Side.BUY, Decimal("0.10"), take_profit=price(sim, ETH, "1.02"), stop_loss=price(sim, ETH, "0.98")
        )
        legs = tpsl_legs(sim, ETH)
        held = [resting.order_id, legs["TakeProfit"], legs["StopLoss"]]
        await wait_for(lambda: set(held) <= set(first.engine.state.open_orders))
    finally:
        await first.close()
    caplog.set_level(logging.WARNING, logger="tui_bot.core.order_reconcile")
    fresh = fast_settings(fallback_after_s=30.0)
    fresh.sim.keep_account = False  # a new exchange: the old orders are unknown to it
    second = await make_runtime(fresh)
    try:
        state = second.engine.state
        await settled(second)
        assert second.engine.resyncs < MAX_MISSES
        assert {i: p.misses for i, p in state.unresolved.items()} == dict.fromkeys(held, second.engine.resyncs)
        assert await statuses(second, held) == ["New", "Untriggered", "Untriggered"], "not closed on the first misses"
        while second.engine.resyncs < MAX_MISSES:
            await second.engine.resync("periodic")
        assert state.unresolved == {} and state.open_orders == {}
        assert await statuses(second, [*held, entry.order_id]) == ["Cancelled", "Deactivated", "Deactivated", "Filled"]
        assert sum("neither open nor in order history" in r.getMessage() for r in caplog.records) == len(held)
    finally:
        await second.close()


# -- 4: messages withheld during the reseed arrive afterwards and are stale -----------------------------------


async def test_order_messages_delivered_after_the_reseed_never_reopen_what_it_closed(
    rt: Runtime, other: SignedRest
) -> None:
    sim, state = sim_of(rt), rt.engine.state
    await settled(rt)
    resting = await rt.orders.place(
        SOL, Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=price(sim, SOL, "0.95")
    )
    await wait_for(lambda: resting.order_id in state.open_orders)
    sim.faults.stall("order", 60)  # the socket stays up, the order topic goes silent
    await signed(other, sim, "/v5/order/cancel", symbol=SOL, orderId=resting.order_id)
    gone = await signed(
        other,
        sim,
        "/v5/order/create",
        symbol=SOL,
        side="Buy",
        orderType="Limit",
        qty="1.0",
        price=str(price(sim, SOL, "0.95")),
    )
    await signed(other, sim, "/v5/order/cancel", symbol=SOL, orderId=gone["orderId"])
    await rt.engine.resync("periodic")
    assert await statuses(rt, [resting.order_id, gone["orderId"]]) == ["Cancelled", "Cancelled"]
    stale_before = state.stale_ignored
    sim.faults.stalls.clear()
    sim.private.publish([])  # the withheld New, Cancelled, Cancelled go out now, after the reseed
    await wait_for(lambda: state.stale_ignored - stale_before == 3)
    assert state.open_orders == {} and state.unresolved == {}
    await db_matches_exchange(rt, other, sim)
