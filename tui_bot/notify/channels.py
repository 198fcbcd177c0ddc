"""What each channel is sent for an alert: its URL (which holds the secret) and its JSON body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from tui_bot.domain.alerts import Alert, Severity
from tui_bot.notify.settings import DiscordSettings, TelegramSettings, WebhookSettings

TELEGRAM_TEXT_MAX = 4096
DISCORD_CONTENT_MAX = 2000


def alert_time(alert: Alert) -> str:
    """The alert's time as ISO 8601 UTC to the second, e.g. 2026-05-01T12:00:03Z."""
    return datetime.fromtimestamp(alert.time_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def message_text(alert: Alert, source: str) -> str:
    """The alert as a chat message: source, severity, kind and subject on one line, the text on the next."""
    subject = f" {alert.subject}" if alert.subject else ""
    return f"[{source}] {alert.severity.value.upper()} {alert.kind.value}{subject} at {alert_time(alert)}\n{alert.text}"


def _seconds(value: object) -> float | None:
    """A retry-after value in seconds (number or numeric string), None when absent or not one."""
    try:
        seconds = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


class Channel(Protocol):
    """One destination: its name for logs, the secrets to keep out of them, and what to POST for an alert."""

    name: str

    def secrets(self) -> list[str]: ...
    def url(self) -> str: ...
    def body(self, alert: Alert, source: str) -> dict[str, Any]: ...
    def retry_after(self, headers: Mapping[str, str], payload: object) -> float | None: ...


class TelegramChannel:
    """Bot API sendMessage to one chat: plain text, no link previews, info and cleared alerts without a sound."""

    name = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self._settings = settings

    def secrets(self) -> list[str]:
        return [self._settings.bot_token.get_secret_value()]

    def url(self) -> str:
        return f"{self._settings.base_url}/bot{self._settings.bot_token.get_secret_value()}/sendMessage"

    def body(self, alert: Alert, source: str) -> dict[str, Any]:
        return {
            "chat_id": self._settings.chat_id,
            "text": message_text(alert, source)[:TELEGRAM_TEXT_MAX],
            "link_preview_options": {"is_disabled": True},
            "disable_notification": alert.severity in (Severity.INFO, Severity.CLEARED),
        }

    def retry_after(self, headers: Mapping[str, str], payload: object) -> float | None:
        """Bot API says how long to wait in parameters.retry_after of a 429 answer."""
        parameters = payload.get("parameters") if isinstance(payload, dict) else None
        return _seconds(parameters.get("retry_after")) if isinstance(parameters, dict) else None


class DiscordChannel:
    """A Discord webhook message; mentions in the text are never pinged."""

    name = "discord"

    def __init__(self, settings: DiscordSettings) -> None:
        self._settings = settings

    def secrets(self) -> list[str]:
        return [self._settings.webhook_url.get_secret_value()]

    def url(self) -> str:
        return self._settings.webhook_url.get_secret_value()

    def body(self, alert: Alert, source: str) -> dict[str, Any]:
        return {
            "content": message_text(alert, source)[:DISCORD_CONTENT_MAX],
            "username": "tui-bot",
            "allowed_mentions": {"parse": []},
        }

    def retry_after(self, headers: Mapping[str, str], payload: object) -> float | None:
        """Discord puts the wait in the body's retry_after (seconds) and the Retry-After header."""
        found = _seconds(payload.get("retry_after")) if isinstance(payload, dict) else None
        return found if found is not None else _seconds(headers.get("Retry-After"))


class WebhookChannel:
    """A generic JSON webhook: the alert's fields, its ISO time and where it came from."""

    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings

    def secrets(self) -> list[str]:
        return [self._settings.url.get_secret_value()]

    def url(self) -> str:
        return self._settings.url.get_secret_value()

    def body(self, alert: Alert, source: str) -> dict[str, Any]:
        return {
            "source": source,
            "time_ms": alert.time_ms,
            "time": alert_time(alert),
            "severity": alert.severity.value,
            "kind": alert.kind.value,
            "subject": alert.subject,
            "text": alert.text,
        }

    def retry_after(self, headers: Mapping[str, str], payload: object) -> float | None:
        return _seconds(headers.get("Retry-After"))
