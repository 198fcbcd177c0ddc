"""[redis] in config.toml: the URL is checked when the settings load and never echoed; timings have bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_bot.config import ConfigError, load_settings


def test_a_redis_url_is_read_and_kept_secret(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[redis]\nurl = "redis://:hunter2@127.0.0.1:6380/1"\nheartbeat_ttl_s = 2\n')
    settings = load_settings(path)
    assert settings.redis.url.get_secret_value() == "redis://:hunter2@127.0.0.1:6380/1"
    assert "hunter2" not in repr(settings.redis)
    assert settings.redis.heartbeat_ttl_s == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('url = "http://:hunter2@host/0"', "c.toml: redis.url: expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB"),
        ("heartbeat_ttl_s = 0", "c.toml: redis.heartbeat_ttl_s: "),
        ("fills_max = 5", "c.toml: redis.fills_max: "),
    ],
)
def test_a_bad_redis_setting_is_one_line_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[redis]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path.parent}/{expected}")
    assert "\n" not in str(caught.value) and "hunter2" not in str(caught.value)
