"""config.toml loading: defaults, the shipped file, and clear errors for bad input."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tui_bot.config import ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_matches_defaults() -> None:
    assert load_settings(ROOT / "config.toml") == Settings()


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_values_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[sim]\nseed = 3\nsymbols = ["btcusdt"]\nbalance = "2500.5"\n')
    settings = load_settings(path)
    assert settings.sim.seed == 3
    assert settings.sim.symbols == ["BTCUSDT"]
    assert settings.sim.balance == Decimal("2500.5")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[sim]\nport = 70000\n", "sim.port"),
        ('[sim]\nbalance = "-5"\n', "sim.balance"),
        ("[sim]\nunknown = 1\n", "sim.unknown"),
        ('[exchange]\nvenue = "moon"\n', "exchange.venue"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
        load_settings(path)


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[sim\n")
    with pytest.raises(ConfigError, match="c.toml"):
        load_settings(path)
