"""Mean reversion: fade an oversold or overbought RSI back toward the average price."""

from __future__ import annotations

from collections.abc import Sequence

from tui_bot.core.indicator_state import last_atr, last_rsi, recent_closes
from tui_bot.core.indicators import highest, highs, lowest, lows
from tui_bot.core.strategies.base import hold, price_text, too_few, trade
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Direction, Proposal


class RsiReversion:
    """LONG when RSI is below `lower`, SHORT above `upper`; SL beyond the recent swing, TP at the mean."""

    name = "rsi_reversion"
    version = "1.0"

    def __init__(
        self,
        period: int = 14,
        lower: float = 30.0,
        upper: float = 70.0,
        swing: int = 10,
        mean_period: int = 20,
        atr_period: int = 14,
    ) -> None:
        if not 0 < lower < upper < 100:
            raise ValueError(f"rsi_reversion needs 0 < lower < upper < 100, got {lower} and {upper}")
        self.period, self.lower, self.upper = period, lower, upper
        self.swing, self.mean_period, self.atr_period = swing, mean_period, atr_period
        self.min_candles = max(period + 1, swing, mean_period, atr_period) + 1

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        """Trade only at an RSI extreme; the stop lies between 1 and 3 ATR beyond entry, past the swing."""
        early = too_few(self, self.min_candles, symbol, candles, inst)
        if early is not None:
            return early
        strength = last_rsi(candles, self.period)
        vol = last_atr(candles, self.atr_period)
        mean = sum(recent_closes(candles, self.mean_period)) / self.mean_period
        shown = f"RSI({self.period}) {strength:.1f}, mean {price_text(mean, inst)}, ATR {price_text(vol, inst)}"
        if not vol > 0:
            return hold(self, symbol, candles, inst, f"No volatility ({shown}).")
        if self.lower <= strength <= self.upper:
            return hold(self, symbol, candles, inst, f"RSI inside {self.lower:g}-{self.upper:g} ({shown}).")
        close = float(candles[-1].close)
        if strength < self.lower:
            swing = lowest(lows(candles[-self.swing :]), self.swing)
            stop = max(min(swing - 0.25 * vol, close - vol), close - 3 * vol)
            target = max(mean, close + vol)
            extremity = (self.lower - strength) / self.lower
            direction, label = Direction.LONG, "Oversold"
        else:
            swing = highest(highs(candles[-self.swing :]), self.swing)
            stop = min(max(swing + 0.25 * vol, close + vol), close + 3 * vol)
            target = min(mean, close - vol)
            extremity = (strength - self.upper) / (100 - self.upper)
            direction, label = Direction.SHORT, "Overbought"
        reasoning = f"{label}: {shown}, swing {price_text(swing, inst)}; expecting a return to the mean."
        return trade(
            self,
            symbol,
            candles,
            inst,
            direction=direction,
            stop=stop,
            target=target,
            confidence=0.4 + 0.55 * extremity,
            reasoning=reasoning,
            inputs={"rsi": strength, "mean": mean, "atr": vol, "swing": swing, "extremity": extremity},
        )
