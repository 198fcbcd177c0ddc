"""Pure connection metrics: rolling percentile windows, per-second rate meters and per-connection stats."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from tui_bot.domain.events import ConnectionState

NS_PER_S = 1_000_000_000
SAMPLES_PER_S = 1000
WINDOW_SAMPLES = 1024
"""Samples a RollingWindow keeps unless told otherwise (about the last second at SAMPLES_PER_S)."""
PING_WINDOW = 256
"""Ping round trips a connection keeps."""
HISTORY_POINTS = 60
"""Points a History (sparkline) keeps unless told otherwise: a minute of per-second rates."""
PUBLIC_STALE_MS = 5_000.0
"""A public stream or topic (frames every 100 ms) is stale when nothing arrived for this long."""
QUIET_STALE_MS = 30_000.0
"""A private or trade stream (event-driven: only pongs keep it fresh) is stale after this long."""


class Percentiles(NamedTuple):
    """A summary of one window: sample count and the p50/p95/p99/max values (0.0 when empty)."""

    samples: int
    p50: float
    p95: float
    p99: float
    max: float


def percentile(ordered: list[float], q: float) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of an ascending list; 0.0 when empty."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class History:
    """A bounded series of values, oldest first, for sparklines."""

    __slots__ = ("_values",)

    def __init__(self, capacity: int = HISTORY_POINTS) -> None:
        self._values: deque[float] = deque(maxlen=capacity)

    def push(self, value: float) -> None:
        """Append a value, dropping the oldest when full."""
        self._values.append(value)

    def extend(self, values: Iterable[float]) -> None:
        """Append several values in order."""
        self._values.extend(values)

    def values(self) -> tuple[float, ...]:
        """The values held, oldest first."""
        return tuple(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def capacity(self) -> int:
        """The most values kept."""
        return self._values.maxlen or 0


class RollingWindow:
    """The last `capacity` samples (e.g. latencies in ms) with percentiles and a bounded history of them."""

    __slots__ = ("_samples", "history", "total")

    def __init__(self, capacity: int = WINDOW_SAMPLES, history: int = HISTORY_POINTS) -> None:
        self._samples: deque[float] = deque(maxlen=capacity)
        self.history = History(history)
        self.total = 0

    def add(self, value: float) -> None:
        """Record one sample."""
        self._samples.append(value)
        self.total += 1

    def __len__(self) -> int:
        return len(self._samples)

    @property
    def last(self) -> float:
        """The most recent sample (0.0 when empty)."""
        return self._samples[-1] if self._samples else 0.0

    def percentile(self, q: float) -> float:
        """The nearest-rank q-th percentile of the window (0.0 when empty)."""
        return percentile(sorted(self._samples), q)

    def summary(self) -> Percentiles:
        """Count, p50, p95, p99 and max of the window, sorting once."""
        ordered = sorted(self._samples)
        top = ordered[-1] if ordered else 0.0
        return Percentiles(len(ordered), percentile(ordered, 50), percentile(ordered, 95), percentile(ordered, 99), top)

    def snapshot(self, q: float = 50) -> float:
        """Push the current q-th percentile onto the history (call once per display tick) and return it."""
        value = self.percentile(q)
        self.history.push(value)
        return value


class RateMeter:
    """Events per second in whole-second buckets; completed seconds feed a bounded history."""

    __slots__ = ("_count", "_end_ns", "_second", "_start_ns", "history", "total")

    def __init__(self, history: int = HISTORY_POINTS) -> None:
        self._second = -1
        self._start_ns = self._end_ns = 0
        self._count = 0
        self.history = History(history)
        self.total = 0

    def tick(self, now_ns: int, count: int = 1) -> None:
        """Count events at now_ns (monotonic or wall ns, always the same clock); hot path: one comparison.

        Time only moves forward: a stamp older than the current second (an event that waited in a
        queue) counts in the current second rather than reopening a closed one.
        """
        if now_ns >= self._end_ns:
            self._roll(now_ns // NS_PER_S)
        self._count += count
        self.total += count

    def _roll(self, second: int) -> None:
        """Close the current bucket and zero-fill any whole seconds that saw no events."""
        if self._second >= 0:
            gap = min(second - self._second - 1, self.history.capacity)
            self.history.push(float(self._count))
            if gap > 0:
                self.history.extend([0.0] * gap)
        self._second = second
        self._start_ns = second * NS_PER_S
        self._end_ns = self._start_ns + NS_PER_S
        self._count = 0

    def sync(self, now_ns: int) -> None:
        """Bring the history up to now_ns (zero-filling quiet seconds) before drawing a sparkline."""
        self.tick(now_ns, 0)

    def rate(self, now_ns: int) -> float:
        """Events in the last completed second (0 when that second saw none)."""
        second = now_ns // NS_PER_S
        if second == self._second + 1:
            return float(self._count)
        if second == self._second:
            values = self.history.values()
            return float(values[-1]) if values else 0.0
        return 0.0


def sample_stride(rate: RateMeter, now_ns: int) -> int:
    """Events per sample for about SAMPLES_PER_S samples a second: every event below that rate, every Nth above.

    The rate is the last completed second's, or this one's so far when higher (a burst starting). A
    fixed stride samples evenly across bursts, so percentiles keep their meaning, and a window of ~1000
    samples spans about the last second whatever the rate (less in the first busy second, while the
    stride ramps up); counts stay exact elsewhere.
    """
    so_far = rate._count if rate._start_ns <= now_ns < rate._end_ns else 0
    return max(1, int(max(rate.rate(now_ns), so_far)) // SAMPLES_PER_S)


@dataclass(slots=True)
class ConnectionStats:
    """What health shows for one connection; the connection updates it, readers only read.

    Counts, the rate and ages are exact per frame; `latency_ms` (exchange→local) is sampled (sample_stride).
    Bounded: the windows keep WINDOW_SAMPLES and PING_WINDOW samples, `topic_last_ns` one time per topic
    subscribed since start.
    """

    name: str
    state: ConnectionState = ConnectionState.CONNECTING
    reason: str = ""
    state_changed_ms: int = 0
    connected_since_ms: int = 0
    reconnects: int = 0
    frames: int = 0
    last_frame_ns: int = 0
    decode_errors: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    """Frames refused per FrameError reason ("number", "range", "topic", ...); they sum to decode_errors."""
    subscribe_failures: int = 0
    topic_last_ns: dict[str, int] = field(default_factory=dict)
    rate: RateMeter = field(default_factory=RateMeter)
    ping_rtt_ms: RollingWindow = field(default_factory=lambda: RollingWindow(PING_WINDOW))
    latency_ms: RollingWindow = field(default_factory=RollingWindow)

    def record_state(self, state: ConnectionState, now_ms: int, reason: str = "") -> None:
        """Note a state change; connected_since_ms holds while LIVE and is 0 otherwise."""
        if state is ConnectionState.LIVE and self.state is not ConnectionState.LIVE:
            self.connected_since_ms = now_ms
        elif state is not ConnectionState.LIVE:
            self.connected_since_ms = 0
        self.state, self.reason, self.state_changed_ms = state, reason, now_ms

    def record_frame(self, received_ns: int) -> None:
        """Count one received frame (hot path: a few attribute writes)."""
        self.frames += 1
        self.last_frame_ns = received_ns
        self.rate.tick(received_ns)

    def rejected_line(self) -> str:
        """The refused frames by reason, most frequent first ("range 3, number 1"; "" when none)."""
        return ", ".join(f"{reason} {count}" for reason, count in sorted(self.rejected.items(), key=lambda kv: -kv[1]))

    def last_frame_age_ms(self, now_ns: int) -> float | None:
        """Milliseconds since the last frame, or None before the first one."""
        return (now_ns - self.last_frame_ns) / 1e6 if self.last_frame_ns else None

    def topic_age_ms(self, topic: str, now_ns: int) -> float | None:
        """Milliseconds since the last frame of topic, or None when it never arrived."""
        last = self.topic_last_ns.get(topic)
        return (now_ns - last) / 1e6 if last else None

    def uptime_ms(self, now_ms: int) -> int:
        """Milliseconds LIVE on the current connection (0 when not LIVE)."""
        return now_ms - self.connected_since_ms if self.connected_since_ms else 0


@dataclass
class RestStats:
    """REST health: errors by retCode, latest rate-limit remaining per path, call latency.

    The exchange client's REST session keeps it; health shows it beside the connections.
    """

    calls: int = 0
    errors_by_code: dict[int, int] = field(default_factory=dict)
    limit_remaining: dict[str, int] = field(default_factory=dict)
    rate_limit_retries: int = 0  # reads asked again after a 10006 / HTTP 429, each after waiting for the reset
    latency_ms: RollingWindow = field(default_factory=lambda: RollingWindow(512))


def wall_ms() -> int:
    """Wall-clock epoch milliseconds (what exchange times, alerts, acks and heartbeats are compared with)."""
    return time.time_ns() // 1_000_000
