"""The exchange's clock: wall time in ms plus an injectable skew."""

from __future__ import annotations

import time


class Clock:
    """Server time in ms; `skew_ms` shifts it to rehearse clock drift; `held_ms` stops it (deterministic tests)."""

    def __init__(self) -> None:
        self.skew_ms = 0
        self.held_ms: int | None = None

    def now_ms(self) -> int:
        held = self.held_ms
        return held if held is not None else time.time_ns() // 1_000_000 + self.skew_ms
