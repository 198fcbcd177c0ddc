"""Per-key, per-endpoint rolling one-second request limits with Bybit's header values."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

WINDOW_MS = 1000

LIMITS = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/position/set-leverage": 10,
    "/v5/position/trading-stop": 10,
    "/v5/account/fee-rate": 5,
    "/v5/account/transaction-log": 25,
    "/v5/user/query-api": 10,
    "/v5/asset/coin/query-info": 5,
}
DEFAULT_LIMIT = 50


@dataclass(slots=True)
class LimitStatus:
    """What the X-Bapi-Limit* headers report for one request."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class RateLimiter:
    """Counts requests per (api key, endpoint) over a rolling second."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[int]] = {}
        self.requests: Counter[tuple[str, str]] = Counter()  # every request ever, per (api key, endpoint)

    def hit(self, api_key: str, endpoint: str, now_ms: int) -> LimitStatus:
        """Record a request and say whether it is within the limit."""
        self.requests[(api_key, endpoint)] += 1
        limit = LIMITS.get(endpoint, DEFAULT_LIMIT)
        hits = self._hits.setdefault((api_key, endpoint), deque())
        while hits and hits[0] <= now_ms - WINDOW_MS:
            hits.popleft()
        if len(hits) >= limit:
            return LimitStatus(False, limit, 0, hits[0] + WINDOW_MS)
        hits.append(now_ms)
        return LimitStatus(True, limit, limit - len(hits), now_ms)
