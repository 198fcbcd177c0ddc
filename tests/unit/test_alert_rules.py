"""Health rules on a fake clock: each threshold raises once per episode, escalates once, and clears."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui_bot.core.alert_rules import (
    AlertSettings,
    Episodes,
    HealthInputs,
    HealthRules,
    MarkCheck,
    duration,
)
from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import ConnectionStats

T0 = 1_784_712_600_000
S = 1000


class Clocked:
    """HealthRules fed the same connections at successive times."""

    def __init__(self, settings: AlertSettings | None = None, **connections: ConnectionStats) -> None:
        self.rules = HealthRules(settings or AlertSettings(), T0)
        self.connections = dict(connections)
        self.applied = 0
        self.flowing = True
        """Events keep arriving between checks unless a test stops them."""
        self.streaming = True
        self.marks: dict[str, MarkCheck] = {}
        self.store_since: int | None = None

    def at(self, seconds: float) -> list[Alert]:
        self.applied += self.flowing
        return self.rules.check(
            HealthInputs(
                now_ms=T0 + int(seconds * S),
                connections=self.connections,
                applied_total=self.applied,
                streaming=self.streaming,
                mark_checks=self.marks,
                store_failing_since_ms=self.store_since,
                store_error="database is locked",
                store_pending=7,
            )
        )

    def over(self, start: float, end: float, step: float = 1.0) -> list[Alert]:
        """Every alert raised checking each `step` seconds from start to end (inclusive)."""
        raised: list[Alert] = []
        t = start
        while t <= end + 1e-9:
            raised += self.at(t)
            t += step
        return raised


def live(name: str) -> ConnectionStats:
    stats = ConnectionStats(name)
    stats.record_state(ConnectionState.LIVE, T0)
    return stats


def kinds(alerts: list[Alert]) -> list[tuple[Severity, AlertKind, str]]:
    return [(a.severity, a.kind, a.subject) for a in alerts]


# -- episodes ----------------------------------------------------------------------------------------------


def test_an_episode_raises_once_escalates_once_and_clears_once() -> None:
    ep = Episodes()
    k = AlertKind.LATENCY
    seen = [
        ep.update(k, "x", Severity.WARNING, "slow", 1),
        ep.update(k, "x", Severity.WARNING, "slow", 2),
        ep.update(k, "x", Severity.CRITICAL, "very", 3),
        ep.update(k, "x", Severity.WARNING, "slow", 4),
        ep.update(k, "x", None, "", 5, "fine"),
        ep.update(k, "x", None, "", 6, "fine"),
    ]
    assert [(a.severity, a.text) if a else None for a in seen] == [
        (Severity.WARNING, "slow"),
        None,
        (Severity.CRITICAL, "very"),
        None,
        (Severity.CLEARED, "fine"),
        None,
    ]


def test_alert_text_is_one_line() -> None:
    assert Alert(0, Severity.INFO, AlertKind.PRICE, "", "two\nlines  here").text == "two lines here"


def test_durations_read_short() -> None:
    assert [duration(ms) for ms in (0, 31_500, 185_000, 7_800_000)] == ["0s", "31s", "3m05s", "2h10m"]


# -- connections -------------------------------------------------------------------------------------------


def test_a_connection_down_warns_after_30s_turns_critical_after_2m_and_clears_once_live() -> None:
    private = live("private")
    clock = Clocked(private=private, trade=live("trade"))
    assert clock.at(0) == []
    private.record_state(ConnectionState.RECONNECTING, T0 + 10 * S, "connection refused")
    assert clock.over(10, 40) == []
    warning = clock.over(41, 130)
    assert [(a.severity, a.time_ms) for a in warning] == [(Severity.WARNING, T0 + 41 * S)]
    assert warning[0].text == "private connection reconnecting for 31s: connection refused"
    critical = clock.over(131, 200)
    assert kinds(critical) == [(Severity.CRITICAL, AlertKind.CONNECTION_DOWN, "private")]
    assert critical[0].text == "private connection reconnecting for 2m01s: connection refused"
    private.record_state(ConnectionState.CONNECTING, T0 + 201 * S)  # still down: the episode goes on
    assert clock.over(201, 205) == []
    private.record_state(ConnectionState.LIVE, T0 + 206 * S)
    back = clock.over(206, 300)
    assert [(a.severity, a.text) for a in back] == [(Severity.CLEARED, "private connection live again after 3m16s")]


def test_thresholds_come_from_settings() -> None:
    private = ConnectionStats("private", state=ConnectionState.DOWN, state_changed_ms=T0)
    clock = Clocked(AlertSettings(connection_down_warning_s=1, connection_down_critical_s=2), private=private)
    raised = clock.over(0, 3, step=0.25)
    assert [(a.severity, a.time_ms - T0) for a in raised] == [(Severity.WARNING, 1250), (Severity.CRITICAL, 2250)]


def test_a_stopped_connection_is_not_down() -> None:
    clock = Clocked(trade=ConnectionStats("trade", state=ConnectionState.STOPPED, state_changed_ms=T0))
    assert clock.over(0, 600, step=60) == []


# -- latency -----------------------------------------------------------------------------------------------


def test_latency_p99_warns_above_500ms_and_is_critical_above_1s_for_5_minutes() -> None:
    public = live("public-1")
    clock = Clocked(**{"public-1": public})

    def samples(ms: float, count: int = 200) -> None:
        for _ in range(count):
            public.latency_ms.add(ms)

    samples(40)
    assert clock.at(0) == []
    samples(600)
    assert [(a.severity, a.text) for a in clock.at(1)] == [(Severity.WARNING, "public-1 latency p99 600 ms")]
    raised = []
    for second in range(2, 400):
        samples(1200, 50)
        raised += clock.at(second)
    assert [(a.severity, a.time_ms - T0) for a in raised] == [(Severity.CRITICAL, 302 * S)]
    assert raised[0].text == "public-1 latency p99 1200 ms for 5m00s"
    samples(30, 1024)
    assert [(a.severity, a.text) for a in clock.at(400)] == [(Severity.CLEARED, "public-1 latency p99 back to 30 ms")]


def test_latency_is_judged_only_on_new_samples_and_enough_of_them() -> None:
    public = live("public-1")
    clock = Clocked(**{"public-1": public})
    for _ in range(5):
        public.latency_ms.add(5000)
    assert clock.at(0) == [], "five samples say too little"
    for _ in range(30):
        public.latency_ms.add(700)
    assert len(clock.at(1)) == 1
    assert clock.over(2, 1000, step=10) == [], "no new samples: no new judgement, no repeat"


# -- events, subscriptions, marks, store -------------------------------------------------------------------


def test_no_events_for_5_minutes_is_critical_while_streaming() -> None:
    clock = Clocked()
    clock.flowing = False
    assert clock.at(0) == []
    assert clock.at(300) == []
    raised = clock.at(301)
    assert [(a.severity, a.kind, a.text) for a in raised] == [
        (Severity.CRITICAL, AlertKind.NO_EVENTS, "no market or account events for 5m01s")
    ]
    assert clock.at(400) == []
    clock.applied += 1
    assert kinds(clock.at(401)) == [(Severity.CLEARED, AlertKind.NO_EVENTS, "")]


def test_silence_is_normal_when_nothing_is_streamed() -> None:
    clock = Clocked()
    clock.flowing = clock.streaming = False
    assert clock.at(0) + clock.at(10_000) == []


def test_more_than_10_subscription_failures_in_an_hour_is_critical_until_they_age_out() -> None:
    public = live("public-1")
    clock = Clocked(**{"public-1": public})
    public.subscribe_failures = 6
    assert clock.at(0) == []
    public.subscribe_failures = 10
    assert clock.at(600) == []
    public.subscribe_failures = 11
    raised = clock.at(1200)
    assert [(a.severity, a.text) for a in raised] == [(Severity.CRITICAL, "11 subscription failures in the last 1h00m")]
    assert clock.over(1201, 3600, step=60) == []
    assert [(a.severity, a.text) for a in clock.at(3601)] == [
        (Severity.CLEARED, "subscription failures down to 5 in the last 1h00m")
    ]


def test_a_stream_mark_more_than_1_percent_from_rest_is_critical_once_per_reseed_episode() -> None:
    clock = Clocked()
    clock.marks = {"BTCUSDT": MarkCheck(Decimal("100000"), Decimal("100990"), T0)}
    assert clock.at(0) == []
    clock.marks = {"BTCUSDT": MarkCheck(Decimal("100000"), Decimal("101010.5"), T0 + 60 * S)}
    raised = clock.at(60)
    assert [(a.severity, a.subject, a.text) for a in raised] == [
        (Severity.CRITICAL, "BTCUSDT", "BTCUSDT stream mark 101010.5 is 1.01% from REST mark 100000")
    ]
    clock.marks = {"BTCUSDT": MarkCheck(Decimal("100000"), Decimal("98000"), T0 + 120 * S)}
    assert clock.at(61) + clock.at(120) == []
    clock.marks = {}
    assert [(a.severity, a.text) for a in clock.at(121)] == [(Severity.CLEARED, "BTCUSDT position closed")]


def test_failing_database_writes_warn_then_turn_critical_then_clear() -> None:
    clock = Clocked()
    clock.store_since = T0
    assert clock.at(4) == []
    assert [(a.severity, a.text) for a in clock.at(6)] == [
        (Severity.WARNING, "database writes failing for 6s, 7 queued (database is locked)")
    ]
    assert clock.at(30) == []
    assert [a.severity for a in clock.at(61)] == [Severity.CRITICAL]
    clock.store_since = None
    assert [(a.severity, a.text) for a in clock.at(62)] == [(Severity.CLEARED, "database writes succeed again")]


@pytest.mark.parametrize(
    ("warning", "critical"),
    [
        ("connection_down_warning_s", "connection_down_critical_s"),
        ("latency_warning_ms", "latency_critical_ms"),
        ("store_failing_warning_s", "store_failing_critical_s"),
    ],
)
def test_a_warning_threshold_above_its_critical_one_is_refused(warning: str, critical: str) -> None:
    with pytest.raises(ValueError, match=f"{warning} must not exceed {critical}"):
        AlertSettings.model_validate({warning: 500, critical: 100})
