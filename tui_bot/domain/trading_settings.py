"""The trading bot's settings of the original design: validated, editable in the app, persisted."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timeframe = Literal["1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D"]
"""Bybit kline intervals the analysis cycle can run on (minutes, or D for a day)."""


class TightenStep(_Section):
    """When the trade has moved `at_r` R in favour, move the stop to `stop_r` R (0 = breakeven)."""

    at_r: Decimal = Field(gt=0)
    stop_r: Decimal


class TradingSettings(_Section):
    """The trading bot's settings of the original design; editable in the app and persisted in the DB."""

    paper_trading: bool = True
    auto_approve_trades: bool = False
    pause_entries: bool = False
    """No new bot entries: every idea, and every approval, is refused by the gates (open positions stay protected)."""
    min_confidence_threshold: float = Field(0.6, ge=0, le=1)
    min_rr: Decimal = Field(Decimal("1.5"), ge=0, le=100)
    risk_percentage: Decimal = Field(Decimal("1"), gt=0, le=100)
    max_loss_usd: Decimal = Field(Decimal("100"), gt=0)
    leverage: Decimal = Field(Decimal("5"), ge=1, le=100, decimal_places=2)  # Bybit takes 0.01 steps
    max_concurrent_trades: int = Field(3, ge=1, le=100)
    enable_position_tightening: bool = True
    enable_sl_tightening: bool = True
    rr_tightening_steps: list[TightenStep] = Field(
        default_factory=lambda: [
            TightenStep(at_r=Decimal(1), stop_r=Decimal(0)),
            TightenStep(at_r=Decimal(2), stop_r=Decimal(1)),
        ]
    )
    use_enhanced_position_sizing: bool = True
    min_position_value_usd: Decimal = Field(Decimal("10"), ge=0)
    taker_fee_rate: Decimal = Field(Decimal("0.00055"), ge=0, le=Decimal("0.01"))
    enable_intelligent_replacement: bool = False
    min_score_improvement: float = Field(0.1, ge=0, le=1)
    use_testnet: bool = False
    orders_over_trade_ws: bool = True
    run_cycles: bool = True
    timeframe: Timeframe = "15"
    strategies: list[str] = Field(default_factory=lambda: ["ema_trend", "rsi_reversion", "range_breakout"])
    candle_history: int = Field(200, ge=50, le=1000)
    trailing_stop_mode: Literal["off", "native", "client"] = "off"
    trailing_activate_r: Decimal = Field(Decimal("1.5"), gt=0, le=100)
    trailing_distance_r: Decimal = Field(Decimal("1"), gt=0, le=100)
    aged_position_hours: Decimal = Field(Decimal("24"), ge=0)
    aged_position_action: Literal["tighten", "close"] = "tighten"
    phantom_timeout_hours: Decimal = Field(Decimal("24"), gt=0)

    @field_validator("strategies")
    @classmethod
    def _some_strategy(cls, names: list[str]) -> list[str]:
        names = [n.strip() for n in names if n.strip()]
        if not names:
            raise ValueError("name at least one strategy (a built-in name or a dotted path)")
        return names

    @field_validator("rr_tightening_steps")
    @classmethod
    def _ordered(cls, steps: list[TightenStep]) -> list[TightenStep]:
        for earlier, later in zip(steps, steps[1:], strict=False):
            if later.at_r <= earlier.at_r or later.stop_r <= earlier.stop_r:
                raise ValueError("tightening steps must rise in both trigger R and stop R")
        for step in steps:
            if step.stop_r >= step.at_r:
                raise ValueError(f"a step's stop ({step.stop_r}R) must stay below its trigger ({step.at_r}R)")
        return steps
