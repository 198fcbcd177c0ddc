"""Settings read from config.toml, validated by pydantic."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG = Path("config.toml")


class SimSettings(BaseModel):
    """The embedded exchange's options."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    seed: int = 7
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], min_length=1, max_length=500)
    balance: Decimal = Field(Decimal("10000"), gt=0)
    step_ms: int = Field(100, ge=1, le=10_000)
    idle_timeout_s: float = Field(600, gt=0)
    funding_period_s: float = Field(0, ge=0)

    @field_validator("symbols")
    @classmethod
    def _upper(cls, symbols: list[str]) -> list[str]:
        return [s.strip().upper() for s in symbols]


class ExchangeSettings(BaseModel):
    """Which venue to trade on."""

    model_config = ConfigDict(extra="forbid")

    venue: Literal["sim", "demo", "testnet", "mainnet", "custom"] = "sim"


class Settings(BaseModel):
    """Everything config.toml may hold."""

    model_config = ConfigDict(extra="forbid")

    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    sim: SimSettings = Field(default_factory=SimSettings)


class ConfigError(Exception):
    """The config file is missing, unreadable or invalid; the message says where and why."""


def load_settings(path: Path | None) -> Settings:
    """Read settings from path (the default file may be absent; an explicit one may not)."""
    target = path or DEFAULT_CONFIG
    if not target.exists():
        if path is not None:
            raise ConfigError(f"config file not found: {target}")
        return Settings()
    try:
        data = tomllib.loads(target.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{target}: {err}") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        lines = [f"{target}: " + ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in err.errors()]
        raise ConfigError("\n".join(lines)) from None
