"""Exec ids are kept in memory only for about an hour behind the reseeds: a fill never counts twice all the same.

The hour is shortened here (EXEC_IDS_KEEP_MS 0 and a 300 ms REST lookback, as test_order_fates does), so a
fill falls behind the memory floor after half a second and the next completed reseed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest

from tests.core.conftest import fast_settings, wait_for
from tests.core.test_resilience import db_rows, settled
from tui_bot.core import engine as engine_module
from tui_bot.domain.enums import Side
from tui_bot.domain.events import Event, ExecutionReceived
from tui_bot.runtime import Runtime


async def _forgotten_fill(rt: Runtime, applied: list[ExecutionReceived]) -> ExecutionReceived:
    """Fill a market order, then reseed until its exec id has fallen behind the memory floor."""
    await rt.orders.place("ETHUSDT", Side.BUY, Decimal("0.10"))
    await wait_for(lambda: len(applied) == 1, 3.0)
    fill = applied[0]
    await wait_for(lambda: rt.client.now_ms() - fill.execution.exec_time > 500, 3.0)
    await rt.engine.resync("periodic")
    assert fill.execution.exec_id not in rt.engine.state.exec_ids
    assert rt.engine.state.exec_floor_ms > fill.execution.exec_time
    return fill


async def _start(
    make_runtime: Callable[..., Awaitable[Runtime]], monkeypatch: pytest.MonkeyPatch
) -> tuple[Runtime, list[ExecutionReceived]]:
    """A runtime with an hour of memory shortened to the lookback, and the executions its engine applies."""
    monkeypatch.setattr(engine_module, "EXEC_IDS_KEEP_MS", 0)
    monkeypatch.setattr(engine_module, "_EXEC_LOOKBACK_MS", 300)
    rt = await make_runtime(fast_settings(fallback_after_s=30.0))
    applied: list[ExecutionReceived] = []

    def note(event: Event) -> None:
        if isinstance(event, ExecutionReceived):
            applied.append(event)

    rt.engine.listeners.append(note)
    await settled(rt)
    return rt, applied


@pytest.fixture
async def short_memory(
    make_runtime: Callable[..., Awaitable[Runtime]], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Runtime, list[ExecutionReceived]]]:
    rt, applied = await _start(make_runtime, monkeypatch)
    yield rt, applied
    await rt.close()


async def test_a_forgotten_fill_that_a_reseed_returns_again_is_not_applied_twice(
    short_memory: tuple[Runtime, list[ExecutionReceived]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, applied = short_memory
    fill = await _forgotten_fill(rt, applied)
    trades = await db_rows(rt, "SELECT open_exec_id, qty, status FROM trades")
    ignored = rt.engine.state.duplicates_ignored
    monkeypatch.setattr(engine_module, "_EXEC_LOOKBACK_MS", 60_000)  # the next reseed reaches back past the floor
    await rt.engine.resync("periodic")
    assert rt.engine.state.duplicates_ignored == ignored + 1, "the reseed did return the fill again"
    assert [e.execution.exec_id for e in applied] == [fill.execution.exec_id], "applied once"
    assert await db_rows(rt, "SELECT COUNT(*) FROM executions WHERE exec_id = ?", fill.execution.exec_id) == [(1,)]
    assert await db_rows(rt, "SELECT open_exec_id, qty, status FROM trades") == trades


async def test_a_fill_older_than_memory_that_was_never_seen_is_recorded_once(
    short_memory: tuple[Runtime, list[ExecutionReceived]],
) -> None:
    rt, applied = short_memory
    fill = await _forgotten_fill(rt, applied)
    late = dataclasses.replace(fill, execution=dataclasses.replace(fill.execution, exec_id="late-delivery-1"))
    rt.engine.feed([late])  # as if the stream delivered a fill an hour late
    rt.engine.feed([late])
    assert await db_rows(rt, "SELECT COUNT(*) FROM executions WHERE exec_id = ?", "late-delivery-1") == [(1,)]
    assert len(applied) == 1, "too old to tell from memory: recorded, not replayed to listeners"


async def test_a_restart_loads_only_the_exec_ids_within_memory(
    make_runtime: Callable[..., Awaitable[Runtime]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, applied = await _start(make_runtime, monkeypatch)
    try:
        fill = await _forgotten_fill(rt, applied)
    finally:
        await rt.close()
    again = await make_runtime(fast_settings(fallback_after_s=30.0))
    try:
        assert fill.execution.exec_id not in again.engine.state.exec_ids
        assert again.engine.state.exec_floor_ms > fill.execution.exec_time
        assert await db_rows(again, "SELECT COUNT(*) FROM executions WHERE exec_id = ?", fill.execution.exec_id) == [
            (1,)
        ]
    finally:
        await again.close()
