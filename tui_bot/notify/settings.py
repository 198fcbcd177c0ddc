"""[notify] in config.toml: the channels alerts go to and how politely; tokens and webhook URLs are secrets."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)


def check_http_url(url: str) -> str:
    """url unchanged when it is an http(s) URL with a host; the error never repeats it (it may hold a token)."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("must be an http:// or https:// URL with a host")
    return url


def _secret_url(url: SecretStr) -> SecretStr:
    if url.get_secret_value():
        check_http_url(url.get_secret_value())
    return url


SecretUrl = Annotated[SecretStr, AfterValidator(_secret_url)]
"""A URL that may carry a token: empty (off) or http(s); shown as ********** wherever it is printed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TelegramSettings(_Section):
    """A Telegram bot's token and the chat it writes to; base_url is Bot API's (a test points it at a stub)."""

    bot_token: SecretStr = SecretStr("")
    chat_id: str = ""
    base_url: str = "https://api.telegram.org"

    @field_validator("base_url")
    @classmethod
    def _url(cls, url: str) -> str:
        return check_http_url(url).rstrip("/")

    @model_validator(mode="after")
    def _both_or_neither(self) -> TelegramSettings:
        if bool(self.bot_token.get_secret_value()) != bool(self.chat_id):
            raise ValueError("set both bot_token and chat_id, or neither")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token.get_secret_value())


class WebhookSettings(_Section):
    """A URL that takes a JSON POST per alert (the URL is a secret: webhook URLs carry their token)."""

    url: SecretUrl = SecretStr("")

    @property
    def enabled(self) -> bool:
        return bool(self.url.get_secret_value())


class DiscordSettings(_Section):
    """A Discord channel's webhook URL (a secret)."""

    webhook_url: SecretUrl = SecretStr("")

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_url.get_secret_value())


class NotifySettings(_Section):
    """Which alerts are sent, how fast and how hard each channel is tried, and the channels themselves."""

    min_severity: Literal["info", "warning", "critical"] = "info"
    rate_limit: int = Field(20, ge=1, le=1000)
    rate_period_s: float = Field(60, gt=0)
    max_attempts: int = Field(5, ge=1, le=20)
    backoff_s: float = Field(1, gt=0)
    backoff_max_s: float = Field(60, gt=0)
    timeout_s: float = Field(10, gt=0)
    queue_size: int = Field(100, ge=1, le=10_000)
    flush_timeout_s: float = Field(5, ge=0)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
