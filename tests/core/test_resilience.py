"""The client core under exchange faults: dropped, duplicated, reordered, stalled and refused private streams.

Each test arms the embedded exchange's fault controls, then compares what the core believes (state and the DB)
with what the exchange holds (its account, or its REST view), so a missed or doubled fill fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.events import (
    ExecutionReceived,
    ResyncCompleted,
    Source,
    StreamMode,
    StreamModeChanged,
)
from tui_bot.runtime import Runtime
from tui_bot.sim.account import Account
from tui_bot.sim.server import SimExchange

QTY = {"BTCUSDT": Decimal("0.010"), "ETHUSDT": Decimal("0.10"), "SOLUSDT": Decimal("2.0")}
PRIVATE_TOPICS = ("order", "execution", "position", "wallet")


# -- oracles and helpers ------------------------------------------------------------------------------


def account(sim: SimExchange) -> Account:
    return sim.engine.accounts[sim.api_key]


async def exchange_positions(rt: Runtime) -> dict[str, tuple[str, Decimal, Decimal]]:
    """Non-flat positions as the exchange reports them over REST: symbol → (side, size, entry)."""
    rows = (await rt.client.rest.call("get_positions", category="linear", settleCoin="USDT", limit=200))["list"]
    return {r["symbol"]: (r["side"], Decimal(r["size"]), Decimal(r["avgPrice"])) for r in rows if Decimal(r["size"])}


def state_positions(rt: Runtime) -> dict[str, tuple[str, Decimal, Decimal]]:
    return {
        s: (p.side.value, p.size, p.entry_price)
        for s, p in rt.engine.state.positions.items()
        if p.size and p.side is not None
    }


def exchange_exec_ids(sim: SimExchange) -> set[str]:
    return {e.exec_id for e in account(sim).executions}


async def db_rows(rt: Runtime, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows from the runtime's DB after everything queued so far was applied and written."""
    await rt.engine.drain()
    await rt.writer.flush()
    with contextlib.closing(sqlite3.connect(rt.db_path)) as db:
        return list(db.execute(sql, params))


async def converged(rt: Runtime, timeout: float = 8.0) -> None:
    """Wait until the core holds every execution and exactly the positions the exchange reports."""
    sim = sim_of(rt)
    deadline = time.monotonic() + timeout
    while True:
        on_exchange = await exchange_positions(rt)
        missing = exchange_exec_ids(sim) - rt.engine.state.exec_ids.keys()
        if not missing and state_positions(rt) == on_exchange:
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"core never converged: {len(missing)} fills missing; positions "
                f"{state_positions(rt)} vs exchange {on_exchange}"
            )
        await asyncio.sleep(0.1)


async def settled(rt: Runtime) -> None:
    """Wait until the private stream is LIVE and the reseed its first LIVE triggers has been applied."""
    await wait_for(lambda: rt.client.private_live and rt.engine.resyncs >= 2, 3.0)
    await rt.engine.drain()


class BusRecorder:
    """Everything the engine publishes, collected in order by a background task."""

    def __init__(self, rt: Runtime) -> None:
        self.items: list[object] = []
        self._sub = rt.engine.bus.subscribe()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.items.extend(await self._sub.next_batch())

    def modes(self) -> list[StreamMode]:
        return [i.mode for i in self.items if isinstance(i, StreamModeChanged)]

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def recording(rt: Runtime) -> AsyncIterator[BusRecorder]:
    recorder = BusRecorder(rt)
    try:
        yield recorder
    finally:
        await recorder.close()


async def drop_periodically(sim: SimExchange, stop: asyncio.Event, rng: random.Random) -> tuple[int, int]:
    """Abort the private connection every 0.5-1 s (every third round the trade one too) until stopped."""
    rounds = private = trade = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.0))
        if stop.is_set():
            break
        rounds += 1
        private += sim.drop_connections("private")
        if rounds % 3 == 0:
            trade += sim.drop_connections("trade")
    return private, trade


@contextlib.asynccontextmanager
async def private_stream_refused(sim: SimExchange) -> AsyncIterator[None]:
    """Keep the private stream down: abort every private connection on the loop turn after it appears.

    Going LIVE takes an auth and a subscribe round trip, each needing several loop turns, so no
    session ever reaches LIVE while this runs; public and trade connections are untouched.
    """

    async def refuse() -> None:
        while True:
            sim.drop_connections("private")
            await asyncio.sleep(0)

    task = asyncio.create_task(refuse())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def fill_of(sim: SimExchange, link: str) -> list[str]:
    return [e.exec_id for e in account(sim).executions if e.order_link_id == link]


# -- 0: the first seed is taken once the private stream is subscribed -------------------------------------


