"""`tui-bot bot` as a process beside `tui-bot listen --redis` and `tui-bot sim`: the exchange sees no private
connection of the bot's own, yet the bot knows its position (from Redis) and closes it on command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.core.conftest import wait_for
from tests.core.test_listen_process import KEY, SECRET, _market, _start_sim
from tests.live.test_listen_redis import TTL_S, _start_listen
from tui_bot.live.commands import ClosePosition
from tui_bot.live.commands_sender import CommandSender
from tui_bot.live.reader import LiveState


def _private_connections(base: str) -> int:
    """How many private WebSocket connections the exchange has open (GET /_sim/state)."""
    with urllib.request.urlopen(f"{base}/_sim/state", timeout=5) as reply:
        return int(json.loads(reply.read())["connections"]["private"])


def _start_bot(cwd: Path, redis_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
    args = [sys.executable, "-m", "tui_bot.cli", "--config", "listen.toml", "--db", "pb1.db", "bot"]
    proc = subprocess.Popen(
        [*args, "--bot-id", "pb1", "--redis", redis_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("bot pb1: venue CUSTOM"), first + (proc.stderr.read() if proc.poll() else "")
    return proc


async def test_a_bot_process_opens_no_private_stream_and_closes_its_position_known_from_redis(
    tmp_path: Path, redis_url: str
) -> None:
    sim, info = _start_sim(tmp_path)
    base = info["REST"]
    (tmp_path / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{base}"\npublic_ws_url = "{info["public WS"]}"\n'
        f'private_ws_url = "{info["private WS"]}"\ntrade_ws_url = "{info["trade WS"]}"\n'
        f'[listen]\nlog_file = "listen.log"\nhealth_interval_s = 0.3\n[redis]\nheartbeat_ttl_s = {TTL_S}\n'
        "[trading]\nrun_cycles = false\n"
    )
    reader = LiveState(redis_url, heartbeat_poll_s=0.05, retry_s=0.05)
    await reader.start()
    listen = await asyncio.to_thread(_start_listen, tmp_path, redis_url)
    bot: subprocess.Popen[str] | None = None
    sender = CommandSender(redis_url, "console", timeout_s=20.0)
    try:
        await wait_for(lambda: _private_connections(base) == 1, timeout=15)  # the listener's
        bot = await asyncio.to_thread(_start_bot, tmp_path, redis_url)  # blocking calls off the loop: the reader
        await asyncio.to_thread(_market, base, "Buy", "0.10", "pb1-en-abc-1")  # beats on it meanwhile
        await wait_for(lambda: set(reader.bot_positions("pb1")) == {"ETHUSDT"}, timeout=15)
        closed = await sender.send("pb1", ClosePosition("ETHUSDT"))
        assert closed.status == "ok", closed.message  # it knew the position: from Redis, the only feed it has
        assert _private_connections(base) == 1
        await wait_for(lambda: not reader.bot_positions("pb1"), timeout=15)
        bot.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(bot.communicate, timeout=20)
        assert bot.returncode == 0 and "Traceback" not in err, err
        assert out.strip() == "stopped; store flushed.", out
    finally:
        for proc in (bot, listen, sim):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(proc.communicate, timeout=20)
        await sender.close()
        await reader.close()
