"""Supervision that cannot die: malformed REST rows, raising listeners and failing checks are logged once, shown in
health and `listen`'s line, and the loops go on; stop ends every task the engine started."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tests.core.test_resilience import private_stream_refused, recording, settled
from tui_bot.core.protection import Protection
from tui_bot.domain.enums import Side
from tui_bot.domain.events import Event, ExecutionReceived, StreamMode
from tui_bot.listen import health_line
from tui_bot.runtime import Runtime

MakeRuntime = Callable[..., Awaitable[Runtime]]


def troubles(rt: Runtime) -> list[str]:
    return rt.engine.health.tasks.lines(int(time.time() * 1000))


def failures(rt: Runtime, name: str) -> int:
    trouble = rt.engine.health.tasks.troubles.get(name)
    return trouble.failures if trouble is not None else 0


def logged(caplog: pytest.LogCaptureFixture, start: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(start)]


# -- (a) malformed REST rows ----------------------------------------------------------------------------------


async def test_a_malformed_position_row_fails_periodic_reconciles_without_ending_them(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = await make_runtime(fast_settings(reconcile_interval_s=0.2))
    try:
        sim = sim_of(rt)
        await settled(rt)
        await rt.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions)
        with caplog.at_level(logging.WARNING, logger="tui_bot.core.engine"):
            sim.faults.corrupt_rows("/v5/position/list", "", 1000)
            await wait_for(lambda: failures(rt, "engine-resync") >= 3)
            line = health_line(rt.backend)
            assert "tasks: engine-resync failing" in line and "FrameError: bad number in avgPrice: 'abc'" in line
            resyncs = rt.engine.resyncs
            sim.faults.corrupt_rest.clear()
            await wait_for(lambda: rt.engine.resyncs >= resyncs + 2)
            assert troubles(rt) == [], "a reconcile that succeeds again clears the trouble"
        [record] = logged(caplog, "engine-resync failed")
        assert "FrameError" in record.getMessage() and record.exc_info is not None
    finally:
        await rt.close()


async def test_polling_survives_malformed_rows_and_polls_again_once_they_are_gone(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await settled(runtime)
    sim.faults.corrupt_rows("/v5/account/wallet-balance", "", 1000)
    async with private_stream_refused(sim):
        await wait_for(lambda: runtime.engine.mode is StreamMode.POLL)
        await wait_for(lambda: failures(runtime, "engine-resync") >= 2)
        assert "totalEquity" in troubles(runtime)[0]
        resyncs = runtime.engine.resyncs
        sim.faults.corrupt_rest.clear()
        await wait_for(lambda: runtime.engine.resyncs >= resyncs + 2)
        assert runtime.engine.mode is StreamMode.POLL and troubles(runtime) == []
    await wait_for(lambda: runtime.engine.mode is StreamMode.STREAM, 8.0)


# -- (b) raising listeners and checks -----------------------------------------------------------------------------


async def test_a_raising_listener_is_reported_once_and_the_others_are_still_served(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    runtime.engine.listeners.insert(0, broken)
    runtime.engine.listeners.append(seen.append)
    with caplog.at_level(logging.WARNING, logger="tui_bot.core.engine"):
        async with recording(runtime) as bus:
            ack = await runtime.orders.place("SOLUSDT", Side.BUY, Decimal("1.0"))
            await wait_for(lambda: any(isinstance(e, ExecutionReceived) for e in seen))
            await wait_for(lambda: any(isinstance(i, ExecutionReceived) for i in bus.items))
    assert any(isinstance(e, ExecutionReceived) and e.execution.order_link_id == ack.order_link_id for e in seen)
    listeners = runtime.engine.listeners
    assert runtime.bot is not None
    bot_listener = next(f for f in listeners if getattr(f, "__self__", None) is runtime.bot)
    assert listeners.index(broken) < listeners.index(bot_listener) < listeners.index(seen.append)
    assert failures(runtime, f"listener {bot_listener.__qualname__}") == 0, (
        "the bot's listener ran, after the broken one"
    )
    assert failures(runtime, f"listener {broken.__qualname__}") >= 3
    assert f"tasks: listener {broken.__qualname__} failing" in health_line(runtime.backend)
    assert len(logged(caplog, f"listener {broken.__qualname__} failed")) == 1


async def test_a_failing_aged_check_is_reported_and_protection_acts_once_it_passes(runtime: Runtime) -> None:
    assert runtime.protection is not None
    await runtime.protection.stop()
    runtime.trading.update({"aged_position_hours": "1", "aged_position_action": "close", "enable_sl_tightening": False})
    broken = [True]

    def two_hours_later() -> int:
        if broken[0]:
            raise RuntimeError("clock broken")
        return runtime.client.now_ms() + 2 * 3_600_000

    prot = Protection(
        runtime.engine, runtime.orders, runtime.trading, runtime.writer, now_ms=two_hours_later, aged_check_s=0.05
    )
    prot.start()
    try:
        await runtime.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
        await wait_for(lambda: failures(runtime, "protection-aged") >= 2)
        assert "BTCUSDT" in runtime.engine.state.positions
        broken[0] = False
        await wait_for(lambda: "BTCUSDT" not in runtime.engine.state.positions)
        assert not any(line.startswith("protection-aged") for line in troubles(runtime))
    finally:
        await prot.stop()


# -- (c) a task that ends ---------------------------------------------------------------------------------------


async def test_a_core_task_that_ends_shows_in_listens_line(runtime: Runtime) -> None:
    async def gives_up() -> None:
        raise LookupError("nothing left to do")

    runtime.engine.tasks.spawn("engine-extra", gives_up())
    await wait_for(lambda: "engine-extra" in runtime.engine.health.tasks.troubles)
    assert health_line(runtime.backend).endswith("tasks: engine-extra died (LookupError: nothing left to do)")


async def test_a_health_report_is_a_snapshot_that_later_troubles_do_not_change(runtime: Runtime) -> None:
    async def gives_up() -> None:
        raise LookupError("nothing left to do")

    earlier = runtime.backend.health()
    runtime.engine.tasks.spawn("engine-extra", gives_up())
    await wait_for(lambda: "engine-extra" in runtime.engine.health.tasks.troubles)
    now_ms = int(time.time() * 1000)
    assert "engine-extra died (LookupError: nothing left to do)" in runtime.backend.health().task_lines(now_ms)
    assert not any(line.startswith("engine-extra") for line in earlier.task_lines(now_ms)), "the earlier report"
    with pytest.raises(dataclasses.FrozenInstanceError):
        earlier.core.applied_us = earlier.core.applied_us  # type: ignore[misc]


# -- (d) every task is referenced and ended by stop ----------------------------------------------------------------


async def test_stop_ends_a_reconnect_resync_in_flight(make_runtime: MakeRuntime) -> None:
    rt = await make_runtime()
    sim = sim_of(rt)
    try:
        await settled(rt)
        sim.faults.rest_errors.extend([10006, 10006])  # the reseed after the reconnect waits ~1 s for the limit's reset
        sim.drop_connections("private")
        await wait_for(lambda: not sim.faults.rest_errors)
    finally:
        await rt.close()
    left = [
        t
        for t in asyncio.all_tasks()
        if not t.done() and getattr(t.get_coro(), "__qualname__", "").startswith("Engine.")
    ]
    assert left == []