async def test_start_returns_subscribed_so_an_immediate_fill_streams_in(runtime: Runtime) -> None:
    assert runtime.client.private_live, "seeding before the subscription is live leaves a hole"
    state = runtime.engine.state
    ack = await runtime.orders.place("SOLUSDT", Side.BUY, Decimal("1.0"))
    await wait_for(lambda: ack.order_id in state.closed_orders, 2.0)
    assert state.closed_orders[ack.order_id].status is OrderStatus.FILLED
    assert await db_rows(runtime, "select status from orders where order_id = ?", ack.order_id) == [("Filled",)]


# -- 1: fills while the private stream is dropped every second --------------------------------------------


async def test_no_fill_missed_or_doubled_while_private_stream_drops_every_second(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    rng = random.Random(11)
    resyncs_before = runtime.engine.resyncs
    stop = asyncio.Event()
    chaos = asyncio.create_task(drop_periodically(sim, stop, rng))
    links: list[str] = []
    try:
        for i in range(30):
            symbol = ("BTCUSDT", "ETHUSDT", "SOLUSDT")[i % 3]
            runtime.orders.via = "rest" if i % 2 else "ws"
            ack = await runtime.orders.place(symbol, Side.BUY if rng.random() < 0.6 else Side.SELL, QTY[symbol])
            links.append(ack.order_link_id)
            await asyncio.sleep(rng.uniform(0.15, 0.3))  # stay under the exchange's 10/s order.create limit
    finally:
        stop.set()
        private_drops, trade_drops = await chaos
    assert private_drops >= 5 and trade_drops >= 1, "the chaos must have cut the streams several times"
    created = [o for o in account(sim).orders.values() if o.order_link_id in set(links)]
    assert len(set(links)) == len(created) == 30 and all(o.status is OrderStatus.FILLED for o in created), (
        "each order exactly once"
    )

    await wait_for(lambda: runtime.client.private_live and runtime.engine.mode is StreamMode.STREAM, 8.0)
    await converged(runtime)
    assert runtime.engine.resyncs >= resyncs_before + 5, "every reconnect must reseed"
    assert runtime.engine.divergences > 0, "some fills should have been missed by the stream and found by a resync"
    in_db = [row[0] for row in await db_rows(runtime, "select exec_id from executions")]
    on_exchange = exchange_exec_ids(sim)
    assert len(on_exchange) == len(account(sim).executions) >= 30
    assert len(in_db) == len(set(in_db)), "duplicated executions in the DB"
    assert set(in_db) == on_exchange, f"missed {on_exchange - set(in_db)}, extra {set(in_db) - on_exchange}"
    assert runtime.engine.state.exec_ids.keys() == on_exchange
    assert state_positions(runtime) == await exchange_positions(runtime)


# -- 2: duplicated and reordered private messages ---------------------------------------------------------


async def test_duplicated_private_messages_are_applied_once(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    state = runtime.engine.state
    dup_before, stale_before = state.duplicates_ignored, state.stale_ignored
    acks = []
    for side, qty in ((Side.BUY, Decimal("2.0")), (Side.BUY, Decimal("1.0")), (Side.SELL, Decimal("0.5"))):
        sim.faults.duplicate_private = 4  # the fill's order, execution, position and wallet messages, each twice
        ack = await runtime.orders.place("SOLUSDT", side, qty)
        acks.append(ack)
        await wait_for(lambda a=ack: a.order_id in state.closed_orders and sim.faults.duplicate_private == 0)
        await wait_for(lambda: state.duplicates_ignored - dup_before == len(acks))
    await runtime.engine.drain()
    assert state.duplicates_ignored - dup_before == 3, "each duplicated execution is ignored"
    assert state.stale_ignored - stale_before == 3, "each duplicated Filled order message is ignored"
    assert state_positions(runtime) == await exchange_positions(runtime)
    assert state_positions(runtime)["SOLUSDT"][:2] == ("Buy", Decimal("2.5"))
    assert all(state.closed_orders[a.order_id].status is OrderStatus.FILLED for a in acks)
    in_db = [row[0] for row in await db_rows(runtime, "select exec_id from executions")]
    assert sorted(in_db) == sorted(exchange_exec_ids(sim)) and len(in_db) == 3
    statuses = await db_rows(runtime, "select order_id, status from orders where symbol = 'SOLUSDT'")
    assert sorted(statuses) == sorted((a.order_id, "Filled") for a in acks)


async def test_reordered_private_messages_leave_the_newest_state(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    state = runtime.engine.state
    await runtime.orders.place("SOLUSDT", Side.BUY, Decimal("1.0"))
    await wait_for(lambda: "SOLUSDT" in state.positions)
    await runtime.engine.drain()
    stale_before = state.stale_ignored
    market = sim.engine.markets["SOLUSDT"]
    limit = (market.last_price * Decimal("0.9")).quantize(Decimal("0.01"))
    # Hold the next four private messages and deliver them reversed: the limit order's New, its position
    # and wallet pushes, and the Filled that follows; the fill's execution, position and wallet get through first.
    sim.faults.reorder_private = 4
    ack = await runtime.orders.place("SOLUSDT", Side.BUY, Decimal("1.0"), order_type=OrderType.LIMIT, price=limit)
    await wait_for(lambda: sim.faults.reorder_private == 1)  # New, position and wallet are held
    market.set_price(limit - Decimal("1"), sim.clock.now_ms())
    await wait_for(lambda: sim.faults.reorder_private == 0)  # the Filled completed the set: all four released
    await wait_for(lambda: ack.order_id in state.closed_orders and state.stale_ignored - stale_before == 2)
    await runtime.engine.drain()
    assert state.stale_ignored - stale_before == 2, "the late New and the older position push are both stale"
    assert ack.order_id not in state.open_orders, "a Filled order must not reopen on a late New"
    assert state.closed_orders[ack.order_id].status is OrderStatus.FILLED
    assert state.duplicates_ignored == 0
    assert state_positions(runtime) == await exchange_positions(runtime)
    assert state_positions(runtime)["SOLUSDT"][:2] == ("Buy", Decimal("2.0"))
    in_db = [row[0] for row in await db_rows(runtime, "select exec_id from executions")]
    assert sorted(in_db) == sorted(exchange_exec_ids(sim)) and len(in_db) == 2
    assert await db_rows(runtime, "select status from orders where order_id = ?", ack.order_id) == [("Filled",)]


# -- 3: a lost order.create reply is resolved by orderLinkId -------------------------------------------


async def _place_with_lost_reply(rt: Runtime, via: str) -> None:
    sim = sim_of(rt)
    await settled(rt)
    assert rt.client.trade is not None
    rt.client.trade.request_timeout = 0.5
    rt.engine.options.order_event_timeout_s = 0.3
    rt.orders.via = via
    sim.faults.lost_replies = 1
    started = time.monotonic()
    async with recording(rt) as bus:
        ack = await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))
        await asyncio.sleep(0.6)
    assert bus.modes() == [], "the fill streamed in while the reply was awaited: no stall"
    assert sim.faults.lost_replies == 0, "the fault must have fired"
    sent = [link for link, timer in rt.engine.health.timers.items() if timer.via == via]
    assert sent == [ack.order_link_id], "the ack names the orderLinkId that was sent, over the chosen path"
    assert rt.orders.resolved_by_query == 1
    if via == "ws":
        assert time.monotonic() - started >= 0.5, "the trade socket waited for its request timeout"
    on_exchange = [o for o in account(sim).orders.values() if o.order_link_id == ack.order_link_id]
    assert [o.order_id for o in on_exchange] == [ack.order_id], "exactly one order, never re-sent"
    assert len(account(sim).orders) == 1 and len(fill_of(sim, ack.order_link_id)) == 1
    await wait_for(lambda: "ETHUSDT" in rt.engine.state.positions)
    assert state_positions(rt) == await exchange_positions(rt) == {"ETHUSDT": state_positions(rt)["ETHUSDT"]}
    assert state_positions(rt)["ETHUSDT"][:2] == ("Buy", Decimal("0.10"))


async def test_lost_trade_ws_reply_is_resolved_by_order_link_id(runtime: Runtime) -> None:
    await _place_with_lost_reply(runtime, "ws")


async def test_lost_rest_reply_is_resolved_by_order_link_id(runtime: Runtime) -> None:
    await _place_with_lost_reply(runtime, "rest")


# -- 4: REST polling while the private stream is stalled or down ------------------------------------------


async def test_fills_streaming_in_before_the_ack_are_not_a_stall(runtime: Runtime) -> None:
    await settled(runtime)
    runtime.engine.options.order_event_timeout_s = 0.3
    async with recording(runtime) as bus:
        for i in range(6):
            runtime.orders.via = "rest" if i % 2 else "ws"  # over REST the stream usually beats the ack
            await runtime.orders.place("SOLUSDT", Side.SELL if i % 3 else Side.BUY, Decimal("1.0"))
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        await converged(runtime)
    assert bus.modes() == [] and runtime.engine.mode is StreamMode.STREAM


async def test_stalled_private_topics_switch_to_polling_and_back(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    state = runtime.engine.state
    runtime.engine.options.order_event_timeout_s = 0.5
    async with recording(runtime) as bus:
        for topic in PRIVATE_TOPICS:
            sim.faults.stall(topic, 2.5)
        stall_ends = time.monotonic() + 2.5
        ack = await runtime.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: runtime.engine.mode is StreamMode.POLL, 2.0)
        await wait_for(lambda: "BTCUSDT" in state.positions, 1.5)
        assert time.monotonic() < stall_ends and sim.private.has_delayed(), "found by polling, not the stream"
        assert runtime.client.private_live, "the socket itself stayed up"
        assert bus.modes() == [StreamMode.POLL]
        await wait_for(lambda: runtime.engine.mode is StreamMode.STREAM, 4.0)
        assert time.monotonic() >= stall_ends, "polling must last until the stream delivers again"
        await wait_for(lambda: bus.modes() == [StreamMode.POLL, StreamMode.STREAM], 1.0)
    assert state.closed_orders[ack.order_id].status is OrderStatus.FILLED
    assert state_positions(runtime) == await exchange_positions(runtime)
    assert [row[0] for row in await db_rows(runtime, "select exec_id from executions")] == fill_of(
        sim, ack.order_link_id
    )


async def test_private_stream_kept_down_falls_back_to_polling(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    state = runtime.engine.state
    async with recording(runtime) as bus:
        async with private_stream_refused(sim):
            await wait_for(lambda: not runtime.client.private_live, 1.0)
            down_at = time.monotonic()
            await wait_for(lambda: runtime.engine.mode is StreamMode.POLL, 2.0)
            assert time.monotonic() - down_at >= runtime.settings.streams.fallback_after_s * 0.9
            ack = await runtime.orders.place("SOLUSDT", Side.SELL, Decimal("2.0"))
            await wait_for(lambda: "SOLUSDT" in state.positions, 2.0)
            await wait_for(lambda: set(fill_of(sim, ack.order_link_id)) <= state.exec_ids.keys(), 1.0)
            assert not runtime.client.private_live and runtime.engine.mode is StreamMode.POLL
            assert bus.modes() == [StreamMode.POLL]
        await wait_for(lambda: runtime.client.private_live and runtime.engine.mode is StreamMode.STREAM, 3.0)
        await wait_for(lambda: bus.modes() == [StreamMode.POLL, StreamMode.STREAM], 1.0)
    assert state_positions(runtime) == await exchange_positions(runtime)
    assert state_positions(runtime)["SOLUSDT"][:2] == ("Sell", Decimal("2.0"))


# -- 5: a reconnect reseeds what happened while the stream was down ----------------------------------------


async def test_reconnect_reseeds_a_fill_missed_while_down(make_runtime: Callable[..., Awaitable[Runtime]]) -> None:
    rt: Runtime = await make_runtime(fast_settings(fallback_after_s=30.0))  # no polling: only the reconnect can help
    try:
        sim = sim_of(rt)
        state = rt.engine.state
        await settled(rt)
        rt.orders.via = "rest"
        async with recording(rt) as bus:
            async with private_stream_refused(sim):
                await wait_for(lambda: not rt.client.private_live, 1.0)
                resyncs_before = rt.engine.resyncs
                ack = await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.20"))
                missed = fill_of(sim, ack.order_link_id)
                assert len(missed) == 1
                await asyncio.sleep(0.3)
                assert missed[0] not in state.exec_ids and "ETHUSDT" not in state.positions
                assert rt.engine.mode is StreamMode.STREAM and rt.engine.resyncs == resyncs_before
            await wait_for(lambda: rt.client.private_live, 3.0)
            await wait_for(lambda: missed[0] in state.exec_ids and "ETHUSDT" in state.positions, 3.0)
            await rt.engine.drain()
        assert rt.engine.resyncs > resyncs_before
        resyncs = [i for i in bus.items if isinstance(i, ResyncCompleted)]
        assert [r.reason for r in resyncs] == ["private stream (re)connected"] and resyncs[0].divergences >= 1
        delivered = [i for i in bus.items if isinstance(i, ExecutionReceived) and i.execution.exec_id == missed[0]]
        assert [e.source for e in delivered] == [Source.REST]
        assert state_positions(rt) == await exchange_positions(rt)
        assert state_positions(rt)["ETHUSDT"][:2] == ("Buy", Decimal("0.20"))
        rows = await db_rows(rt, "select exec_id, order_link_id, qty from executions")
        assert [(e, link, Decimal(str(q))) for e, link, q in rows] == [(missed[0], ack.order_link_id, Decimal("0.20"))]
        assert state.closed_orders[ack.order_id].status is OrderStatus.FILLED
        assert await db_rows(rt, f"select status from orders where order_id = '{ack.order_id}'") == [("Filled",)]
    finally:
        await rt.close()
