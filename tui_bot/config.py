"""Settings from config.toml plus environment (pydantic-settings); credentials only from the environment."""

from __future__ import annotations

import json
import os
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
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, to_jsonable_python
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tui_bot.core.alert_rules import AlertSettings
from tui_bot.core.ml_settings import MlSettings
from tui_bot.core.strategies import StrategyLoadError, load_strategies
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.domain.trading_settings import TightenStep, TradingSettings
from tui_bot.domain.validation import reason
from tui_bot.notify.settings import NotifySettings

__all__ = ["TightenStep", "TradingSettings"]

DEFAULT_CONFIG = Path("config.toml")
ENV_PREFIX = "TUI_BOT_"
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
    clock_start_ms: int | None = Field(None, ge=0)  # the exchange's clock starts at this epoch ms, then runs
    keep_account: bool = True  # the paper account (balance, positions, orders, fills) and prices survive a restart
    account_file: Path | None = None  # where they are kept (default: beside the SQLite database, NAME.sim.json)

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
    """Where history is kept: url (sqlite:///PATH or postgresql://USER@HOST:PORT/DB), else the SQLite file db_path.

    A PostgreSQL password belongs in the environment (PGPASSWORD) or ~/.pgpass; url is never echoed or logged.
    """

    db_path: Path = Path("tui_bot.db")
    url: SecretStr = SecretStr("")
    candle_retention_days: int = Field(30, ge=1, le=36_500)  # older candles are deleted by the store's writer

    @field_validator("url")
    @classmethod
    def _known_database(cls, url: SecretStr) -> SecretStr:
        text = url.get_secret_value()
        if text and not text.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE")
        return url

    def target(self) -> str | Path:
        """The database to open: url when given, else the file db_path."""
        return self.url.get_secret_value() or self.db_path


class ListenSettings(_Section):
    log_file: Path = Path("tui_bot.log")
    health_interval_s: float = Field(10, gt=0)


class RedisSettings(_Section):
    """Live state shared with bots and consoles: `tui-bot listen` publishes it to url (redis://, rediss://, unix://).

    A password in url stays out of every message and log (the URL is never echoed).
    """

    url: SecretStr = SecretStr("")
    heartbeat_ttl_s: float = Field(5, gt=0, le=300)  # readers see the listener gone this long after its last beat
    mark_interval_ms: int = Field(100, ge=0, le=10_000)  # a position's mark is written at most once per interval
    fills_max: int = Field(10_000, ge=100, le=1_000_000)  # entries the fills stream keeps

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: SecretStr) -> SecretStr:
        text = url.get_secret_value()
        if text and not text.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH")
        return url


