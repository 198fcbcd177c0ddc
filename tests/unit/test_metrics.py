"""Pure metrics helpers: exact percentiles, per-second rates, bounded histories, connection stats."""

from __future__ import annotations

from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import (
    ConnectionStats,
    History,
    Percentiles,
    RateMeter,
    RollingWindow,
    percentile,
)

S = 1_000_000_000


def test_percentiles_are_nearest_rank_on_known_samples() -> None:
    window = RollingWindow(capacity=1000)
    for value in reversed(range(1, 101)):
        window.add(float(value))
    assert window.summary() == Percentiles(100, 50.0, 95.0, 99.0, 100.0)
    assert window.percentile(1) == 1.0 and window.percentile(100) == 100.0 and window.last == 1.0


def test_percentiles_of_tiny_and_empty_windows() -> None:
    assert RollingWindow().summary() == Percentiles(0, 0.0, 0.0, 0.0, 0.0)
    assert percentile([], 50) == 0.0
    single = RollingWindow()
    single.add(7.5)
    assert single.summary() == Percentiles(1, 7.5, 7.5, 7.5, 7.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 75) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 76) == 4.0


def test_window_keeps_only_the_latest_samples() -> None:
    window = RollingWindow(capacity=10)
    for value in range(1000):
        window.add(float(value))
    assert len(window) == 10 and window.total == 1000
    assert window.summary() == Percentiles(10, 994.0, 999.0, 999.0, 999.0)


def test_history_is_bounded_and_oldest_first() -> None:
    history = History(capacity=3)
    for value in (1.0, 2.0, 3.0, 4.0):
        history.push(value)
    assert history.values() == (2.0, 3.0, 4.0) and len(history) == 3 and history.capacity == 3
    window = RollingWindow(history=2)
    for value in (10.0, 20.0, 30.0):
        window.add(value)
        window.snapshot(50)
    assert window.history.values() == (10.0, 20.0), "p50 of [10, 20] then of [10, 20, 30]"


def test_rate_meter_counts_whole_seconds_and_zero_fills_gaps() -> None:
    meter = RateMeter(history=5)
    for i in range(10):
        meter.tick(100 * S + i * 1000)
    assert meter.rate(100 * S + S // 2) == 0.0, "no second has completed yet"
    for _ in range(5):
        meter.tick(101 * S + 7)
    assert meter.rate(101 * S + S // 2) == 10.0
    assert meter.rate(102 * S + 1) == 5.0
    assert meter.rate(104 * S) == 0.0
    meter.sync(104 * S)
    assert meter.history.values() == (10.0, 5.0, 0.0, 0.0) and meter.total == 15
    meter.sync(200 * S)
    assert meter.history.values() == (0.0, 0.0, 0.0, 0.0, 0.0)


def test_connection_stats_track_state_frames_and_ages() -> None:
    stats = ConnectionStats("public-1")
    assert stats.last_frame_age_ms(5 * S) is None and stats.uptime_ms(1000) == 0
    stats.record_state(ConnectionState.LIVE, 1_000)
    stats.record_state(ConnectionState.LIVE, 2_000)
    assert stats.connected_since_ms == 1_000 and stats.uptime_ms(4_000) == 3_000
    stats.record_frame(10 * S)
    stats.record_frame(10 * S + 500_000_000)
    stats.topic_last_ns["tickers.BTCUSDT"] = 10 * S
    assert stats.frames == 2 and stats.last_frame_age_ms(11 * S) == 500.0
    assert stats.topic_age_ms("tickers.BTCUSDT", 11 * S) == 1000.0 and stats.topic_age_ms("x", 11 * S) is None
    assert stats.rate.rate(11 * S) == 2.0
    stats.record_state(ConnectionState.RECONNECTING, 5_000, "silent for 30s")
    assert stats.connected_since_ms == 0 and stats.state_changed_ms == 5_000 and stats.reason == "silent for 30s"
