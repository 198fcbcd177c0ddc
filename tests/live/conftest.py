"""A listener runtime publishing to the throwaway Redis, and a reader on it, against the embedded exchange."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.core.conftest import fast_settings, sim_of
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.live.publisher import LivePublisher, PublisherOptions
from tui_bot.live.reader import LiveState
from tui_bot.runtime import Runtime, start_runtime

FAST = PublisherOptions(heartbeat_ttl_s=2.0, mark_interval_s=0.1, fills_max=100, retry_s=0.05)


@dataclass(repr=False)  # a failing assert must not print the whole runtime
class Live:
    """The listener's runtime and publisher, a reader, and a raw REST client on the exchange."""

    runtime: Runtime
    publisher: LivePublisher
    reader: LiveState
    rest: SignedRest

    async def market(self, symbol: str, side: str, qty: str, bot: str | None = None) -> dict[str, Any]:
        """A market order as bot (its orderLinkId) or as a foreign program (none)."""
        body: dict[str, Any] = {"category": "linear", "symbol": symbol, "side": side, "orderType": "Market", "qty": qty}
        if bot is not None:
            body["orderLinkId"] = OrderIdFactory(bot).new(OrderReason.ENTRY)
        reply = await self.rest.post("/v5/order/create", body)
        assert reply["retCode"] == 0, reply
        return reply


@contextlib.asynccontextmanager
async def listener_on(tmp_path: Path, redis_url: str, *, autostep: bool = True) -> AsyncIterator[Live]:
    """A listener publishing to Redis on a fresh embedded exchange (autostep off: prices move only when stepped)."""
    settings = fast_settings()
    settings.sim.balance = Decimal(1_000_000)
    settings.sim.autostep = autostep
    runtime = await start_runtime(settings, tmp_path / "listen.db", trading_bot=False, protect=False)
    publisher = LivePublisher(runtime.engine, runtime.writer, redis_url, FAST, day_pnl=runtime.backend.day_pnl)
    reader = LiveState(redis_url, heartbeat_poll_s=0.05, retry_s=0.05)
    sim = sim_of(runtime)
    assert sim.urls is not None
    rest = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    try:
        await publisher.start()
        await reader.start()
        yield Live(runtime, publisher, reader, rest)
    finally:
        for step in (rest.close, reader.close, publisher.stop, runtime.close):
            async with asyncio.timeout(20):  # a step that hangs fails the test by name instead of hanging the run
                await step()


@pytest.fixture
async def live(tmp_path: Path, redis_url: str) -> AsyncIterator[Live]:
    async with listener_on(tmp_path, redis_url) as listener:
        yield listener
