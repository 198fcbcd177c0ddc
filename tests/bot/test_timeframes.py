"""Strategies on the timeframes they declare: a strategy reading 3m bars gets them from a candle book of its own
(REST history, kline topics subscribed) while the others read the cycle's timeframe; one reading no kept timeframe
is refused at config load."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.bot.test_cycle import PERMISSIVE, settings_with
from tui_bot.config import ConfigError, load_settings
from tui_bot.core.cycle import interval_ms
from tui_bot.core.indicator_state import IndicatorSeries
from tui_bot.core.strategies.base import trade
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Direction, Proposal
from tui_bot.runtime import start_runtime

PROBE = "tests.bot.test_timeframes:ThreeMinuteProbe"


class ThreeMinuteProbe:
    """Always long; says which bars it was given."""

    name = "probe3"
    version = "1"
    min_candles = 5
    timeframes = ("3",)

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        close = float(candles[-1].close)
        kept = "incremental" if isinstance(candles, IndicatorSeries) else "copied"
        return trade(
            self,
            symbol,
            candles,
            inst,
            direction=Direction.LONG,
            stop=close * 0.99,
            target=close * 1.03,
            confidence=0.5,
            reasoning=f"interval {candles[-1].interval} last {candles[-1].start} {kept} {len(candles)} bars",
        )


class FiveMinuteOnly(ThreeMinuteProbe):
    name = "probe5"
    timeframes = ("5",)


async def test_a_strategy_reads_its_declared_timeframe_and_the_others_the_cycles(tmp_path: Path) -> None:
    settings = settings_with(strategies=["ema_trend", PROBE], **PERMISSIVE)  # the cycle runs on 1m bars
    settings.signals = SignalSettings(timeframes=["1", "3"])
    rt = await start_runtime(settings, tmp_path / "tf.db", schedule_cycles=False)
    try:
        assert rt.bot is not None
        analysis = rt.bot.analysis
        now = rt.engine.client.now_ms()
        proposals = await analysis.propose(rt.trading.current, rt.engine.state, now)
        probes = [p for p in proposals if p.strategy == "probe3"]
        last_3m = (now // interval_ms("3") - 1) * interval_ms("3")
        assert sorted(p.symbol for p in probes) == sorted(settings.bot.watchlist)
        assert all(p.reasoning == f"[3m] interval 3 last {last_3m} incremental 200 bars" for p in probes), probes
        assert all(not p.reasoning.startswith("[") for p in proposals if p.strategy == "ema_trend")
        assert set(analysis.books) == {"3"} and analysis.candles.interval == "1"
        assert analysis.indicators.tracked() == {(s, t) for s in settings.bot.watchlist for t in ("1", "3")}
        assert {f"kline.3.{s}" for s in settings.bot.watchlist} <= rt.client.kline_topics
        assert {f"kline.1.{s}" for s in settings.bot.watchlist} <= rt.client.kline_topics

        rt.trading.update({"strategies": ["ema_trend", PROBE], "timeframe": "3"})  # the cycle's own book reads 3m
        proposals = await analysis.propose(rt.trading.current, rt.engine.state, rt.engine.client.now_ms())
        assert analysis.books == {} and analysis.candles.interval == "3"
        assert all(p.reasoning.startswith("interval 3 ") for p in proposals if p.strategy == "probe3")

        rt.trading.update({"timeframe": "1"})
        await analysis.propose(rt.trading.current, rt.engine.state, rt.engine.client.now_ms())
        assert set(analysis.books) == {"3"}
        rt.trading.update({"strategies": ["ema_trend"]})  # no strategy reads 3m any more
        proposals = await analysis.propose(rt.trading.current, rt.engine.state, rt.engine.client.now_ms())
        assert analysis.books == {} and {p.strategy for p in proposals} <= {"ema_trend"}
        assert not any(t.startswith("kline.3.") for t in rt.client.kline_topics)
        assert analysis.indicators.tracked() == {(s, "1") for s in settings.bot.watchlist}
    finally:
        await rt.close()


def test_a_strategy_reading_no_kept_timeframe_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[trading]\nstrategies = ["ema_trend", "{PROBE.replace("ThreeMinuteProbe", "FiveMinuteOnly")}"]\n')
    with pytest.raises(ConfigError, match=r"signals\.timeframes: strategy 'probe5' reads 5, none of them kept"):
        load_settings(path)