class _EnvSource(EnvSettingsSource):
    """TUI_BOT_ variables; a list or table given as text that is not JSON is passed on as that text,
    so validation reports it against its variable instead of failing to decode it."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class Settings(BaseSettings):
    """Everything config.toml may hold; TUI_BOT_<SECTION>__<KEY> environment variables override it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    streams: StreamSettings = Field(default_factory=StreamSettings)
    bot: BotSettings = Field(default_factory=BotSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    listen: ListenSettings = Field(default_factory=ListenSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    signals: SignalSettings = Field(default_factory=SignalSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    keys: dict[str, str] = Field(default_factory=dict)
    sim: SimSettings = Field(default_factory=SimSettings)
    chart_llm: ChartLlmSettings = Field(default_factory=ChartLlmSettings)
    ml: MlSettings = Field(default_factory=MlSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the TOML file (passed in as init values)."""
        return _EnvSource(settings_cls), init_settings


class Credentials(BaseSettings):
    """API keys for real venues, read from BYBIT_API_KEY / BYBIT_API_SECRET only; the secret never prints."""

    model_config = SettingsConfigDict(extra="ignore")

    api_key: str = Field("", validation_alias="BYBIT_API_KEY")
    api_secret: SecretStr = Field(SecretStr(""), validation_alias="BYBIT_API_SECRET")

    @property
    def present(self) -> bool:
        return bool(self.api_key and self.api_secret.get_secret_value())


class ConfigError(Exception):
    """The config file or a TUI_BOT_ variable is missing, unreadable or invalid; one line per problem says
    where (the file and key, or the variable) and why."""


def env_var(loc: tuple[int | str, ...]) -> str | None:
    """The TUI_BOT_ variable that sets the value at loc (or the table holding it), if the environment has one."""
    present = {name.upper(): name for name in os.environ}
    parts = [str(p).upper() for p in loc]
    for end in range(len(parts), 0, -1):
        name = present.get(ENV_PREFIX + "__".join(parts[:end]))
        if name is not None:
            return name
    return None


def setting_name(loc: tuple[str, ...]) -> str:
    """How the user names the setting at loc: the TUI_BOT_ variable that sets it, else `[section] key`."""
    return env_var(loc) or f"[{loc[0]}] {'.'.join(loc[1:])}"


def _where(loc: tuple[int | str, ...], source: Path) -> str:
    """The TUI_BOT_ variable that set the value at loc, else the file and the dotted key."""
    var = env_var(loc)
    return var if var else f"{source}: {'.'.join(map(str, loc)) or '(top level)'}"


def _default_at(loc: tuple[int | str, ...]) -> Any:
    """The default value at loc (None where there is none)."""
    value: Any = Settings.model_construct()
    for part in loc:
        if isinstance(value, list) and isinstance(part, int):
            value = value[part] if part < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else getattr(value, str(part), None)
    return value


def _problem(error: ErrorDetails, from_env: bool) -> str:
    """reason(), plus what would be accepted: the known keys of a table, or how a variable writes a list or table."""
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        table = _default_at(loc[:-1])
        return (
            f"not a known key (known: {', '.join(type(table).model_fields)})"
            if isinstance(table, BaseModel)
            else reason(error)
        )
    if isinstance(_default_at(loc), SecretStr):  # a token or webhook URL: never echoed
        return reason(error, show_input=False)
    kind = {"list_type": "list", "dict_type": "object", "model_type": "object"}.get(error["type"])
    if from_env and kind and isinstance(error.get("input"), str):
        example = json.dumps(to_jsonable_python(_default_at(loc)), separators=(",", ":"))
        like = f" like {example}" if example not in ("[]", "{}", "null") else ""
        return f"expected a JSON {kind}{like} (got {error['input']!r})"
    return reason(error)


def _describe(source: Path, err: ValidationError) -> str:
    """One line per error: the variable that set the value, or the file and key, then what is wrong."""
    return "\n".join(f"{_where(e['loc'], source)}: {_problem(e, env_var(e['loc']) is not None)}" for e in err.errors())


def _check_across_keys(settings: Settings, source: Path) -> None:
    """What one field cannot check: the order path has one key, every strategy must load and read a kept
    timeframe."""
    if "orders_over_trade_ws" in settings.trading.model_fields_set:
        raise ConfigError(
            f"{_where(('trading', 'orders_over_trade_ws'), source)}: no longer a config setting; set "
            '[exchange] orders_via (TUI_BOT_EXCHANGE__ORDERS_VIA) to "ws" or "rest" instead '
            "(the console's settings screen switches it while running)"
        )
    try:
        strategies = load_strategies(settings.trading.strategies)
    except StrategyLoadError as err:
        raise ConfigError(f"{_where(('trading', 'strategies'), source)}: {err}") from None
    kept = settings.signals.timeframes
    for strategy in strategies:
        declared = tuple(getattr(strategy, "timeframes", ()) or ())
        if declared and not set(declared) & set(kept):
            raise ConfigError(
                f"{_where(('signals', 'timeframes'), source)}: strategy {strategy.name!r} reads "
                f"{', '.join(declared)}, none of them kept (kept: {', '.join(kept)})"
            )


def load_settings(path: Path | None) -> Settings:
    """Read settings from path (the default file may be absent; an explicit one may not) plus env."""
    target = path or DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if target.exists():
        try:
            data = tomllib.loads(target.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:  # unreadable, not UTF-8, or not TOML
            raise ConfigError(f"{target}: {err}") from None
    elif path is not None:
        raise ConfigError(f"config file not found: {target}")
    try:
        settings = Settings(**data)
    except ValidationError as err:
        raise ConfigError(_describe(target, err)) from None
    _check_across_keys(settings, target)
    return settings
