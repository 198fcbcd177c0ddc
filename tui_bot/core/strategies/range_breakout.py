"""Breakout: trade a close beyond the high or low of the previous N bars, targeting the range height."""

from __future__ import annotations

from collections.abc import Sequence

from tui_bot.core.indicator_state import last_atr
from tui_bot.core.indicators import highest, lowest
from tui_bot.core.strategies.base import hold, price_text, too_few, trade
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Direction, Proposal


class RangeBreakout:
    """LONG on a close above the N-bar high, SHORT below the N-bar low; SL at mid-range, TP one range beyond."""

    name = "range_breakout"
    version = "1.0"

    def __init__(self, lookback: int = 20, atr_period: int = 14) -> None:
        if lookback < 2:
            raise ValueError(f"range_breakout needs a lookback of at least 2, got {lookback}")
        self.lookback, self.atr_period = lookback, atr_period
        self.min_candles = max(lookback, atr_period) + 1

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        """Compare the last close with the range of the bars before it."""
        early = too_few(self, self.min_candles, symbol, candles, inst)
        if early is not None:
            return early
        before = candles[-self.lookback - 1 : -1]
        top = highest([c.high for c in before], self.lookback)
        bottom = lowest([c.low for c in before], self.lookback)
        close, height = candles[-1].close, top - bottom
        vol = last_atr(candles, self.atr_period)
        shown = (
            f"close {price_text(close, inst)}, {self.lookback}-bar range "
            f"{price_text(bottom, inst)}-{price_text(top, inst)}"
        )
        if not height > 0:
            return hold(self, symbol, candles, inst, f"Flat range ({shown}).")
        if bottom <= close <= top:
            return hold(self, symbol, candles, inst, f"Inside the range ({shown}).")
        middle = (top + bottom) / 2
        if close > top:
            direction, edge, label = Direction.LONG, top, "Breakout above"
        else:
            direction, edge, label = Direction.SHORT, bottom, "Breakdown below"
        sign = 1 if direction is Direction.LONG else -1
        push = float(abs(close - edge)) / vol if vol > 0 else 0.0
        tightness = min(vol / float(height), 1.0) if vol > 0 else 0.0
        confidence = 0.35 + 0.3 * min(push, 1.0) + 0.25 * tightness
        reasoning = f"{label} the range: {shown}, {push:.2f} ATR past the edge."
        return trade(
            self,
            symbol,
            candles,
            inst,
            direction=direction,
            stop=middle,
            target=close + sign * height,
            confidence=confidence,
            reasoning=reasoning,
            inputs={
                "range_top": float(top),
                "range_bottom": float(bottom),
                "atr": vol,
                "push_atr": push,
                "tightness": tightness,
            },
        )
