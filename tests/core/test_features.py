"""The features an idea was made on: one extractor, the oracle's indicator values, the same JSON from incremental
and recomputed indicators, and stored with every recommendation and its phantom after a cycle on the sim."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from tests.bot.test_cycle import STRICT, started
from tests.unit.test_indicator_state import bars_of
from tests.unit.test_strategies import INST
from tui_bot.core.features import FEATURES_VERSION, from_json, idea_features, market_features, plain, to_json
from tui_bot.core.indicator_state import IndicatorSeries
from tui_bot.core.indicators import atr, closes, ema, rsi
from tui_bot.core.strategies import EmaTrend
from tui_bot.domain.recommendations import Direction
from tui_bot.store.repos import load_phantoms, load_recommendations


def _walk(count: int, seed: int = 7) -> list[tuple[float, float, float]]:
    rng = random.Random(seed)
    price, points = 100.0, []
    for _ in range(count):
        price *= 1 + rng.uniform(-0.01, 0.0105)
        points.append((round(price, 4), round(rng.uniform(0, 0.5), 4), round(rng.uniform(0, 0.5), 4)))
    return points


def test_market_features_are_the_indicator_oracles_values_and_the_same_from_incremental_indicators() -> None:
    bars = bars_of(_walk(120))
    plain_features = market_features(bars)
    assert market_features(IndicatorSeries(bars)) == plain_features
    values = closes(bars)
    atr14 = atr(bars, 14)[-1]
    assert plain_features["rsi_14"] == plain(rsi(values, 14)[-1])
    assert plain_features["atr_14_pct"] == plain(atr14 / values[-1] * 100)
    assert plain_features["ema_9_21_atr"] == plain((ema(values, 9)[-1] - ema(values, 21)[-1]) / atr14)
    window = bars[-20:]
    high, low = max(float(b.high) for b in window), min(float(b.low) for b in window)
    assert plain_features["range_pos"] == plain((values[-1] - low) / (high - low))
    assert plain_features["hour_utc"] == (119 * 15) % 1440 / 60  # the newest bar opens at 119 x 15 min
    assert plain_features["spread_bps"] is None and plain_features["funding_rate"] is None  # no ticker
    assert 0 <= (plain_features["efficiency"] or -1) <= 1 and (plain_features["volatility_pct"] or 0) > 0


def test_an_ideas_features_are_stable_versioned_json_with_the_strategys_inputs() -> None:
    bars = bars_of(_walk(120))
    proposal = EmaTrend().propose("BTCUSDT", bars, INST)
    assert proposal.direction is not Direction.HOLD
    text = to_json(idea_features(market_features(bars), proposal, "15"))
    assert text == to_json(idea_features(market_features(IndicatorSeries(bars)), proposal, "15"))
    features = from_json(text)
    assert features["features_version"] == FEATURES_VERSION and features["strategy"] == "ema_trend"
    assert features["side"] == proposal.direction.value and features["timeframe"] == "15"
    assert features["in_ema_fast"] == plain(ema(closes(bars), 9)[-1])
    assert features["in_atr"] == plain(atr(bars, 14)[-1])
    assert all(v is None or isinstance(v, float | int | str) for v in features.values())
    assert list(json.loads(text)) == sorted(features)


def test_too_few_bars_give_null_not_nan() -> None:
    features = market_features(bars_of(_walk(3)))
    assert features["rsi_14"] is None and features["ema_9_21_atr"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in features.values())
    assert market_features([]) == {}


async def test_every_recommendation_and_its_phantom_store_the_features_of_the_cycle(tmp_path: Path) -> None:
    rt = await started(tmp_path, **STRICT)
    try:
        assert rt.bot is not None
        cycle = await rt.bot.run_cycle("test")
        await rt.writer.flush()
        recs = await load_recommendations(rt.conn, cycle.id)
        assert recs and all(r.status == "rejected" for r in recs)
        phantoms = {p.recommendation_id: p for p in await load_phantoms(rt.conn)}
        for rec in recs:
            features = from_json(rec.features)
            assert features["features_version"] == FEATURES_VERSION and features["strategy"] == rec.strategy
            assert isinstance(features["rsi_14"], float) and isinstance(features["funding_rate"], float)
            assert (features["spread_bps"] or 0) > 0, features  # the sim's book has a spread
            assert any(key.startswith("in_") for key in features)
            assert phantoms[rec.id].features == rec.features
    finally:
        await rt.close()
