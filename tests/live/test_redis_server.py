"""The throwaway Redis the live-state tests run against: real server, real client, a restart loses every key."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.redis_server import RedisServer


async def test_the_throwaway_redis_answers_and_a_restart_loses_every_key(redis_server: RedisServer) -> None:
    redis_server.flush()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await client.set("k", "v")
        assert await client.get("k") == b"v"
        assert (await client.info("server"))["redis_version"].startswith("7.")
        redis_server.restart()
        await client.connection_pool.disconnect()
        assert await client.get("k") is None
    finally:
        await client.aclose()
