"""The [signals] settings: the timeframes strategies may read, and the win-rate guard's thresholds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tui_bot.domain.trading_settings import Timeframe

DEFAULT_TIMEFRAMES: tuple[Timeframe, ...] = ("15", "3")


class SignalSettings(BaseModel):
    """Which timeframes are kept for the strategies, and when a strategy's rolling win rate blocks its entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeframes: list[Timeframe] = Field(default_factory=lambda: list(DEFAULT_TIMEFRAMES), min_length=1)
    wr_guard_min: float = Field(0.35, ge=0, le=1)
    """Win rate (0-1) below which a strategy's real entries are blocked; 0 turns the guard off."""
    wr_guard_window: int = Field(200, ge=1, le=10_000)
    """Outcomes (trades and phantoms) per strategy the rolling win rate is taken over."""
    wr_guard_min_sample: int = Field(30, ge=1)
    """Outcomes a strategy needs before the guard can trip."""
    wr_guard_hysteresis: float = Field(0.05, ge=0, le=1)
    """A tripped strategy is let through again once its win rate reaches wr_guard_min plus this."""
    wr_guard_trade_weight: float = Field(1.0, gt=0)
    wr_guard_phantom_weight: float = Field(0.5, ge=0)

    @field_validator("timeframes")
    @classmethod
    def _unique(cls, timeframes: list[str]) -> list[str]:
        if len(set(timeframes)) != len(timeframes):
            raise ValueError("list each timeframe once")
        return timeframes

    @model_validator(mode="after")
    def _sample_fits(self) -> SignalSettings:
        if self.wr_guard_min_sample > self.wr_guard_window:
            raise ValueError(
                f"wr_guard_min_sample ({self.wr_guard_min_sample}) cannot exceed wr_guard_window "
                f"({self.wr_guard_window})"
            )
        return self
