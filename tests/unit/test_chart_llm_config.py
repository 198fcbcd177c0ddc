"""[chart_llm] in config.toml: a bad value is one line, and chart_llm without the llm extra says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tui_bot.config import ConfigError, load_settings
from tui_bot.core.strategies import StrategyLoadError, load_strategies


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("concurrency = 0", "c.toml: chart_llm.concurrency: Input should be greater than or equal to 1 (got 0)"),
        ("deadline_s = -1", "c.toml: chart_llm.deadline_s: Input should be greater than 0 (got -1)"),
        ('api_key_env = "my key"', "c.toml: chart_llm.api_key_env: String should match pattern"),
        ("ema_periods = [9, 1]", "c.toml: chart_llm.ema_periods: each EMA period must be between 2 and 500"),
        ("colour = 1", "c.toml: chart_llm.colour: not a known key (known: base_url, model, api_key_env"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[chart_llm]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / said)) and "\n" not in message, message


def test_a_configured_chart_llm_loads_with_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[trading]\nstrategies = ["ema_trend", "chart_llm"]\n'
        '[chart_llm]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "llava:13b"\nconcurrency = 2\n'
    )
    settings = load_settings(path)
    assert (settings.chart_llm.model, settings.chart_llm.concurrency) == ("llava:13b", 2)
    assert settings.chart_llm.charts_under(tmp_path) == tmp_path / "charts"
    assert [s.name for s in load_strategies(settings.trading.strategies)] == ["ema_trend", "chart_llm"]


def test_chart_llm_without_the_llm_extra_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # as if the extra were not installed
    monkeypatch.delitem(sys.modules, "tui_bot.core.strategies.chart_llm_ask", raising=False)
    with pytest.raises(StrategyLoadError) as caught:
        load_strategies(["chart_llm"])
    assert "pip install 'tui-bot[llm]' (openai is missing)" in str(caught.value)
    path = tmp_path / "c.toml"
    path.write_text('[trading]\nstrategies = ["chart_llm"]\n')
    with pytest.raises(ConfigError) as config:
        load_settings(path)
    assert str(config.value) == (
        f"{path}: trading.strategies: strategy 'chart_llm': ChartLlm() failed: chart_llm needs the llm extra "
        "(openai, pillow): pip install 'tui-bot[llm]' (openai is missing)"
    )
