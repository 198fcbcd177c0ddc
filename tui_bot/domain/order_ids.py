"""Client order ids (orderLinkId) that carry bot id, reason and time, and parse back.

Format: ``{bot}-{reason code}-{ms base36}-{counter base36}`` — at most 36 chars of
[A-Za-z0-9_-]. The counter makes ids unique within the same millisecond.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from enum import StrEnum

MAX_LEN = 36
_BOT_RE = re.compile(r"^[A-Za-z0-9_]{1,12}$")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class OrderReason(StrEnum):
    """Why an order was sent; the short code goes into the id."""

    ENTRY = "en"
    SCALE_IN = "si"
    MANUAL_ENTRY = "me"
    TAKE_PROFIT = "tp"
    STOP_LOSS = "sl"
    TRAILING_STOP = "ts"
    TIGHTEN = "ti"
    TIME_EXIT = "tx"
    RISK_LIMIT = "rl"
    MANUAL_EXIT = "mx"
    PANIC = "pa"
    REPLACEMENT = "rp"


@dataclass(frozen=True, slots=True)
class ParsedOrderId:
    bot: str
    reason: OrderReason
    time_ms: int
    counter: int


def _b36(value: int) -> str:
    digits = []
    while True:
        value, rem = divmod(value, 36)
        digits.append(_ALPHABET[rem])
        if value == 0:
            return "".join(reversed(digits))


class OrderIdFactory:
    """Makes unique orderLinkIds for one bot id."""

    def __init__(self, bot: str) -> None:
        if not _BOT_RE.fullmatch(bot):
            raise ValueError(f"bot id must be 1-12 chars of [A-Za-z0-9_], got {bot!r}")
        self.bot = bot
        self._counter = itertools.count(int(time.time_ns() // 1000) % 36**3)

    def new(self, reason: OrderReason, now_ms: int | None = None) -> str:
        """A fresh id for reason at now_ms (default: the wall clock)."""
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        link = f"{self.bot}-{reason.value}-{_b36(ms)}-{_b36(next(self._counter) % 36**4)}"
        assert len(link) <= MAX_LEN
        return link


def parse_order_id(link: str) -> ParsedOrderId | None:
    """Bot, reason and time from one of our ids; None for ids of other programs."""
    parts = link.split("-")
    if len(parts) != 4 or not _BOT_RE.fullmatch(parts[0]):
        return None
    try:
        reason = OrderReason(parts[1])
        return ParsedOrderId(parts[0], reason, int(parts[2], 36), int(parts[3], 36))
    except ValueError:
        return None
