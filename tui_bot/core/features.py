"""The features an idea is made on, recorded with every recommendation and phantom as stable, versioned JSON.

One extractor serves every strategy: indicator levels, volatility, trend and regime measures, the bar's shape,
volume, spread, funding and time of day, read from the closed bars (incremental indicators when the cycle keeps
them) and the symbol's ticker. The idea adds its own: strategy, side, confidence, reward:risk and the strategy's
inputs (`in_` + name). Values are plain floats (8 significant digits) or strings; an unknown value is null.
Change what a key means, or drop one, and bump FEATURES_VERSION.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from tui_bot.core.indicator_state import last_atr, last_ema, last_rsi, recent_closes
from tui_bot.domain.live_ticker import LiveTicker
from tui_bot.domain.models import Kline
from tui_bot.domain.recommendations import Proposal

FEATURES_VERSION = 1
WINDOW = 20
"""Bars the volatility, efficiency, range and volume measures are taken over."""
FeatureValue = float | str | None
Features = dict[str, FeatureValue]
INPUT_PREFIX = "in_"


def _ratio(top: float, bottom: float) -> float:
    """top / bottom, NaN when bottom is zero or either is not finite."""
    return top / bottom if bottom and math.isfinite(top) and math.isfinite(bottom) else math.nan


def plain(value: float | Decimal | int | None) -> float | None:
    """A number as a plain float of 8 significant digits; None when unknown or not finite."""
    if value is None:
        return None
    number = float(value)
    return float(f"{number:.8g}") if math.isfinite(number) else None


def _volatility(closes: Sequence[float]) -> float:
    """Standard deviation of the log returns of closes, in percent (NaN with fewer than three closes)."""
    returns = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False) if a > 0 and b > 0]
    if len(returns) < 2:
        return math.nan
    mean = sum(returns) / len(returns)
    return math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)) * 100


def _efficiency(closes: Sequence[float]) -> float:
    """Kaufman's efficiency ratio 0-1: net move over the path travelled (1 a clean trend, near 0 a chop)."""
    path = sum(abs(b - a) for a, b in zip(closes, closes[1:], strict=False))
    return _ratio(abs(closes[-1] - closes[0]), path)


def _trend(bars: Sequence[Kline], close: float, atr: float) -> dict[str, float]:
    """Indicator levels and where the close stands against them (EMA gaps in ATRs and percent)."""
    ema9, ema21, ema50 = last_ema(bars, 9), last_ema(bars, 21), last_ema(bars, 50)
    return {
        "rsi_14": last_rsi(bars, 14),
        "atr_14_pct": _ratio(atr, close) * 100,
        "ema_9_21_atr": _ratio(ema9 - ema21, atr),
        "close_ema_21_atr": _ratio(close - ema21, atr),
        "close_ema_50_pct": _ratio(close - ema50, ema50) * 100,
    }


def _shape(bars: Sequence[Kline], close: float, atr: float) -> dict[str, float]:
    """The window's range and volume, and the newest bar's size and body."""
    window = bars[-WINDOW:]
    high, low = max(float(b.high) for b in window), min(float(b.low) for b in window)
    last = bars[-1]
    span = float(last.high - last.low)
    volumes = [float(b.volume) for b in window]
    return {
        "range_pos": _ratio(close - low, high - low),
        "range_atr": _ratio(high - low, atr),
        "bar_range_atr": _ratio(span, atr),
        "bar_body": _ratio(float(last.close - last.open), span),
        "volume_ratio": _ratio(volumes[-1], sum(volumes) / len(volumes)),
    }


def _book(ticker: LiveTicker | None, close: float) -> dict[str, float]:
    """Spread in basis points of the close, and the funding rate, from the symbol's ticker."""
    if ticker is None:
        return {"spread_bps": math.nan, "funding_rate": math.nan}
    bid, ask = float(ticker.bid1_price), float(ticker.ask1_price)
    spread = _ratio(ask - bid, close) * 10_000 if bid > 0 and ask >= bid else math.nan
    return {"spread_bps": spread, "funding_rate": float(ticker.funding_rate)}


def _time(start_ms: int) -> dict[str, float]:
    """Hour (with minutes) and weekday of the newest bar's open, and the hour on the clock circle."""
    at = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    hour = at.hour + at.minute / 60
    return {
        "hour_utc": hour,
        "weekday": float(at.weekday()),
        "hour_sin": math.sin(2 * math.pi * hour / 24),
        "hour_cos": math.cos(2 * math.pi * hour / 24),
    }


def market_features(bars: Sequence[Kline], ticker: LiveTicker | None = None) -> dict[str, float | None]:
    """Every market feature of a symbol's closed bars (oldest first) and its ticker; empty without bars."""
    if not bars:
        return {}
    closes = recent_closes(bars, WINDOW + 1)
    close, atr = closes[-1], last_atr(bars, 14)
    values = {
        "ret_1_pct": _ratio(closes[-1] - closes[-2], closes[-2]) * 100 if len(closes) > 1 else math.nan,
        "ret_window_pct": _ratio(closes[-1] - closes[0], closes[0]) * 100,
        "volatility_pct": _volatility(closes),
        "efficiency": _efficiency(closes),
        **_trend(bars, close, atr),
        **_shape(bars, close, atr),
        **_book(ticker, close),
        **_time(bars[-1].start),
    }
    return {key: plain(value) for key, value in values.items()}


def idea_features(market: Mapping[str, float | None], proposal: Proposal, timeframe: str) -> Features:
    """The market features with the idea's own: strategy, timeframe, side, confidence, reward:risk, its inputs."""
    own: Features = {
        "features_version": FEATURES_VERSION,
        "strategy": proposal.strategy,
        "strategy_version": proposal.strategy_version,
        "timeframe": timeframe,
        "side": proposal.direction.value,
        "confidence": plain(proposal.confidence),
        "rr": plain(proposal.rr),
    }
    inputs = {INPUT_PREFIX + name: plain(value) for name, value in proposal.inputs.items()}
    return {**market, **inputs, **own}


def to_json(features: Mapping[str, FeatureValue]) -> str:
    """Features as compact JSON with sorted keys (the same features give the same text)."""
    return json.dumps(features, sort_keys=True, separators=(",", ":"), allow_nan=False)


def from_json(text: str | None) -> Features:
    """Recorded features back as a dict (empty for none)."""
    if not text:
        return {}
    loaded = json.loads(text)
    return loaded if isinstance(loaded, dict) else {}
