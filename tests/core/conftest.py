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


def custom_venue(sim: SimExchange) -> Settings:
    """Settings for a runtime on this (external) exchange, which outlives the runtime."""
    assert sim.urls is not None
    settings = fast_settings(fallback_after_s=30.0)
    settings.exchange.venue = "custom"
    settings.exchange.rest_url, settings.exchange.public_ws_url = sim.urls.rest, sim.urls.public_ws
    settings.exchange.private_ws_url, settings.exchange.trade_ws_url = sim.urls.private_ws, sim.urls.trade_ws
    return settings


@pytest.fixture
async def stepped(tmp_path: Path, manual_sim: SimExchange, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    """A started runtime on manual_sim, an exchange that moves only when the test steps it."""
    monkeypatch.setenv("BYBIT_API_KEY", manual_sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", manual_sim.api_secret)
    rt = await start_runtime(custom_venue(manual_sim), tmp_path / "core.db")
    yield rt
    await rt.close()


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
