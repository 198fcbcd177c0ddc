"""`tui-bot listen` as a real process: records every execution, survives SIGKILL, restarts reconciled, exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tui_bot.exchange.bybit.signing import rest_signature

KEY, SECRET = "LISTENKEY1", "LISTENSECRET1"


def _start_sim(cwd: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_bot.cli", "sim", "--api-key", KEY, "--api-secret", SECRET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Ctrl-C"):
            break
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 2:
            info[" ".join(parts[:-1])] = parts[-1]
    return proc, info


def _signed(base: str, method: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    ts = str(int(time.time() * 1000))
    if method == "GET":
        payload = "&".join(f"{k}={v}" for k, v in sorted((body or {}).items()))
        url, data = f"{base}{path}?{payload}", None
    else:
        payload = json.dumps(body)
        url, data = f"{base}{path}", payload.encode()
    headers = {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": rest_signature(SECRET, ts, KEY, "5000", payload),
        "Content-Type": "application/json",
    }
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=5) as r:
        reply = json.loads(r.read())
    assert reply["retCode"] == 0, reply
    return reply["result"]


def _market(base: str, side: str, qty: str, link: str | None = None) -> None:
    body: dict[str, object] = {
        "category": "linear",
        "symbol": "ETHUSDT",
        "side": side,
        "orderType": "Market",
        "qty": qty,
    }
    if link:
        body["orderLinkId"] = link
    _signed(base, "POST", "/v5/order/create", body)


def _start_listen(cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "BYBIT_API_KEY": KEY, "BYBIT_API_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_bot.cli", "--config", "listen.toml", "--db", "listen.db", "listen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("listening: venue CUSTOM"), first + (proc.stderr.read() if proc.poll() is not None else "")
    return proc


def _wait_rows(db: Path, expected: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            with sqlite3.connect(db) as conn:
                if conn.execute("select count(*) from executions").fetchone()[0] >= expected:
                    return
        time.sleep(0.1)
    raise AssertionError(f"executions table never reached {expected} rows")


def test_listen_survives_sigkill_and_restarts_reconciled(tmp_path: Path) -> None:
    sim, info = _start_sim(tmp_path)
    base = info["REST"]
    (tmp_path / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{base}"\npublic_ws_url = "{info["public WS"]}"\n'
        f'private_ws_url = "{info["private WS"]}"\ntrade_ws_url = "{info["trade WS"]}"\n'
        '[listen]\nlog_file = "listen.log"\nhealth_interval_s = 0.3\n[streams]\nping_interval_s = 1\n'
    )
    listen = None
    try:
        listen = _start_listen(tmp_path)
        _market(base, "Buy", "0.10", "tb1-en-abc-1")
        _market(base, "Buy", "0.20", "other-bot-42")
        _market(base, "Sell", "0.05")
        _wait_rows(tmp_path / "listen.db", 3)
        _market(base, "Buy", "0.30")
        listen.send_signal(signal.SIGKILL)
        listen.wait(10)
        _market(base, "Sell", "0.55", "tb1-mx-abd-2")
        listen = _start_listen(tmp_path)
        _wait_rows(tmp_path / "listen.db", 5)
        listen.send_signal(signal.SIGTERM)
        out, err = listen.communicate(timeout=15)
        assert listen.returncode == 0, err
        assert "stopped; store flushed." in out
        assert "mode=stream" in out
        exchange = _signed(base, "GET", "/v5/execution/list", {"category": "linear", "limit": 100})["list"]
    finally:
        if listen is not None and listen.poll() is None:
            listen.kill()
        sim.send_signal(signal.SIGTERM)
        sim.communicate(timeout=10)
    with sqlite3.connect(tmp_path / "listen.db") as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        rows = conn.execute("select exec_id, order_link_id, bot, reason from executions").fetchall()
        trades = conn.execute("select status, exit_reason from trades").fetchall()
    assert sorted(r[0] for r in rows) == sorted(e["execId"] for e in exchange)
    assert len(rows) == len({r[0] for r in rows}) == 5
    tags = {r[1]: (r[2], r[3]) for r in rows if r[1]}
    assert tags["tb1-en-abc-1"] == ("tb1", "entry")
    assert tags["other-bot-42"] == ("external", None)
    assert tags["tb1-mx-abd-2"] == ("tb1", "manual_exit")
    # the other program's fills make their own trade, force-closed at the restart (the position was flat by then)
    assert sorted(trades) == [("closed", "manual_exit"), ("closed", "reconciled_partial")]
    assert "LISTENSECRET1" not in (tmp_path / "listen.log").read_text()
