"""Connection health: one line per stream plus REST, with latency and message-rate sparklines."""

from __future__ import annotations

import re
from collections import deque

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from tui_bot.core.console_api import Heartbeat
from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import NS_PER_S, PUBLIC_STALE_MS, QUIET_STALE_MS, ConnectionStats, RestStats
from tui_bot.ui import format as fmt

REST_LINE = "rest"
DB_LINE = "db"
TASKS_LINE = "tasks"
BEAT_LINE = "beat "
"""Prefix of the heartbeat lines of an attached console (the listener's and each bot's)."""
STATE_CLASSES = tuple(f"-{state.value}" for state in ConnectionState)
HISTORY = 60


class HealthLine(Vertical):
    """One connection: a state dot (classes -live, -down, …) and a text summary, with a row of two
    sparklines (latency p50 and messages/s) below it that the panel's -narrow class hides.

    The class `stale` is set while nothing (data or pong) has arrived for longer than the threshold.
    """

    def __init__(self, connection: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="health-line")
        self.connection = connection
        self.text = ""
        self.dot = Static(fmt.state_dot(ConnectionState.CONNECTING), classes="health-dot", markup=False)
        self.summary = Static(connection, classes="health-text", markup=False)
        self.latency_spark = Sparkline([], classes="latency-spark")
        self.rate_spark = Sparkline([], classes="rate-spark")
        self.spark_row = Horizontal(
            Static("lat", classes="spark-label", markup=False),
            self.latency_spark,
            Static("msg/s", classes="spark-label", markup=False),
            self.rate_spark,
            classes="spark-row",
        )

    def compose(self) -> ComposeResult:
        with Horizontal(classes="text-row"):
            yield self.dot
            yield self.summary
        yield self.spark_row

    def show(self, text: str, *, state: str, stale: bool, latency: list[float], rate: list[float]) -> None:
        """Replace the line's content; sparklines get new lists (Sparkline only redraws on assignment)."""
        if text != self.text:
            self.text = text
            self.summary.update(text)
        for name in STATE_CLASSES + ("-rest",):
            self.set_class(name == f"-{state}", name)
        self.set_class(stale, "stale")
        self.latency_spark.data = latency
        self.rate_spark.data = rate


