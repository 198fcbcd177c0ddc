"""When a WebSocket that ended tries again: at once after a live session, backing off after failed attempts.

A failed attempt is a connect, TLS/HTTP handshake, auth or subscribe that did not reach LIVE, or a session
that closed within `flap_within` seconds of going LIVE: a server that accepts and then closes at once is
backed off like one that refuses, not hammered. Consecutive failures wait a full-jitter draw below
min(cap, initial * 2**(failures-1)). A session that was LIVE for longer resets the count, and its close is
retried after a uniform draw below `after_live` (jitter, so clients dropped together don't return in step).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

_MAX_EXPONENT = 32


def backoff_delay(attempt: int, initial: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Full-jitter exponential backoff: a uniform draw below min(cap, initial * 2**attempt)."""
    ceiling = min(cap, initial * 2 ** min(max(attempt, 0), _MAX_EXPONENT))
    return ceiling * rand()


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Retry timing of one connection: what counts as a failed attempt and how long to wait after it."""

    initial: float = 0.5
    cap: float = 30.0
    after_live: float = 0.1
    flap_within: float = 1.0
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def failures_after(self, failures: int, live_for: float | None) -> int:
        """Consecutive failures once a session ended; live_for is None when it never went LIVE."""
        if live_for is not None and live_for >= self.flap_within:
            return 0
        return failures + 1

    def delay(self, failures: int) -> float:
        """Seconds before the next attempt after `failures` consecutive failed attempts (0: a live session closed)."""
        if failures <= 0:
            return self.after_live * self.rand()
        return backoff_delay(failures - 1, self.initial, self.cap, self.rand)


DEFAULT_RECONNECT = ReconnectPolicy()
