"""REST calls through pybit's HTTP, run off the event loop, with retCodes mapped to error classes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from tui_bot.domain.metrics import RestStats
from tui_bot.domain.wire_decimal import is_wire_int
from tui_bot.exchange.bybit.parse_values import integer
from tui_bot.exchange.bybit.rest_retry import reset_ms_from, rest_retrying
from tui_bot.exchange.errors import ExchangeError, RetryableError, classify

log = logging.getLogger(__name__)


class _OffsetHTTP(HTTP):
    """pybit's HTTP, signing with a timestamp corrected by the measured server-clock offset."""

    offset_ms: int = 0

    def _prepare_headers(
        self, payload: Any, recv_window: int, content_type: str = "application/json"
    ) -> dict[str, str]:
        timestamp = int(time.time() * 1000) + self.offset_ms
        signature = self._auth(payload=payload, recv_window=recv_window, timestamp=timestamp)
        return {
            "Content-Type": content_type,
            "X-BAPI-API-KEY": self.api_key,
            "X-BAPI-SIGN": signature,
            "X-BAPI-SIGN-TYPE": "2",
            "X-BAPI-TIMESTAMP": str(timestamp),
            "X-BAPI-RECV-WINDOW": str(recv_window),
        }


class BybitRest:
    """Async facade over pybit's HTTP: `await rest.call("place_order", category="linear", ...)` → result dict."""

    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        api_secret: str = "",
        *,
        recv_window: int = 5000,
        timeout: float = 10.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._http = _OffsetHTTP(
            api_key=api_key or None,
            api_secret=api_secret or None,
            recv_window=recv_window,
            timeout=timeout,
            max_retries=1,
            retry_codes={-1},
            return_response_headers=True,
        )
        self._http.endpoint = base_url.rstrip("/")
        self._sleep = sleep
        self.stats = RestStats()

    @property
    def clock_offset_ms(self) -> int:
        return self._http.offset_ms

    def now_ms(self) -> int:
        """Wall time corrected to the server's clock."""
        return int(time.time() * 1000) + self._http.offset_ms

    async def sync_clock(self, samples: int = 3) -> int:
        """Measure the server-clock offset from /v5/market/time: the midpoint of the shortest of a few round
        trips (the first one also pays for connecting, so its midpoint is the least sure)."""
        best_rtt, offset = float("inf"), 0.0
        for _ in range(samples):
            started = time.time_ns()
            result = await self.call("get_server_time")
            ended = time.time_ns()
            if ended - started < best_rtt:
                best_rtt, offset = (
                    ended - started,
                    (integer(result.get("timeNano"), "timeNano") - (started + ended) / 2) / 1e6,
                )
        self._http.offset_ms = round(offset)
        return self._http.offset_ms

    async def call(self, method: str, *, operation: str = "", **params: Any) -> dict[str, Any]:
        """Call a pybit HTTP method by name; retries what is safe to retry (rest_retry), raises ExchangeError kinds."""
        retrying = rest_retrying(method, self.stats, self.now_ms, self._sleep, self.sync_clock)
        async for attempt in retrying:
            with attempt:
                return await self._once(method, operation, params)
        raise AssertionError("unreachable")

    async def _once(self, method: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        fn = getattr(self._http, method)
        started = time.perf_counter()
        self.stats.calls += 1
        try:
            body, _elapsed, headers = await asyncio.to_thread(fn, **params)
        except InvalidRequestError as exc:
            raise self._error(exc.status_code, exc.message, method, operation, exc.resp_headers) from None
        except FailedRequestError as exc:
            raise self._http_failure(exc, method) from None
        except (OSError, ValueError) as exc:
            raise RetryableError(-1, f"network error: {exc}", request=method) from None
        finally:
            self.stats.latency_ms.add((time.perf_counter() - started) * 1000)
        self._note_limits(method, headers)
        return body.get("result") or {}

    def _note_limits(self, method: str, headers: Any) -> None:
        status = headers.get("X-Bapi-Limit-Status") if headers is not None else None
        if is_wire_int(status):
            self.stats.limit_remaining[method] = int(status)

    def _count_error(self, code: int) -> None:
        self.stats.errors_by_code[code] = self.stats.errors_by_code.get(code, 0) + 1

    def _error(self, code: int, message: str, method: str, operation: str, headers: Any) -> ExchangeError:
        self._count_error(code)
        self._note_limits(method, headers)
        err = classify(code, message, operation=operation, request=method)
        err.reset_ms = reset_ms_from(headers)  # type: ignore[attr-defined]
        return err

    def _http_failure(self, exc: FailedRequestError, method: str) -> RetryableError:
        """A non-200 answer or a failed request; HTTP 429 is counted with the retCodes and carries its reset time."""
        code = exc.status_code or -1
        err = RetryableError(code, f"HTTP failure: {exc.message}", request=method)
        if code == 429:
            self._count_error(code)
            err.reset_ms = reset_ms_from(exc.resp_headers)  # type: ignore[attr-defined]
        return err
