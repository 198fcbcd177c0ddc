"""What each live-state write carries: a fill's position is written by its position update, under its owner."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import orjson
import redis.asyncio as aioredis

from tests.core.conftest import sim_of, wait_for
from tests.live.conftest import Live
from tui_bot.live import keys


async def _messages(redis_url: str, seen: list[list[dict[str, Any]]]) -> None:
    """The changes of every message PUBLISHed from now on, in order."""
    raw = aioredis.Redis.from_url(redis_url)
    try:
        async with raw.pubsub() as pubsub:
            await pubsub.subscribe(keys.CHANGES_CHANNEL)
            async for message in pubsub.listen():
                if message["type"] == "message":
                    seen.append(orjson.loads(message["data"]).get("changes", []))
    finally:
        await raw.aclose()


async def test_a_fill_before_its_position_update_does_not_write_the_old_size_again(live: Live, redis_url: str) -> None:
    await wait_for(live.reader.ready.is_set)
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await wait_for(lambda: "BTCUSDT" in live.reader.bot_positions("alpha"), timeout=10)
    seen: list[list[dict[str, Any]]] = []
    follow = asyncio.get_running_loop().create_task(_messages(redis_url, seen))
    try:
        faults = sim_of(live.runtime).faults
        faults.stall("tickers.*", 30)  # no mark moves: a mark write would rightly carry the old size
        await asyncio.sleep(0.2)  # subscribed, and the last ticker in flight applied
        faults.stall("position", 0.5)  # the fill reaches the listener well before its position
        await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
        await wait_for(lambda: any(c["key"] == keys.FILLS_STREAM for m in seen for c in m), timeout=10)
        await asyncio.sleep(0.6)
        await live.market("ETHUSDT", "Buy", "0.10")  # the next notification releases the held position update
        await wait_for(lambda: live.reader.bot_positions("alpha")["BTCUSDT"].size == Decimal("0.020"), timeout=10)
    finally:
        follow.cancel()
    (fill_message,) = [m for m in seen if any(c["key"] == keys.FILLS_STREAM for c in m)]
    assert keys.position("alpha", "BTCUSDT") not in [c["key"] for c in fill_message]  # its size then: still 0.010


async def test_a_takeover_whose_fill_comes_after_its_position_update_moves_to_the_new_bot(live: Live) -> None:
    await live.market("SOLUSDT", "Buy", "1.0", bot="alpha")
    await wait_for(lambda: "SOLUSDT" in live.reader.bot_positions("alpha"), timeout=10)
    faults = sim_of(live.runtime).faults
    faults.stall("tickers.*", 30)  # no mark moves: a mark write would move it to its owner later anyway
    await asyncio.sleep(0.2)  # the last ticker in flight applied
    faults.stall("execution", 0.5)  # the position update is written before the fill that made it arrives
    await live.market("SOLUSDT", "Sell", "3.0", bot="beta")  # closes alpha's long, opens beta's short
    await wait_for(lambda: live.runtime.engine.state.positions["SOLUSDT"].size == Decimal("2.0"), timeout=10)
    await asyncio.sleep(0.6)
    await live.market("ETHUSDT", "Buy", "0.10")  # the next notification releases the held fill
    await wait_for(lambda: "SOLUSDT" in live.reader.bot_positions("beta"), timeout=10)
    assert live.reader.bot_positions("beta")["SOLUSDT"].size == Decimal("2.0")
    assert "SOLUSDT" not in live.reader.bot_positions("alpha")
