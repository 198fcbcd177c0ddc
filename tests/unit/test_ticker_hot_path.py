"""The ticker hot path's bookkeeping: sampled latency windows, exact counts, the topic memo, state merges."""

from __future__ import annotations

from decimal import Decimal

import orjson

from tui_bot.core.health import Health
from tui_bot.core.state import AccountState, PositionMarked
from tui_bot.domain.enums import Side
from tui_bot.domain.events import TickerUpdated
from tui_bot.domain.metrics import NS_PER_S, SAMPLES_PER_S, RateMeter, sample_stride
from tui_bot.domain.models import Position
from tui_bot.exchange.bybit.parse import decode_public
from tui_bot.exchange.bybit.ws import StreamConnection

S = NS_PER_S


def delta(symbol: str, ts: int, **values: str) -> bytes:
    return orjson.dumps({"topic": f"tickers.{symbol}", "type": "delta", "ts": ts, "data": {"symbol": symbol, **values}})


def test_rate_meter_only_moves_forward() -> None:
    meter = RateMeter()
    meter.tick(10 * S)
    meter.tick(11 * S)
    meter.tick(10 * S + 5)  # a late stamp counts in the current second
    assert meter.total == 3 and meter.history.values() == (1.0,)
    assert meter.rate(12 * S) == 2.0


def test_sample_stride_keeps_every_event_at_low_rates_and_about_a_thousand_a_second_above() -> None:
    meter = RateMeter()
    assert sample_stride(meter, 10 * S) == 1
    for i in range(500):
        meter.tick(10 * S + i)
    assert sample_stride(meter, 10 * S + 500) == 1
    for i in range(100 * SAMPLES_PER_S):
        meter.tick(11 * S + i)
    assert sample_stride(meter, 11 * S + S // 2) == 100, "this second so far, when busier than the last"
    meter.tick(12 * S)
    assert sample_stride(meter, 12 * S) == 100, "the last completed second"
    assert sample_stride(meter, 14 * S) == 1, "quiet since"


def test_connection_counts_every_frame_but_samples_latency_at_high_rates() -> None:
    conn = StreamConnection("public", "ws://127.0.0.1:9", decode=decode_public, on_events=lambda events: None)
    frames = 20 * SAMPLES_PER_S
    for i in range(frames):
        conn.handle_frame(delta("BTCUSDT", 1_000, lastPrice=f"{100 + i % 7}.5"), S + i * (S // frames))
    ramp_up = conn.stats.latency_ms.total
    for i in range(frames):
        conn.handle_frame(delta("ETHUSDT", 1_000, lastPrice="10"), 2 * S + i * (S // frames))
    stats = conn.stats
    assert stats.frames == 2 * frames and stats.decode_errors == 0 and stats.rate.total == 2 * frames
    assert stats.topic_last_ns == {
        "tickers.BTCUSDT": S + (frames - 1) * (S // frames),
        "tickers.ETHUSDT": 2 * S + (frames - 1) * (S // frames),
    }
    assert SAMPLES_PER_S < ramp_up < frames // 2, "the first busy second: every frame at first, then sparser"
    assert stats.latency_ms.total - ramp_up == SAMPLES_PER_S, "every 20th frame at the last second's 20k/s"


def test_topic_memo_agrees_with_the_scan() -> None:
    seen: list[str] = []
    conn = StreamConnection(
        "public",
        "ws://127.0.0.1:9",
        decode=decode_public,
        on_events=lambda events: seen.extend(e.symbol for e in events),
    )
    for raw in (
        delta("BTCUSDT", 1, bid1Price="1"),
        delta("BTCUSDT", 2, bid1Price="2"),
        delta("BTCUSD", 3, bid1Price="3"),
        delta("BTCUSD", 4, bid1Price="4").decode(),
    ):
        conn.handle_frame(raw, 7)
    assert seen == ["BTCUSDT", "BTCUSDT", "BTCUSD", "BTCUSD"]
    assert conn.stats.topic_last_ns == {"tickers.BTCUSDT": 7, "tickers.BTCUSD": 7}


def test_health_counts_every_ticker_and_samples_receive_to_applied() -> None:
    health = Health()
    for i in range(50):
        health.ticker_applied(i)
    assert health.applied_rate.total == 50 and health.applied_us.total == 50, "under 1,000/s: every ticker"


def test_merge_ticker_re_marks_a_position_once_per_move() -> None:
    state = AccountState()
    state.positions["BTCUSDT"] = Position("BTCUSDT", Side.BUY, Decimal("2"), Decimal("100"), leverage=Decimal("10"))
    first = decode_public(delta("BTCUSDT", 1, markPrice="110"), 1)[0]
    assert isinstance(first, TickerUpdated)
    marked = state.merge_ticker(first)
    assert marked == PositionMarked("BTCUSDT", Decimal("110"), Decimal("20"), Decimal("100.00"))
    assert state.apply_ticker(first) == [first], "the same mark again: nothing re-marked"
    assert state.merge_ticker(decode_public(delta("ETHUSDT", 1, markPrice="5"), 1)[0]) is None
    assert state.tickers["BTCUSDT"].mark_price == Decimal("110")
