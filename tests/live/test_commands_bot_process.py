"""`tui-bot bot` as a real process: it takes commands over Redis, stops on SIGTERM, and refuses bad input in a line."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.conftest import console_script
from tui_bot.live import keys
from tui_bot.live.commands import ClosePosition, ToggleTightening
from tui_bot.live.commands_sender import CommandSender


async def test_a_headless_bot_answers_commands_over_redis_and_stops_cleanly(tmp_path: Path, redis_url: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(console_script()), "--db", str(tmp_path / "b7.db"), "bot", "--bot-id", "b7", "--redis", redis_url,
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        started = (await proc.stdout.readline()).decode()
        assert started.startswith("bot b7: venue SIM, db "), started
        assert started.rstrip().endswith("commands from b7:commands and tui:commands:all")
        sender = CommandSender(redis_url, "console", timeout_s=20.0)
        toggled = await sender.send("b7", ToggleTightening())
        flat = await sender.send("b7", ClosePosition("BTCUSDT"))
        await sender.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await proc.communicate()
    assert (toggled.status, toggled.message) == ("ok", "SL tightening off")
    assert (flat.status, flat.message) == ("refused", "no BTCUSDT position to close")
    assert proc.returncode == 0, err.decode()
    assert out.decode().splitlines() == [  # no listener publishes on this Redis: it says so, entries stay paused
        "bot b7: listener heartbeat gone: entries paused, protecting open positions from REST",
        "stopped; store flushed.",
    ]
    client = aioredis.Redis.from_url(redis_url)
    assert not await client.exists(keys.bot_heartbeat("b7"))
    await client.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["--bot-id", "no good", "--redis", "redis://127.0.0.1:1/0"], 2, "tui-bot: argument --bot-id: String should"),
        (["--bot-id", "b7", "--redis", "http://user:hunter2@host"], 2, "tui-bot: argument --redis: expected redis://"),
        (["--bot-id", "b7", "--redis", f"redis://:hunter2@127.0.0.1:{_free_port()}/0"], 1, "tui-bot bot: Redis does"),
    ],
)
def test_bad_input_or_no_redis_is_one_line_and_never_shows_the_password(
    tmp_path: Path, args: list[str], status: int, says: str
) -> None:
    done = subprocess.run(
        [str(console_script()), "--db", str(tmp_path / "b7.db"), "bot", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == status and done.stderr.startswith(says), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "hunter2" not in done.stderr
