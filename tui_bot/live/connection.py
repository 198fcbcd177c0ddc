"""The Redis client every live-state process uses, and the errors that mean Redis is unreachable."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

REDIS_ERRORS = (RedisError, OSError, TimeoutError)


def connect(url: str, *, decode: bool = False, timeout_s: float | None = 2.0) -> Redis:
    """A client that reports a lost server at once (no silent retries: the caller decides what a loss means)."""
    return Redis.from_url(
        url,
        decode_responses=decode,
        socket_connect_timeout=timeout_s or 2.0,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
