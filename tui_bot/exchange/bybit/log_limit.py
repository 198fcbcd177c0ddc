"""Repeated log lines held back: a flood of refused frames or stray replies logs a line every few seconds, not each."""

from __future__ import annotations

import time
from collections.abc import Callable

LOG_EVERY_S = 10.0


class LogLimit:
    """Per kind of line (a small fixed set of keys): the first is logged, then at most one every `every_s` seconds."""

    def __init__(self, every_s: float = LOG_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def allow(self, key: str) -> str | None:
        """None when this line is held back; else a suffix saying how many were held back before it ("" if none)."""
        now = self._clock()
        due = self._next.get(key)
        if due is not None and now < due:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._next[key] = now + self.every_s
        held = self._held.pop(key, 0)
        return f" (and {held} more like it since the last line)" if held else ""
