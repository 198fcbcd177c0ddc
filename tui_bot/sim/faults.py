"""Fault controls for rehearsing failures: errors, duplicates, reordering, stalls, skew, drops."""

from __future__ import annotations

import fnmatch
import time
from collections import deque
from dataclasses import dataclass, field

REST_FAULT_MESSAGES = {
    10006: "Too many visits. Exceeded the API Rate Limit.",
    10016: "System error. Please try again later.",
    10000: "Server Timeout",
}


@dataclass
class Faults:
    """Armed faults; each is consumed as it fires (stalls expire by time)."""

    rest_errors: deque[int] = field(default_factory=deque)
    order_rejects: deque[tuple[int, str]] = field(default_factory=deque)
    lost_replies: int = 0
    duplicate_private: int = 0
    reorder_private: int = 0
    stalls: dict[str, float] = field(default_factory=dict)
    order_cache_wiped: bool = False  # as after a Bybit restart: /v5/order/realtime lists no closed orders

    def next_rest_error(self) -> int | None:
        """Pop the code the next REST request must fail with, if any."""
        return self.rest_errors.popleft() if self.rest_errors else None

    def next_order_reject(self) -> tuple[int, str] | None:
        return self.order_rejects.popleft() if self.order_rejects else None

    def lose_reply(self) -> bool:
        """True (once per armed count) when an accepted order's reply must be lost in transit."""
        if self.lost_replies > 0:
            self.lost_replies -= 1
            return True
        return False

    def stall(self, pattern: str, seconds: float) -> None:
        """Withhold topics matching pattern (fnmatch, e.g. 'tickers.*' or 'position') for seconds."""
        self.stalls[pattern] = time.monotonic() + seconds

    def is_stalled(self, topic: str) -> bool:
        if not self.stalls:
            return False
        now = time.monotonic()
        for pattern, until in list(self.stalls.items()):
            if until <= now:
                del self.stalls[pattern]
            elif fnmatch.fnmatchcase(topic, pattern):
                return True
        return False

    def clear(self) -> None:
        self.rest_errors.clear()
        self.order_rejects.clear()
        self.lost_replies = 0
        self.duplicate_private = 0
        self.reorder_private = 0
        self.stalls.clear()
        self.order_cache_wiped = False
