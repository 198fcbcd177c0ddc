"""`tui-bot listen --redis` as a real process: a reader sees its fills, its heartbeat go when it is killed, and
everything again when it restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from tests.conftest import console_script
from tests.core.conftest import wait_for
from tests.core.test_listen_process import KEY, SECRET, _market, _start_sim
from tui_bot.live.reader import LiveState

TTL_S = 3.0  # beats every TTL/3: room for a loaded machine


def _start_listen(cwd: Path, redis_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
    args = [sys.executable, "-m", "tui_bot.cli", "--config", "listen.toml", "--db", "listen.db", "listen"]
    proc = subprocess.Popen(
        [*args, "--redis", redis_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.rstrip().endswith("(live state in redis)"), first + (proc.stderr.read() if proc.poll() else "")
    return proc


async def test_the_reader_sees_the_listener_publish_die_and_come_back(tmp_path: Path, redis_url: str) -> None:
    sim, info = _start_sim(tmp_path)
    base = info["REST"]
    (tmp_path / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{base}"\npublic_ws_url = "{info["public WS"]}"\n'
        f'private_ws_url = "{info["private WS"]}"\ntrade_ws_url = "{info["trade WS"]}"\n'
        '[listen]\nlog_file = "listen.log"\nhealth_interval_s = 0.3\n'
        f"[redis]\nheartbeat_ttl_s = {TTL_S}\n[trading]\nrun_cycles = false\n"
    )
    reader = LiveState(redis_url, heartbeat_poll_s=0.05, retry_s=0.05)
    await reader.start()
    listen = _start_listen(tmp_path, redis_url)
    try:
        _market(base, "Buy", "0.10", "tb1-en-abc-1")
        await wait_for(lambda: set(reader.bot_positions("tb1")) == {"ETHUSDT"}, timeout=15)
        assert reader.listener_alive
        age = reader.listener_age_ms()
        assert age is not None and age < TTL_S * 1000
        listen.send_signal(signal.SIGKILL)
        listen.wait(10)
        await wait_for(lambda: not reader.listener_alive, timeout=TTL_S + 5)
        assert set(reader.bot_positions("tb1")) == {"ETHUSDT"}  # the state stays; only the heartbeat says it is old
        _market(base, "Buy", "0.20", "other-bot-42")  # while the listener is dead: adds to tb1's position
        snapshots = reader.snapshots
        listen = _start_listen(tmp_path, redis_url)
        await wait_for(lambda: reader.listener_alive and reader.snapshots > snapshots, timeout=15)
        await wait_for(lambda: reader.bot_positions("tb1")["ETHUSDT"].size == Decimal("0.30"), timeout=15)
        listen.send_signal(signal.SIGTERM)
        out, err = listen.communicate(timeout=15)
        assert listen.returncode == 0, err
        assert "redis=up" in out and "Traceback" not in err
        await wait_for(lambda: not reader.listener_alive, timeout=2)  # a clean stop removes the heartbeat at once
    finally:
        await reader.close()
        if listen.poll() is None:
            listen.kill()
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=10)


def test_a_bad_redis_url_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(console_script()), "--db", str(tmp_path / "x.db"), "listen", "--redis", "http://user:pw@host/0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tui-bot: --redis: expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH"
    ]
