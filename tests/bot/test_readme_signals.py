"""README's trading-bot section says what the code does: each of its config.toml examples ([signals] with the WR
guard, [chart_llm] with Ollama, [ml]) loads through the config loader and sets the defaults it presents, every
"`setting` (default)" in its prose is that setting's default, and its strategy table lists the built-ins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel

from tui_bot.config import load_settings
from tui_bot.core.ml_settings import MlSettings
from tui_bot.core.strategies import BUILTINS
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.core.strategies.signal_settings import SignalSettings
from tui_bot.domain.trading_settings import TradingSettings

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS: dict[str, type[BaseModel]] = {
    "signals": SignalSettings,
    "chart_llm": ChartLlmSettings,
    "ml": MlSettings,
    "trading": TradingSettings,
}


def bot_section() -> str:
    """README from "## The trading bot" to the next top-level section."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## The trading bot")
    return text[start : text.index("\n## ", start + 1)]


def toml_examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", bot_section(), re.DOTALL)


def test_every_example_loads_through_the_config_loader_and_shows_the_defaults(tmp_path: Path) -> None:
    examples = toml_examples()
    shown = [set(tomllib.loads(example)) for example in examples]
    assert shown == [{"signals"}, {"trading", "chart_llm"}, {"ml"}]
    for n, example in enumerate(examples):
        path = tmp_path / f"example{n}.toml"
        path.write_text(example, encoding="utf-8")
        settings = load_settings(path)  # every key known, every value valid, every strategy loads
        for section, values in tomllib.loads(example).items():
            loaded = getattr(settings, section)
            default = SECTIONS[section]()
            for key, value in values.items():
                assert getattr(loaded, key) == value, f"[{section}] {key} not applied"
                if section != "trading":  # the examples show each section's defaults (trading adds chart_llm)
                    assert getattr(default, key) == value, f"README shows [{section}] {key} = {value!r}"
    assert "chart_llm" in load_settings(tmp_path / "example1.toml").trading.strategies


def test_every_default_named_in_the_prose_is_the_codes() -> None:
    named = re.findall(r"`(\w+)` \((\d+(?:\.\d+)?)\)", bot_section())
    checked = 0
    for key, text in named:
        for model in SECTIONS.values():
            if key in model.model_fields:
                assert getattr(model(), key) == float(text), f"README: {key} ({text})"
                checked += 1
    assert checked >= 5  # the WR guard's window, weights, sample and minimum


def test_the_strategy_table_lists_the_built_ins() -> None:
    rows = re.findall(r"^\| `(\w+)` \|", bot_section(), re.MULTILINE)
    assert rows == list(BUILTINS)
