"""When a Bybit request is asked again: reads wait out rate limits and transient errors; order sends never blindly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from tui_bot.domain.metrics import RestStats
from tui_bot.domain.wire_decimal import is_wire_int
from tui_bot.exchange.bybit.frames import Control
from tui_bot.exchange.errors import RetryableError, classify

log = logging.getLogger(__name__)

RATE_LIMITED = frozenset({10006, 429})
"""Bybit's "too many visits" retCode and HTTP 429: refused before acting, so a read waits and asks again."""
CLOCK_DRIFT = 10002
ORDER_SENDS = frozenset({"place_order", "order.create"})
"""Never re-sent on a rate limit here: the order is refused, and the orderLinkId rule (core/orders.py) owns its fate."""
MAX_ATTEMPTS = 3
BACKOFF_CAP_S = 5.0
_FIRST_BACKOFF_S = 0.2
_WRITE_PREFIXES = ("place_", "amend_", "cancel_", "set_")
RESET_HEADER = "X-Bapi-Limit-Reset-Timestamp"


def reset_ms_from(headers: Any) -> int:
    """X-Bapi-Limit-Reset-Timestamp in ms, or 0 when absent (an IP-level 10006 can come without it)."""
    reset = headers.get(RESET_HEADER) if headers is not None else None
    return int(reset) if is_wire_int(reset) else 0


def backoff_s(attempt: int) -> float:
    """Capped exponential backoff before retry number `attempt` (1-based)."""
    return min(_FIRST_BACKOFF_S * 2 ** (attempt - 1), BACKOFF_CAP_S)


def limit_wait_s(reset_ms: int, now_ms: int, attempt: int) -> float:
    """Seconds to wait out a rate limit: until the reset timestamp when the response gave one, else capped backoff."""
    if reset_ms > 0:
        return min(max((reset_ms - now_ms) / 1000, 0.02), BACKOFF_CAP_S)
    return backoff_s(attempt)


def may_retry(method: str, err: BaseException) -> bool:
    """A read retries any transient error; a write only one refused before acting, and an order send no rate limit."""
    if not isinstance(err, RetryableError):
        return False
    if not method.startswith(_WRITE_PREFIXES) or err.code == CLOCK_DRIFT:
        return True
    return err.code in RATE_LIMITED and method not in ORDER_SENDS


def rest_retrying(
    method: str,
    stats: RestStats,
    now_ms: Callable[[], int],
    sleep: Callable[[float], Awaitable[Any]],
    resync_clock: Callable[[], Awaitable[Any]],
) -> AsyncRetrying:
    """The retry loop for one REST call: bounded attempts, rate limits waited out and counted, 10002 resyncs."""

    def wait(state: RetryCallState) -> float:
        err = _failure(state)
        if err.code == CLOCK_DRIFT:
            return 0.0
        if err.code in RATE_LIMITED:
            return limit_wait_s(getattr(err, "reset_ms", 0), now_ms(), state.attempt_number)
        return backoff_s(state.attempt_number)

    async def before_sleep(state: RetryCallState) -> None:
        err = _failure(state)
        if err.code in RATE_LIMITED:
            stats.rate_limit_retries += 1
            log.info("%s rate-limited (%s); waiting for the limit to reset", method, err.code)
        elif err.code == CLOCK_DRIFT:
            await resync_clock()

    return AsyncRetrying(
        stop=stop_after_attempt(MAX_ATTEMPTS),
        wait=wait,
        retry=retry_if_exception(partial(may_retry, method)),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )


def _failure(state: RetryCallState) -> RetryableError:
    assert state.outcome is not None
    err = state.outcome.exception()
    assert isinstance(err, RetryableError)
    return err


async def trade_ws_call(
    request: Callable[[str, dict[str, Any]], Awaitable[Control]],
    op: str,
    params: dict[str, Any],
    *,
    operation: str,
    now_ms: Callable[[], int],
    resync_clock: Callable[[], Awaitable[Any]],
) -> dict[str, Any]:
    """One trade-WS request: a 10002 resyncs the clock and sends it once more (same orderLinkId); a 10006 waits for
    the reset and asks again, except an order create, which is refused at once."""
    reply = await request(op, params)
    for attempt in range(1, MAX_ATTEMPTS):
        if reply.ret_code == CLOCK_DRIFT and attempt == 1:
            log.warning("trade %s refused for its timestamp (%s); resyncing the clock, resending", op, reply.message)
            await resync_clock()
        elif reply.ret_code == 10006 and op not in ORDER_SENDS:
            await asyncio.sleep(limit_wait_s(reset_ms_from(reply.header), now_ms(), attempt))
        else:
            break
        reply = await request(op, params)
    if reply.ret_code != 0:
        raise classify(reply.ret_code, reply.message, operation=operation, request=op)
    return reply.data
