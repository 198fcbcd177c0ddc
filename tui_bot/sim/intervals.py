"""Kline interval arithmetic: bar boundaries for minute, day, week and month bars (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")
MINUTE_MS = 60_000
DAY_MS = 86_400_000
# 1970-01-01 was a Thursday; Bybit weeks start on Monday.
_MONDAY_OFFSET_MS = 4 * DAY_MS


def _month_start(ts: int) -> int:
    moment = datetime.fromtimestamp(ts / 1000, UTC)
    return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)


def _add_month(start: int, months: int) -> int:
    moment = datetime.fromtimestamp(start / 1000, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    return int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)


def fixed_length_ms(interval: str) -> int | None:
    """Length of a fixed-size bar in ms, or None for months."""
    if interval == "D":
        return DAY_MS
    if interval == "W":
        return 7 * DAY_MS
    if interval == "M":
        return None
    return int(interval) * MINUTE_MS


def bar_start(interval: str, ts: int) -> int:
    """Open time of the bar that contains ts."""
    if interval == "M":
        return _month_start(ts)
    length = fixed_length_ms(interval)
    assert length is not None
    offset = _MONDAY_OFFSET_MS if interval == "W" else 0
    return (ts - offset) // length * length + offset


def shift_bar(interval: str, start: int, bars: int) -> int:
    """Open time of the bar `bars` bars after (or before, when negative) the one opening at start."""
    if interval == "M":
        return _add_month(start, bars)
    length = fixed_length_ms(interval)
    assert length is not None
    return start + bars * length


def bar_length_ms(interval: str, start: int) -> int:
    """Length in ms of the bar opening at start."""
    return shift_bar(interval, start, 1) - start
