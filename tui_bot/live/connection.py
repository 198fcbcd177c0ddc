"""The Redis client every live-state process uses, and the errors that mean Redis is unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

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


async def cancel_and_wait(tasks: Sequence[asyncio.Task[None]], again_after_s: float = 0.1) -> None:
    """Cancel the tasks and wait until they have ended, cancelling again one that went on (a redis-py call that a
    cancel meets can swallow it on Python 3.11, and the task's loop then carries on)."""
    pending = [task for task in tasks if not task.done()]
    while pending:
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=again_after_s)
        pending = list(still)
    for task in tasks:
        if not task.cancelled() and (err := task.exception()) is not None:
            raise err
