"""Latency and throughput the core measures itself: receive→applied, exchange→local, order round trips."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tui_bot.domain.events import Event, ExecutionReceived, OrderUpdated
from tui_bot.domain.metrics import (
    ConnectionStats,
    Percentiles,
    RateMeter,
    RollingWindow,
    sample_stride,
)

_ORDER_EVENTS = frozenset({OrderUpdated, ExecutionReceived})
_time_ns = time.time_ns
TROUBLE_SHOWN_MS = 300_000
"""A failure stays on the health line this long after it last happened, unless its task succeeds first."""
ORDER_TIMERS_KEPT = 1000
"""Order journeys timed at once: the oldest is dropped when another order is sent."""
ORDER_WINDOW = 256
"""Samples kept by each order round-trip window (ack, first event, fill)."""


@dataclass
class OrderTimer:
    """Timestamps of one order's journey (ns); filled in as acks and events arrive."""

    sent_ns: int
    via: str
    acked_ns: int = 0
    first_event_ns: int = 0
    filled_ns: int = 0


@dataclass(frozen=True, slots=True)
class TaskTrouble:
    """A background task that failed (how often since the trouble began, the latest error) or ended."""

    failures: int
    error: str
    last_ms: int
    ended: bool = False


@dataclass
class TaskHealth:
    """Background tasks that are failing or have ended, by name; the core's BackgroundTasks are its only writers."""

    troubles: dict[str, TaskTrouble] = field(default_factory=dict)

    def failed(self, name: str, error: str, now_ms: int) -> None:
        """One more failure of name (a failure after a quiet while starts a new count)."""
        trouble = self.troubles.get(name)
        if trouble is None or trouble.ended or now_ms - trouble.last_ms >= TROUBLE_SHOWN_MS:
            self.troubles[name] = TaskTrouble(1, error, now_ms)
        else:
            self.troubles[name] = TaskTrouble(trouble.failures + 1, error, now_ms)

    def recovered(self, name: str) -> None:
        """The task succeeded: its failures are over (an ended task never recovers)."""
        if self.troubles:
            trouble = self.troubles.get(name)
            if trouble is not None and not trouble.ended:
                del self.troubles[name]

    def ended(self, name: str, why: str, now_ms: int) -> None:
        """The task ended while it should have been running."""
        self.troubles[name] = TaskTrouble(0, why, now_ms, ended=True)

    def lines(self, now_ms: int) -> list[str]:
        return trouble_lines(self.troubles, now_ms)


def trouble_lines(troubles: Mapping[str, TaskTrouble], now_ms: int) -> list[str]:
    """One line per task that has ended, or failed in the last few minutes without succeeding since."""
    shown = []
    for name, t in sorted(troubles.items()):
        if t.ended:
            shown.append(f"{name} died ({t.error})")
        elif now_ms - t.last_ms < TROUBLE_SHOWN_MS:
            shown.append(f"{name} failing {t.failures}× ({t.error}), last {_ago(now_ms - t.last_ms)} ago")
    return shown


@dataclass(frozen=True, slots=True)
class CoreHealth:
    """The core's own figures at one moment, as a console reads them (a copy: the engine's Health goes on changing)."""

    applied_us: Percentiles
    order_ack_ms: Mapping[str, Percentiles]
    book_resyncs: Mapping[str, int]
    troubles: Mapping[str, TaskTrouble]

    def task_lines(self, now_ms: int) -> list[str]:
        return trouble_lines(self.troubles, now_ms)


