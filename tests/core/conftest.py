"""A full runtime (client, engine, store, order service) against an in-process embedded exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tui_bot.config import Settings
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange


def fast_settings(**streams: float) -> Settings:
    """Settings with short timings so supervision reacts within a test's patience."""
    settings = Settings()
    settings.sim.step_ms = 20
    settings.sim.latency_ms = 0
    settings.streams.ping_interval_s = 1.0
    settings.streams.silence_timeout_s = 5.0
    settings.streams.backoff_max_s = 0.5
    settings.streams.fallback_after_s = 0.5
    settings.streams.poll_interval_s = 0.3
    settings.streams.reconcile_interval_s = 30.0
    settings.trading.run_cycles = False  # a bar boundary during a test would start a cycle nobody asked for
    for key, value in streams.items():
        setattr(settings.streams, key, value)
    return settings


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A started runtime on venue `sim`; `runtime.sim` is the SimExchange (faults, prices)."""
    rt = await start_runtime(fast_settings(), tmp_path / "core.db")
    yield rt
    await rt.close()


@pytest.fixture
def make_runtime(tmp_path: Path) -> Callable[..., Awaitable[Runtime]]:
    """Start further runtimes with custom settings (closed automatically is the caller's job)."""

    async def make(settings: Settings | None = None, db_name: str = "core.db") -> Runtime:
        return await start_runtime(settings or fast_settings(), tmp_path / db_name)

    return make


def sim_of(rt: Runtime) -> SimExchange:
    assert isinstance(rt.sim, SimExchange)
    return rt.sim


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll predicate until true or fail after timeout."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
