"""Fresh bars at a boundary: a cycle waits for the bar that just closed, asks REST once, and leaves out the late."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.core.conftest import fast_settings, sim_of
from tui_bot.core import cycle
from tui_bot.core.cycle import CycleAnalysis, CycleSkipped, interval_ms
from tui_bot.domain.events import KlineUpdated
from tui_bot.domain.recommendations import Proposal
from tui_bot.runtime import Runtime, start_runtime

STEP = interval_ms("1")
WATCHLIST = ["BTCUSDT", "ETHUSDT"]
LOGGER = "tui_bot.core.cycle"


async def started(tmp_path: Path) -> Runtime:
    """A runtime on the embedded exchange, one-minute bars, cycles only when the test asks."""
    settings = fast_settings()
    settings.bot.watchlist = list(WATCHLIST)
    settings.trading = settings.trading.model_copy(update={"timeframe": "1", "run_cycles": False})
    return await start_runtime(settings, tmp_path / "bot.db", schedule_cycles=False)


@pytest.fixture
async def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Runtime]:
    """The started runtime; the bar wait is short unless a test sets it."""
    monkeypatch.setattr(cycle, "BAR_WAIT_S", 0.3)
    runtime = await started(tmp_path)
    try:
        yield runtime
    finally:
        sim_of(runtime).clock.skew_ms = 0
        await runtime.close()


def analysis_of(rt: Runtime) -> CycleAnalysis:
    assert rt.bot is not None
    return rt.bot.analysis


async def propose_at(rt: Runtime, now_ms: int) -> list[Proposal]:
    """The bot's analysis as a cycle at now_ms would run it."""
    return await analysis_of(rt).propose(rt.trading.current, rt.engine.state, now_ms)


async def warmed(rt: Runtime) -> CycleAnalysis:
    """The analysis after one ordinary cycle: candles tracked, REST history read, kline stream subscribed."""
    await propose_at(rt, rt.engine.client.now_ms())
    analysis = analysis_of(rt)
    assert all(analysis.candles.closed(s) for s in WATCHLIST)
    return analysis


def expected_start(now_ms: int) -> int:
    """Start of the bar that closed at the latest boundary before now_ms."""
    return (now_ms // STEP - 1) * STEP


def left_out_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.WARNING and "left out" in r.getMessage()
    ]


def analysed(analysis: CycleAnalysis, proposals: list[Proposal]) -> int:
    """How many (symbol, strategy) pairs gave a verdict: each strategy says LONG, SHORT or HOLD once per symbol."""
    return len(proposals) + analysis.holds


async def test_no_symbol_with_the_expected_bar_skips_the_cycle_after_asking_rest_again(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    analysis = await warmed(rt)
    sim_of(rt).faults.stall("kline.*", 30)  # from here on only REST can bring the book anything new
    await asyncio.sleep(0.2)
    before = {s: analysis.candles.live(s) for s in WATCHLIST}
    ahead = rt.engine.client.now_ms() + 2 * STEP  # the bar expected to have closed opens a minute from now
    with (
        caplog.at_level(logging.WARNING, logger=LOGGER),
        pytest.raises(CycleSkipped, match="^no fresh candles: the bar that just closed has not arrived"),
    ):
        await propose_at(rt, ahead)
    refreshed = [s for s in WATCHLIST if analysis.candles.live(s) is not before[s]]
    assert refreshed == WATCHLIST, "REST was not asked again before giving up on the late bars"
    [warning] = left_out_warnings(caplog)
    assert str(expected_start(ahead)) in warning and all(s in warning for s in WATCHLIST)


async def test_only_the_symbol_whose_bar_closed_is_analysed_and_the_late_one_is_named(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    analysis = await warmed(rt)
    strategies = len(analysis.strategies(rt.trading.current.strategies))
    ahead = rt.engine.client.now_ms() + 2 * STEP
    expected = expected_start(ahead)
    bar = replace(analysis.candles.closed("BTCUSDT")[-1], start=expected, confirm=True)
    analysis.candles.on_event(KlineUpdated(kline=bar, exchange_ts=expected + STEP, received_ns=time.time_ns()))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        proposals = await propose_at(rt, ahead)
    assert {p.symbol for p in proposals} <= {"BTCUSDT"}
    assert analysed(analysis, proposals) == strategies, "ETHUSDT was analysed on a stale bar"
    [warning] = left_out_warnings(caplog)
    assert "ETHUSDT" in warning and "BTCUSDT" not in warning


async def test_a_bar_that_closes_on_the_stream_during_the_wait_is_used_without_asking_rest(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(cycle, "BAR_WAIT_S", 3600.0)  # a wait that ignores the stream outlives pytest-timeout
    sim = sim_of(rt)
    analysis = await warmed(rt)
    strategies = len(analysis.strategies(rt.trading.current.strategies))
    ahead = rt.engine.client.now_ms() + STEP  # the bar expected to have closed is the one forming now

    def close_the_forming_bar() -> None:
        sim.clock.skew_ms += STEP  # the exchange's minute ends: it closes the bar and pushes it on the stream

    asyncio.get_running_loop().call_later(0.3, close_the_forming_bar)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        proposals = await propose_at(rt, ahead)
    assert sim.clock.skew_ms == STEP
    assert not left_out_warnings(caplog)
    assert analysed(analysis, proposals) == strategies * len(WATCHLIST)
    assert all(expected_start(ahead) in [b.start for b in analysis.candles.closed(s)] for s in WATCHLIST)


async def test_a_bar_the_stream_withholds_is_fetched_from_rest_after_the_wait(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    sim = sim_of(rt)
    analysis = await warmed(rt)
    strategies = len(analysis.strategies(rt.trading.current.strategies))
    ahead = rt.engine.client.now_ms() + STEP
    sim.faults.stall("kline.*", 30)
    sim.clock.skew_ms += STEP  # the bar closes at the exchange, but its stream push is withheld
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        proposals = await propose_at(rt, ahead)
    assert time.monotonic() - began >= 0.3, "the bar came before the wait ended: the stream was not withheld"
    assert not left_out_warnings(caplog)
    assert analysed(analysis, proposals) == strategies * len(WATCHLIST)
    assert all(expected_start(ahead) in [b.start for b in analysis.candles.closed(s)] for s in WATCHLIST)
