"""Fault controls for rehearsing failures: errors, duplicates, reordering, stalls, skew, drops, book gaps."""

from __future__ import annotations

import fnmatch
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

REST_FAULT_MESSAGES = {
    10006: "Too many visits. Exceeded the API Rate Limit.",
    10016: "System error. Please try again later.",
    10000: "Server Timeout",
}
CORRUPT_FIELDS = {
    "/v5/position/list": "avgPrice",
    "/v5/order/realtime": "price",
    "/v5/order/history": "price",
    "/v5/execution/list": "execPrice",
    "/v5/account/wallet-balance": "totalEquity",
}
"""The REST lists corrupt-rest can mangle, each with the field it mangles unless told another."""
CORRUPT_VALUE = "abc"


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
    corrupt_rest: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (field, responses left)
    book_gaps: dict[str, int] = field(default_factory=dict)  # orderbook topic pattern -> deltas left to withhold

    def next_rest_error(self) -> int | None:
        """Pop the code the next REST request must fail with, if any."""
        return self.rest_errors.popleft() if self.rest_errors else None

    def next_order_reject(self) -> tuple[int, str] | None:
        return self.order_rejects.popleft() if self.order_rejects else None

    def lose_reply(self) -> bool:
        """True (once per armed count) when an accepted create or amend's reply must be lost in transit."""
        if self.lost_replies > 0:
            self.lost_replies -= 1
            return True
        return False

    def corrupt_rows(self, path: str, field_name: str, count: int) -> None:
        """Arm corrupt-rest: the first row of path's next `count` non-empty responses gets field set to garbage."""
        if path not in CORRUPT_FIELDS:
            raise ValueError(f"path must be one of {', '.join(CORRUPT_FIELDS)}, not {path!r}")
        self.corrupt_rest[path] = (field_name or CORRUPT_FIELDS[path], count)

    def corrupt(self, path: str, result: dict[str, Any]) -> None:
        """Mangle the first row of a REST result while corrupt-rest is armed for path (an empty list waits)."""
        armed = self.corrupt_rest.get(path)
        rows = result.get("list")
        if armed is None or not rows:
            return
        field_name, left = armed
        rows[0] = {**rows[0], field_name: CORRUPT_VALUE}
        if left > 1:
            self.corrupt_rest[path] = (field_name, left - 1)
        else:
            del self.corrupt_rest[path]

    def take_book_gap(self, topic: str) -> bool:
        """True (once per armed count) when this orderbook delta must be withheld, its update id skipped."""
        for pattern, left in self.book_gaps.items():
            if fnmatch.fnmatchcase(topic, pattern):
                if left > 1:
                    self.book_gaps[pattern] = left - 1
                else:
                    del self.book_gaps[pattern]
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
        self.corrupt_rest.clear()
        self.book_gaps.clear()
