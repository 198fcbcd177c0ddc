"""The listener's live state in real Redis, read back by a LiveState, against the embedded exchange."""

from __future__ import annotations

import time
from decimal import Decimal

import redis.asyncio as aioredis

from tests.core.conftest import wait_for
from tests.live.conftest import FAST, Live
from tests.redis_server import RedisServer
from tui_bot.domain.enums import Side
from tui_bot.live import keys
from tui_bot.store.repos import count


async def _exchange_positions(live: Live) -> dict[str, tuple[str, Decimal, Decimal]]:
    reply = await live.rest.get("/v5/position/list", {"category": "linear", "settleCoin": "USDT"})
    return {
        p["symbol"]: (p["side"], Decimal(p["size"]), Decimal(p["avgPrice"]))
        for p in reply["result"]["list"]
        if Decimal(p["size"])
    }


def _reader_positions(live: Live) -> dict[str, tuple[str, str, Decimal, Decimal]]:
    return {
        symbol: (bot, pos.side.value, pos.size, pos.entry)
        for bot, held in live.reader.positions().items()
        for symbol, pos in held.items()
    }


async def _converged(live: Live, owners: dict[str, str]) -> None:
    """The reader shows every exchange position under its expected bot, nothing else."""
    exchange = await _exchange_positions(live)
    want = {s: (owners[s], side, size, entry) for s, (side, size, entry) in exchange.items()}
    await wait_for(lambda: _reader_positions(live) == want, timeout=10)


async def test_fills_show_in_the_reader_under_their_bot_and_closed_positions_leave(live: Live, redis_url: str) -> None:
    await wait_for(live.reader.ready.is_set)
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await live.market("ETHUSDT", "Sell", "0.10")  # a foreign order: no bot of ours
    await _converged(live, {"BTCUSDT": "alpha", "ETHUSDT": keys.EXTERNAL_BOT})
    assert set(live.reader.account_positions()) == {"BTCUSDT", "ETHUSDT"}
    assert live.reader.account_positions()["ETHUSDT"].side is Side.SELL
    assert live.reader.wallet() is not None
    await wait_for(lambda: live.reader.listener_alive, timeout=5)  # polled: the first beat may be newer than the poll
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await raw.smembers(keys.open_symbols("alpha")) == {"BTCUSDT"}
        fields = await raw.hgetall(keys.position("alpha", "BTCUSDT"))
        assert set(fields) == {"side", "size", "entry", "mark", "upnl", "seq", "time_ms"}
        assert fields["side"] == "Buy" and fields["size"] == "0.010"
        assert await raw.xlen(keys.FILLS_STREAM) == 2
        assert 0 < await raw.pttl(keys.LISTENER_HEARTBEAT) <= FAST.heartbeat_ttl_s * 1000
        await live.market("BTCUSDT", "Sell", "0.010", bot="alpha")
        await _converged(live, {"ETHUSDT": keys.EXTERNAL_BOT})
        assert await raw.smembers(keys.open_symbols("alpha")) == set()
        assert not await raw.exists(keys.position("alpha", "BTCUSDT"))
        assert await raw.xlen(keys.FILLS_STREAM) == 3
    finally:
        await raw.aclose()


async def test_a_position_another_bot_takes_over_moves_to_that_bot(live: Live) -> None:
    await live.market("SOLUSDT", "Buy", "1.0", bot="alpha")
    await _converged(live, {"SOLUSDT": "alpha"})
    await live.market("SOLUSDT", "Sell", "3.0", bot="beta")  # closes alpha's long, opens beta's short
    await _converged(live, {"SOLUSDT": "beta"})
    assert "alpha" not in live.reader.positions()


async def test_marks_follow_the_ticker_at_most_once_per_interval(live: Live) -> None:
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await _converged(live, {"BTCUSDT": "alpha"})
    first = live.reader.bot_positions("alpha")["BTCUSDT"]
    await wait_for(lambda: live.reader.bot_positions("alpha")["BTCUSDT"].mark != first.mark, timeout=10)
    marked = live.reader.bot_positions("alpha")["BTCUSDT"]
    assert marked.upnl == (marked.mark - marked.entry) * marked.size
    writes, started = live.publisher.writes, time.monotonic()
    await wait_for(lambda: time.monotonic() - started > 1.0, timeout=5)
    elapsed = time.monotonic() - started
    beats = elapsed / (FAST.heartbeat_ttl_s / 3) + 1
    assert live.publisher.writes - writes <= elapsed / FAST.mark_interval_s + 1 + beats  # the sim ticks every 20 ms


async def test_redis_restarted_mid_run_gets_everything_again_and_the_reader_converges(
    live: Live, redis_server: RedisServer
) -> None:
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await live.market("ETHUSDT", "Buy", "0.10", bot="beta")
    await _converged(live, {"BTCUSDT": "alpha", "ETHUSDT": "beta"})
    snapshots = live.reader.snapshots
    redis_server.restart()
    await _converged(live, {"BTCUSDT": "alpha", "ETHUSDT": "beta"})
    await wait_for(lambda: live.reader.snapshots > snapshots and live.reader.listener_alive, timeout=10)
    await live.market("SOLUSDT", "Sell", "1.0", bot="alpha")
    await _converged(live, {"BTCUSDT": "alpha", "ETHUSDT": "beta", "SOLUSDT": "alpha"})
    assert set(live.reader.account_positions()) == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


async def test_while_redis_is_down_fills_are_stored_and_published_once_it_is_back(
    live: Live, redis_server: RedisServer, redis_url: str
) -> None:
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await _converged(live, {"BTCUSDT": "alpha"})
    redis_server.stop()
    try:
        await wait_for(lambda: live.publisher.status().startswith("redis=down "), timeout=10)
        await live.market("ETHUSDT", "Buy", "0.10", bot="beta")
        await wait_for(lambda: len(live.runtime.engine.state.positions) == 2, timeout=10)
        await live.runtime.writer.flush()
        assert await count(live.runtime.conn, "executions") == 2
        assert live.publisher.status().startswith("redis=down ")
    finally:
        redis_server.start()
    await _converged(live, {"BTCUSDT": "alpha", "ETHUSDT": "beta"})
    assert live.publisher.status() == "redis=up"
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await raw.xlen(keys.FILLS_STREAM) == 2
    finally:
        await raw.aclose()


async def test_fills_written_again_never_duplicate_stream_entries(live: Live, redis_url: str) -> None:
    await live.market("BTCUSDT", "Buy", "0.010", bot="alpha")
    await live.market("BTCUSDT", "Buy", "0.020", bot="alpha")
    await _converged(live, {"BTCUSDT": "alpha"})
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        snapshots = live.reader.snapshots
        await raw.delete(keys.LISTENER_SEQ)  # keys lost: the next change finds it out and writes everything again
        await live.market("BTCUSDT", "Sell", "0.010")  # another program's reduce: its fill is external
        await wait_for(lambda: live.reader.snapshots > snapshots, timeout=10)
        await _converged(live, {"BTCUSDT": "alpha"})
        entries = await raw.xrange(keys.FILLS_STREAM)
        exec_ids = [fields["exec_id"] for _, fields in entries]
        assert len(exec_ids) == len(set(exec_ids)) == 3
        assert [fields["bot"] for _, fields in entries] == ["alpha", "alpha", "external"]
    finally:
        await raw.aclose()
