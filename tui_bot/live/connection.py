"""The Redis client every live-state process uses, and the errors that mean Redis is unreachable."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from tui_bot.live.commands_handlers import one_line

log = logging.getLogger(__name__)
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


class RedisTrouble:
    """Says in the log once that Redis failed for `what` (again when the error changes), once that it answers again."""

    def __init__(self, what: str, logger: logging.Logger = log) -> None:
        self.what = what
        self._log = logger
        self.line: str | None = None
        """The failure last said (None: Redis answers)."""

    def failed(self, err: BaseException) -> None:
        line = one_line(err)
        if line != self.line:
            self._log.warning("%s: Redis failed (%s); retrying", self.what, line)
            self.line = line

    def answered(self) -> None:
        if self.line is not None:
            self._log.warning("%s: Redis answers again", self.what)
            self.line = None