class HealthPanel(Vertical):
    """Health of every connection, refreshed about once a second by the app (class -narrow hides sparklines)."""

    def __init__(
        self,
        *,
        public_stale_ms: float = PUBLIC_STALE_MS,
        quiet_stale_ms: float = QUIET_STALE_MS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.public_stale_ms = public_stale_ms
        self.quiet_stale_ms = quiet_stale_ms
        self.lines: dict[str, HealthLine] = {}
        self._last_tick_ns: dict[str, int] = {}
        self._rest_calls: tuple[int, int] | None = None
        self._rest_rate: deque[float] = deque(maxlen=HISTORY)

    def stale_after_ms(self, connection: str) -> float:
        """Public streams tick every 100 ms; private and trade are event-driven, so only pongs keep them fresh."""
        return self.public_stale_ms if connection.startswith("public") else self.quiet_stale_ms

    def refresh_health(self, stats: dict[str, ConnectionStats], rest: RestStats | None, now_ns: int) -> None:
        """Update (or create) one line per connection and the REST line; drop lines of gone connections."""
        for name in sorted(stats, key=_order):
            self._connection_line(stats[name], now_ns)
        if rest is not None:
            self._rest_line(rest, now_ns)
        kept = {DB_LINE, TASKS_LINE} | {n for n in self.lines if n.startswith(BEAT_LINE)}
        wanted = set(stats) | ({REST_LINE} if rest is not None else set()) | (kept & set(self.lines))
        for name in [n for n in self.lines if n not in wanted]:
            self._drop(name)

    def refresh_store(self, stalled_since_s: float | None, error: str | None, queued: int, now_ns: int) -> None:
        """A DB line while store writes are failing (nothing is lost: ops stay queued); gone once they recover."""
        if stalled_since_s is None:
            self._drop(DB_LINE)
            return
        line = self._line(DB_LINE)
        parts = [
            "DB",
            f"writes failing {fmt.age_since(int(stalled_since_s * 1000), now_ns // 1_000_000)}",
            f"queued {queued}",
        ]
        if error:
            parts.append(error)
        line.dot.update(fmt.state_dot(ConnectionState.DOWN))
        line.show("  ".join(parts), state=ConnectionState.DOWN.value, stale=True, latency=[], rate=[])

    def refresh_tasks(self, troubles: list[str]) -> None:
        """A tasks line while background tasks fail or have died (the core's own words); gone once they are fine."""
        if not troubles:
            self._drop(TASKS_LINE)
            return
        line = self._line(TASKS_LINE)
        line.dot.update(fmt.state_dot(ConnectionState.DOWN))
        line.show("  ".join(["Tasks", *troubles]), state=ConnectionState.DOWN.value, stale=True, latency=[], rate=[])

    def refresh_heartbeats(self, beats: list[Heartbeat]) -> None:
        """One line per process that beats (an attached console's listener and bots): alive with the heartbeat's
        age, or gone; lines of processes no longer listed are dropped."""
        for beat in beats:
            line = self._line(BEAT_LINE + beat.name)
            line.spark_row.display = False
            state = ConnectionState.LIVE if beat.age_ms is not None else ConnectionState.DOWN
            text = f"beat {fmt.age(beat.age_ms)} ago" if beat.age_ms is not None else "gone (no heartbeat)"
            line.dot.update(fmt.state_dot(state))
            line.show(f"{beat.name}  {text}", state=state.value, stale=beat.age_ms is None, latency=[], rate=[])
        listed = {BEAT_LINE + beat.name for beat in beats}
        for name in [n for n in self.lines if n.startswith(BEAT_LINE) and n not in listed]:
            self._drop(name)

    def _drop(self, name: str) -> None:
        line = self.lines.pop(name, None)
        if line is not None:
            line.remove()
        self._last_tick_ns.pop(name, None)

    def _line(self, name: str) -> HealthLine:
        """The line for a connection, mounted on first sight in display order (REST last)."""
        line = self.lines.get(name)
        if line is None:
            later = [n for n in self.lines if _order(n) > _order(name) and self.lines[n].parent is self]
            line = self.lines[name] = HealthLine(name, id=f"health-{re.sub(r'[^A-Za-z0-9_-]', '-', name)}")
            if later:
                self.mount(line, before=self.lines[min(later, key=_order)])
            else:
                self.mount(line)
        return line

    def _second_passed(self, name: str, now_ns: int) -> bool:
        """True at most once per second per line: histories advance one sample per second."""
        last = self._last_tick_ns.get(name)
        if last is not None and now_ns - last < NS_PER_S:
            return False
        self._last_tick_ns[name] = now_ns
        return True

    def _connection_line(self, s: ConnectionStats, now_ns: int) -> None:
        """State, time in state, reconnects, last-message age, msgs/s, ping RTT and latency of one stream."""
        line = self._line(s.name)
        if self._second_passed(s.name, now_ns):
            s.latency_ms.snapshot(50)
        s.rate.sync(now_ns)
        frame_age = s.last_frame_age_ms(now_ns)
        stale = s.state is ConnectionState.STALE or (frame_age is not None and frame_age > self.stale_after_ms(s.name))
        lat = s.latency_ms.summary()
        rtt = s.ping_rtt_ms.summary()
        parts = [
            s.name,
            f"{s.state.value} {fmt.age_since(s.state_changed_ms, now_ns // 1_000_000)}",
            f"↻{s.reconnects}",
            f"last {fmt.age(frame_age)}",
            fmt.per_second(s.rate.rate(now_ns)),
        ]
        if rtt.samples:
            parts.append(f"rtt {fmt.millis(rtt.p50)}")
        if lat.samples:
            parts.append(f"lat {fmt.millis_pair(lat.p50, lat.p99)}")
        if s.decode_errors:
            parts.append(f"bad {s.decode_errors} ({s.rejected_line()})")
        if s.subscribe_failures:
            parts.append(f"subscribe failed {s.subscribe_failures}")
        line.dot.update(fmt.state_dot(s.state))
        line.show(
            "  ".join(parts),
            state=s.state.value,
            stale=stale,
            latency=list(s.latency_ms.history.values()),
            rate=list(s.rate.history.values()),
        )

    def _rest_line(self, rest: RestStats, now_ns: int) -> None:
        """Calls, errors (commonest retCode), rate-limit retries, lowest limit remaining, latency, calls/s of REST."""
        line = self._line(REST_LINE)
        if self._second_passed(REST_LINE, now_ns):
            rest.latency_ms.snapshot(50)
            if self._rest_calls is not None:
                calls, at = self._rest_calls
                self._rest_rate.append((rest.calls - calls) * NS_PER_S / max(now_ns - at, 1))
            self._rest_calls = (rest.calls, now_ns)
        lat = rest.latency_ms.summary()
        errors = sum(rest.errors_by_code.values())
        parts = ["REST", f"calls {rest.calls}", f"err {errors}"]
        if errors:
            worst = max(rest.errors_by_code.items(), key=lambda kv: kv[1])
            parts[-1] += f" ({worst[0]}×{worst[1]})"
        if rest.rate_limit_retries:
            parts.append(f"rate-limited {rest.rate_limit_retries}")
        if rest.limit_remaining:
            parts.append(f"limit {min(rest.limit_remaining.values())}")
        parts.append(f"lat {fmt.millis_pair(lat.p50, lat.p99)}" if lat.samples else f"lat {fmt.DASH}")
        rate = self._rest_rate[-1] if self._rest_rate else 0.0
        parts.append(fmt.per_second(rate))
        line.dot.update("●" if rest.calls else fmt.state_dot(ConnectionState.CONNECTING))
        line.show(
            "  ".join(parts),
            state="rest",
            stale=False,
            latency=list(rest.latency_ms.history.values()),
            rate=list(self._rest_rate),
        )


def _order(name: str) -> tuple[int, str]:
    """Public shards first (in shard order), then private, trade, anything else, REST, the DB line, the tasks line."""
    if name.startswith("public"):
        return (0, f"{len(name):03d}{name}")
    return ({"private": 1, "trade": 2, REST_LINE: 9, DB_LINE: 10, TASKS_LINE: 11}.get(name, 3), name)
