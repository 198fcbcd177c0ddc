"""`tui-bot listen` as a real process sends its alerts to Telegram and a webhook (loopback stubs), logs them, and
prints equity on its health line; the bot token, given in the environment, shows up nowhere."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.notify.stub import HOOK_SECRET, TOKEN, StubServer


async def test_listen_sends_its_alerts_and_prints_equity(tmp_path: Path) -> None:
    """The embedded exchange stands still (autostep off): no events for 0.5 s is a critical alert."""
    stub = StubServer()
    await stub.start()
    (tmp_path / "listen.toml").write_text(
        "[sim]\nautostep = false\nlatency_ms = 0\n[trading]\nrun_cycles = false\n"
        "[listen]\nhealth_interval_s = 0.2\n[alerts]\ncheck_interval_s = 0.05\nno_events_critical_s = 0.5\n"
        f'[notify]\nbackoff_s = 0.01\n[notify.telegram]\nchat_id = "-100123"\nbase_url = "{stub.telegram_base}"\n'
        f'[notify.webhook]\nurl = "{stub.hook_url("hook")}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TUI_BOT_")}
    env["TUI_BOT_NOTIFY__TELEGRAM__BOT_TOKEN"] = TOKEN
    listen = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui_bot.cli",
        "--config",
        "listen.toml",
        "--db",
        "listen.db",
        "listen",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await stub.wait_until(lambda: bool(stub.bodies("/tg/")) and bool(stub.bodies("/hook/")), timeout=30)
        listen.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(listen.communicate(), 30)
    finally:
        if listen.returncode is None:
            listen.kill()
            await listen.wait()
        await stub.stop()
    assert listen.returncode == 0, err.decode()
    hook = stub.bodies("/hook/")
    assert (hook[0]["source"], hook[0]["severity"], hook[0]["kind"]) == ("SIM tb1", "critical", "no_events")
    assert hook[0]["text"].startswith("no market or account events for ")
    assert stub.bodies("/tg/")[0]["text"].startswith("[SIM tb1] CRITICAL no_events at ")
    assert [r.path for r in stub.received if r.path.startswith("/tg/")][0] == f"/tg/bot{TOKEN}/sendMessage"
    health = [line for line in out.decode().splitlines() if line.startswith("mode=")]
    assert health and all(" equity=10000.00 day=0.00" in line for line in health), out.decode()
    log = (tmp_path / "tui_bot.log").read_text()
    assert "ERROR tui_bot.alerts: alert critical no_events: no market or account events for " in log
    assert "alerts are sent to telegram, webhook" in log
    for text in (log, out.decode(), err.decode()):
        assert TOKEN not in text and HOOK_SECRET not in text
