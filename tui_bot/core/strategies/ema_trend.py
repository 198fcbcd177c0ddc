"""Trend following: trade in the direction of a fast EMA over a slow one, with ATR-sized stop and target."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tui_bot.core.indicator_state import last_atr, last_ema
from tui_bot.core.strategies.base import hold, price_text, too_few, trade
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Direction, Proposal


class EmaTrend:
    """LONG while EMA(fast) is above EMA(slow), SHORT while below; SL 1.5 ATR, TP 3 ATR from the close."""

    name = "ema_trend"
    version = "1.0"

    def __init__(
        self, fast: int = 9, slow: int = 21, atr_period: int = 14, stop_atr: float = 1.5, target_atr: float = 3.0
    ) -> None:
        if not 1 <= fast < slow:
            raise ValueError(f"ema_trend needs 1 <= fast < slow, got fast={fast} slow={slow}")
        self.fast, self.slow, self.atr_period = fast, slow, atr_period
        self.stop_atr, self.target_atr = stop_atr, target_atr
        self.min_candles = max(slow, atr_period) + 2

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        """Direction from the EMA cross; confidence grows with the EMAs' separation in ATRs."""
        early = too_few(self, self.min_candles, symbol, candles, inst)
        if early is not None:
            return early
        fast, slow = last_ema(candles, self.fast), last_ema(candles, self.slow)
        vol = last_atr(candles, self.atr_period)
        shown = (
            f"EMA{self.fast} {price_text(fast, inst)}, EMA{self.slow} {price_text(slow, inst)}, "
            f"ATR {price_text(vol, inst)}"
        )
        if not vol > 0:
            return hold(self, symbol, candles, inst, f"No volatility ({shown}).")
        separation = (fast - slow) / vol
        if abs(separation) < 1e-9:
            return hold(self, symbol, candles, inst, f"EMAs are level ({shown}): no trend.")
        direction = Direction.LONG if separation > 0 else Direction.SHORT
        sign = 1.0 if direction is Direction.LONG else -1.0
        close = float(candles[-1].close)
        confidence = 0.2 + 0.75 * (1.0 - math.exp(-abs(separation)))
        if (close - fast) * sign < 0:
            confidence *= 0.6
        trend = "uptrend" if direction is Direction.LONG else "downtrend"
        reasoning = f"{trend.capitalize()}: {shown}, EMAs {abs(separation):.2f} ATR apart."
        return trade(
            self,
            symbol,
            candles,
            inst,
            direction=direction,
            stop=close - sign * self.stop_atr * vol,
            target=close + sign * self.target_atr * vol,
            confidence=confidence,
            reasoning=reasoning,
            inputs={"ema_fast": fast, "ema_slow": slow, "atr": vol, "separation_atr": separation},
        )
