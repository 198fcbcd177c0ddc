"""README's alert configuration example is a valid config.toml that sets what its comments say."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from tui_bot.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def alerts_example() -> str:
    """The TOML block that follows README's "A complete example" in the alerts section."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("A complete example: tighter health thresholds") :]
    match = re.search(r"```toml\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_readme_alerts_example_loads_and_sets_thresholds_and_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUI_BOT_NOTIFY__TELEGRAM__BOT_TOKEN", "123456:ABC")
    monkeypatch.setenv("TUI_BOT_NOTIFY__WEBHOOK__URL", "http://127.0.0.1:9/alerts")
    settings = Settings(**tomllib.loads(alerts_example()))
    alerts, notify = settings.alerts, settings.notify
    assert (alerts.connection_down_warning_s, alerts.connection_down_critical_s) == (15, 60)
    assert (alerts.latency_warning_ms, alerts.latency_critical_ms, alerts.latency_critical_for_s) == (300, 800, 120)
    assert alerts.no_events_critical_s == 120 and alerts.mark_divergence_critical_pct == Decimal("0.5")
    assert (notify.min_severity, notify.rate_limit, notify.rate_period_s) == ("warning", 10, 60)
    assert notify.telegram.enabled and notify.telegram.chat_id == "-1001234567890"
    assert notify.webhook.url.get_secret_value() == "http://127.0.0.1:9/alerts"
