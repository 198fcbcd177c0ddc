"""Trading strategies: the Strategy protocol, the built-ins and loading configured ones by name."""

from __future__ import annotations

from tui_bot.core.strategies.base import Strategy
from tui_bot.core.strategies.ema_trend import EmaTrend
from tui_bot.core.strategies.loader import (
    BUILTINS,
    StrategyLoadError,
    load_strategies,
    load_strategy,
)
from tui_bot.core.strategies.range_breakout import RangeBreakout
from tui_bot.core.strategies.rsi_reversion import RsiReversion

__all__ = [
    "BUILTINS",
    "EmaTrend",
    "RangeBreakout",
    "RsiReversion",
    "Strategy",
    "StrategyLoadError",
    "load_strategies",
    "load_strategy",
]