def _ago(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


@dataclass
class Health:
    """Rolling windows the console and `listen` summarise; the engine and order service feed them.

    Each is bounded: receive→applied and private latency keep the last metrics.WINDOW_SAMPLES samples, the
    order windows ORDER_WINDOW, the rate a metrics.HISTORY_POINTS-second history, timers ORDER_TIMERS_KEPT orders.
    """

    applied_us: RollingWindow = field(default_factory=RollingWindow)
    private_latency_ms: RollingWindow = field(default_factory=RollingWindow)
    applied_rate: RateMeter = field(default_factory=RateMeter)
    order_ack_ms: dict[str, RollingWindow] = field(
        default_factory=lambda: {"ws": RollingWindow(ORDER_WINDOW), "rest": RollingWindow(ORDER_WINDOW)}
    )
    order_first_event_ms: RollingWindow = field(default_factory=lambda: RollingWindow(ORDER_WINDOW))
    order_fill_ms: RollingWindow = field(default_factory=lambda: RollingWindow(ORDER_WINDOW))
    clock_offset_ms: Callable[[], int] = lambda: 0
    """Server clock minus ours, asked of the exchange client when needed: nothing outside the core sets it."""
    timers: dict[str, OrderTimer] = field(default_factory=dict)
    next_ticker_sample: int = 0
    tasks: TaskHealth = field(default_factory=TaskHealth)
    book_resyncs: dict[str, int] = field(default_factory=dict)
    """Order books rebuilt from a new snapshot, by why ("gap": an update id skipped, "crossed"): the market feed's."""

    def snapshot(self) -> CoreHealth:
        """What a console shows of these windows now: their summaries and copies of the counts and task troubles."""
        return CoreHealth(
            self.applied_us.summary(),
            {via: w.summary() for via, w in self.order_ack_ms.items()},
            dict(self.book_resyncs),
            dict(self.tasks.troubles),
        )

    def record_applied(self, event: Event) -> None:
        """Receive→applied and the applied count for one event; exchange→local (offset-corrected) for orders and fills.

        Tickers take ticker_applied instead; public data's exchange→local latency is each connection's
        own `stats.latency_ms`.
        """
        now = _time_ns()
        self.applied_us.add((now - event.received_ns) / 1000)
        self.applied_rate.tick(now)
        if type(event) in _ORDER_EVENTS and event.exchange_ts > 0:
            if event.source == "stream":  # type: ignore[attr-defined]
                self.private_latency_ms.add(event.received_ns / 1e6 + self.clock_offset_ms() - event.exchange_ts)
            self._order_progress(event, now)

    def ticker_applied(self, received_ns: int) -> None:
        """record_applied for a ticker (the hot path): counted exactly, receive→applied sampled (sample_stride).

        The count goes in the second the ticker was received, which is the second it is applied
        unless it waited in the engine's queue across a second boundary.
        """
        rate = self.applied_rate
        rate.tick(received_ns)
        if rate.total >= self.next_ticker_sample:
            now = _time_ns()
            self.applied_us.add((now - received_ns) / 1000)
            self.next_ticker_sample = rate.total + sample_stride(rate, now)

    def order_sent(self, link_id: str, via: str) -> None:
        self.timers[link_id] = OrderTimer(time.time_ns(), via)
        if len(self.timers) > ORDER_TIMERS_KEPT:
            self.timers.pop(next(iter(self.timers)))

    def order_acked(self, link_id: str) -> None:
        timer = self.timers.get(link_id)
        if timer is not None and not timer.acked_ns:
            timer.acked_ns = time.time_ns()
            self.order_ack_ms[timer.via].add((timer.acked_ns - timer.sent_ns) / 1e6)

    def _order_progress(self, event: Event, now: int) -> None:
        item = getattr(event, "order", None) or getattr(event, "execution", None)
        timer = self.timers.get(getattr(item, "order_link_id", "") or "")
        if timer is None:
            return
        if not timer.first_event_ns:
            timer.first_event_ns = now
            self.order_first_event_ms.add((now - timer.sent_ns) / 1e6)
        if isinstance(event, ExecutionReceived) and not timer.filled_ns:
            timer.filled_ns = now
            self.order_fill_ms.add((now - timer.sent_ns) / 1e6)


def summary_line(stats: dict[str, ConnectionStats], health: CoreHealth, mode: str) -> str:
    """One line for `listen`: each connection's state and rate, then applied latency and order RTTs."""
    now = time.time_ns()
    parts = [f"mode={mode}"]
    for name, s in sorted(stats.items()):
        age = s.last_frame_age_ms(now)
        bad = f" bad={s.decode_errors}({s.rejected_line()})" if s.decode_errors else ""
        bad += f" subscribe-failed={s.subscribe_failures}" if s.subscribe_failures else ""
        shown_age = "-" if age is None else f"{age:.0f}ms"
        parts.append(f"{name}={s.state.value}(rc={s.reconnects} {s.rate.rate(now):.0f}/s age={shown_age}{bad})")
    applied = health.applied_us
    parts.append(f"applied p50={applied.p50:.0f}us p99={applied.p99:.0f}us")
    if health.book_resyncs:
        parts.append("book-resyncs=" + ",".join(f"{why}:{n}" for why, n in sorted(health.book_resyncs.items())))
    ack = health.order_ack_ms["ws"], health.order_ack_ms["rest"]
    if ack[0].samples or ack[1].samples:
        parts.append(f"ack ws p50={ack[0].p50:.1f}ms rest p50={ack[1].p50:.1f}ms")
    return " ".join(parts)
