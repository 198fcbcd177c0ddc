"""`tui-bot sim` as a user runs it: a real process that prints working URLs and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tui_bot.exchange.bybit.signing import rest_signature


def _start(*args: str, cwd: Path | None = None) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_bot.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Ctrl-C"):
            break
        parts = line.split()
        if len(parts) >= 2 and line.startswith("  "):
            info[" ".join(parts[:-1])] = parts[-1]
    return proc, info


def test_sim_command_serves_signed_requests_and_stops_cleanly(tmp_path: Path) -> None:
    proc, info = _start(
        "sim",
        "--port",
        "0",
        "--api-key",
        "KEY123",
        "--api-secret",
        "SECRET456",
        "--symbols",
        "BTCUSDT,XRPUSDT",
        "--balance",
        "2500",
        "--latency-ms",
        "5",
        cwd=tmp_path,
    )
    try:
        assert info["API key"] == "KEY123" and info["API secret"] == "SECRET456"
        assert info["REST"].startswith("http://127.0.0.1:")
        assert info["private WS"].endswith("/v5/private")
        query = "accountType=UNIFIED"
        ts = str(int(__import__("time").time() * 1000))
        headers = {
            "X-BAPI-API-KEY": "KEY123",
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": "5000",
            "X-BAPI-SIGN": rest_signature("SECRET456", ts, "KEY123", "5000", query),
        }
        request = urllib.request.Request(f"{info['REST']}/v5/account/wallet-balance?{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
        assert body["retCode"] == 0
        assert body["result"]["list"][0]["totalWalletBalance"] == "2500"
        with urllib.request.urlopen(
            f"{info['REST']}/v5/market/instruments-info?category=linear", timeout=5
        ) as response:
            symbols = [i["symbol"] for i in json.loads(response.read())["result"]["list"]]
        assert symbols == ["BTCUSDT", "XRPUSDT"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped." in out
