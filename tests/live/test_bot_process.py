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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.core.conftest import wait_for
from tests.core.test_listen_process import KEY, SECRET, _market, _start_sim
from tests.live.test_listen_redis import TTL_S, _start_listen
from tui_bot.live.bot_gates import PAUSED, RESUMED
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


@dataclass
class Processes:
    """The exchange and listener processes (a bot's once started), the exchange's REST base."""

    sim: subprocess.Popen[str]
    listen: subprocess.Popen[str]
    base: str
    bot: subprocess.Popen[str] | None = None


@asynccontextmanager
async def exchange_and_listener(cwd: Path, redis_url: str) -> AsyncIterator[Processes]:
    """`tui-bot sim` and `tui-bot listen --redis` (config listen.toml, which bots use too), stopped on the way out.

    Blocking calls run off the loop, so the test's Redis clients keep being served meanwhile."""
    sim, info = _start_sim(cwd)
    base = info["REST"]
    (cwd / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{base}"\npublic_ws_url = "{info["public WS"]}"\n'
        f'private_ws_url = "{info["private WS"]}"\ntrade_ws_url = "{info["trade WS"]}"\n'
        f'[listen]\nlog_file = "listen.log"\nhealth_interval_s = 0.3\n[redis]\nheartbeat_ttl_s = {TTL_S}\n'
        "[trading]\nrun_cycles = false\n"
    )
    procs = Processes(sim, await asyncio.to_thread(_start_listen, cwd, redis_url), base)
    try:
        yield procs
    finally:
        for proc in (procs.bot, procs.listen, procs.sim):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.to_thread(proc.communicate, timeout=20)


async def _stop_bot(bot: subprocess.Popen[str]) -> str:
    """SIGTERM; its remaining output once it exited cleanly."""
    bot.send_signal(signal.SIGTERM)
    out, err = await asyncio.to_thread(bot.communicate, timeout=20)
    assert bot.returncode == 0 and "Traceback" not in err, err
    return out


async def test_a_bot_process_opens_no_private_stream_and_closes_its_position_known_from_redis(
    tmp_path: Path, redis_url: str
) -> None:
    reader = LiveState(redis_url, heartbeat_poll_s=0.05, retry_s=0.05)
    await reader.start()
    sender = CommandSender(redis_url, "console", timeout_s=20.0)
    try:
        async with exchange_and_listener(tmp_path, redis_url) as procs:
            await wait_for(lambda: _private_connections(procs.base) == 1, timeout=15)  # the listener's
            procs.bot = bot = await asyncio.to_thread(_start_bot, tmp_path, redis_url)
            await asyncio.to_thread(_market, procs.base, "Buy", "0.10", "pb1-en-abc-1")
            await wait_for(lambda: set(reader.bot_positions("pb1")) == {"ETHUSDT"}, timeout=15)
            closed = await sender.send("pb1", ClosePosition("ETHUSDT"))
            assert closed.status == "ok", closed.message  # it knew the position: from Redis, the only feed it has
            assert _private_connections(procs.base) == 1
            await wait_for(lambda: not reader.bot_positions("pb1"), timeout=15)
            assert (await _stop_bot(bot)).strip() == "stopped; store flushed."
    finally:
        await sender.close()
        await reader.close()


async def test_a_bot_process_says_when_the_killed_listener_is_gone_and_when_it_is_back(
    tmp_path: Path, redis_url: str
) -> None:
    async with exchange_and_listener(tmp_path, redis_url) as procs:
        procs.bot = bot = await asyncio.to_thread(_start_bot, tmp_path, redis_url)
        assert bot.stdout is not None
        procs.listen.send_signal(signal.SIGKILL)  # its heartbeat expires TTL_S later
        await asyncio.to_thread(procs.listen.wait, 10)
        gone = await asyncio.wait_for(asyncio.to_thread(bot.stdout.readline), TTL_S + 15)
        assert gone.rstrip() == f"bot pb1: listener heartbeat gone: {PAUSED}"
        procs.listen = await asyncio.to_thread(_start_listen, tmp_path, redis_url)
        back = await asyncio.wait_for(asyncio.to_thread(bot.stdout.readline), 20)
        assert back.rstrip() == f"bot pb1: {RESUMED}"
        assert (await _stop_bot(bot)).strip() == "stopped; store flushed."
