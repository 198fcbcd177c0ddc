"""Settings from config.toml plus environment (pydantic-settings); credentials only from the environment."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tui_bot.domain.trading_settings import TightenStep, TradingSettings

__all__ = ["TightenStep", "TradingSettings"]

DEFAULT_CONFIG = Path("config.toml")
Venue = Literal["sim", "demo", "testnet", "mainnet", "custom"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SimSettings(_Section):
    """The embedded exchange's options."""

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    seed: int = 7
    symbols: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT", "SOLUSDT"], min_length=1, max_length=500)
    balance: Decimal = Field(Decimal("10000"), gt=0)
    step_ms: int = Field(100, ge=1, le=10_000)
    autostep: bool = True  # False: prices move only when stepped (sim.step / POST /_sim/step), e.g. for snapshots
    idle_timeout_s: float = Field(600, gt=0)
    funding_period_s: float = Field(0, ge=0)
    latency_ms: float = Field(3, ge=0, le=5000)  # one-way network delay of every REST response and WS frame

    @field_validator("symbols")
    @classmethod
    def _upper(cls, symbols: list[str]) -> list[str]:
        return [s.strip().upper() for s in symbols]


class ExchangeSettings(_Section):
    """Which venue to trade on and how to reach it."""

    venue: Venue = "sim"
    orders_via: Literal["ws", "rest"] = "ws"
    rest_url: str = ""
    public_ws_url: str = ""
    private_ws_url: str = ""
    trade_ws_url: str = ""
    recv_window_ms: int = Field(5000, ge=1000, le=60_000)

    @model_validator(mode="after")
    def _custom_needs_urls(self) -> ExchangeSettings:
        if self.venue == "custom":
            missing = [n for n in ("rest_url", "public_ws_url", "private_ws_url") if not getattr(self, n)]
            if missing:
                raise ValueError(f"venue 'custom' needs {', '.join(missing)}")
        return self


class StreamSettings(_Section):
    """Connection behaviour: heartbeat, watchdog, backoff, sharding, fallback and reconciliation."""

    ping_interval_s: float = Field(20, gt=0)
    silence_timeout_s: float = Field(30, gt=0)
    backoff_max_s: float = Field(30, gt=0)
    topics_per_connection: int = Field(50, ge=1, le=500)
    fallback_after_s: float = Field(10, gt=0)
    poll_interval_s: float = Field(2, gt=0)
    reconcile_interval_s: float = Field(60, gt=0)


class BotSettings(_Section):
    """Identity of this bot in client order ids, and the symbols always watched."""

    bot_id: str = Field("tb1", pattern=r"^[A-Za-z0-9_]{1,12}$")
    watchlist: list[str] = Field(default_factory=lambda: ["BTCUSDT", "ETHUSDT"])

    @field_validator("watchlist")
    @classmethod
    def _upper(cls, symbols: list[str]) -> list[str]:
        return [s.strip().upper() for s in symbols if s.strip()]


class StorageSettings(_Section):
    db_path: Path = Path("tui_bot.db")


class ListenSettings(_Section):
    log_file: Path = Path("tui_bot.log")
    health_interval_s: float = Field(10, gt=0)


class Settings(BaseSettings):
    """Everything config.toml may hold; TUI_BOT_<SECTION>__<KEY> environment variables override it."""

    model_config = SettingsConfigDict(env_prefix="TUI_BOT_", env_nested_delimiter="__", extra="forbid")

    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    streams: StreamSettings = Field(default_factory=StreamSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    listen: ListenSettings = Field(default_factory=ListenSettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    keys: dict[str, str] = Field(default_factory=dict)
    sim: SimSettings = Field(default_factory=SimSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the TOML file (passed in as init values)."""
        return env_settings, init_settings


class Credentials(BaseSettings):
    """API keys for real venues, read from BYBIT_API_KEY / BYBIT_API_SECRET only; the secret never prints."""

    model_config = SettingsConfigDict(extra="ignore")

    api_key: str = Field("", validation_alias="BYBIT_API_KEY")
    api_secret: SecretStr = Field(SecretStr(""), validation_alias="BYBIT_API_SECRET")

    @property
    def present(self) -> bool:
        return bool(self.api_key and self.api_secret.get_secret_value())


class ConfigError(Exception):
    """The config file is missing, unreadable or invalid; the message says where and why."""


def _describe(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {e['msg']}")
    return "\n".join(lines)


def load_settings(path: Path | None) -> Settings:
    """Read settings from path (the default file may be absent; an explicit one may not) plus env."""
    target = path or DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if target.exists():
        try:
            data = tomllib.loads(target.read_text())
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"{target}: {err}") from None
    elif path is not None:
        raise ConfigError(f"config file not found: {target}")
    try:
        return Settings(**data)
    except ValidationError as err:
        raise ConfigError(_describe(str(target), err)) from None
