"""`tui-bot cycle --once` as a user runs it: a subprocess on the embedded exchange, rows checked in its DB."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.bot.quiet import QUIET
from tui_bot.config import BotSettings
from tui_bot.store.db import open_database
from tui_bot.store.repos import count, load_cycles, load_recommendations

CONFIG = """
[exchange]
venue = "sim"
[trading]
auto_approve_trades = true
timeframe = "1"
run_cycles = false
min_confidence_threshold = {conf}
min_rr = "{rr}"
"""


def run_once(tmp_path: Path, conf: float, rr: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp_path / "bot.toml").write_text(CONFIG.format(conf=conf, rr=rr))
    db = tmp_path / "cycle.db"
    result = subprocess.run(
        [sys.executable, "-m", "tui_bot.cli", "cycle", "--once", "--config", "bot.toml", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    return result, db


async def table_counts(db: Path) -> dict[str, int]:
    conn = await open_database(db)
    try:
        return {t: await count(conn, t) for t in ("cycles", "recommendations", "orders", "trades", "phantoms")}
    finally:
        await conn.close()


def test_permissive_cycle_once_trades(tmp_path: Path) -> None:
    result, db = run_once(tmp_path, 0.0, "0.1")
    assert result.returncode == 0, result.stderr
    assert " done on 1: " in result.stdout and "executed" in result.stdout
    counts = asyncio.run(table_counts(db))
    assert counts["cycles"] == 1 and counts["recommendations"] >= 1
    assert counts["orders"] >= 1 and counts["trades"] >= 1


def test_strict_cycle_once_rejects_and_sends_nothing(tmp_path: Path) -> None:
    result, db = run_once(tmp_path, 1.0, "100")
    assert result.returncode == 0, result.stderr
    counts = asyncio.run(table_counts(db))
    assert counts["cycles"] == 1 and counts["recommendations"] >= 1
    assert counts["phantoms"] == counts["recommendations"] and counts["orders"] == 0 and counts["trades"] == 0

    async def fates() -> list[str]:
        conn = await open_database(db)
        try:
            assert [c.status for c in await load_cycles(conn)] == ["done"]
            return [r.status for r in await load_recommendations(conn)]
        finally:
            await conn.close()

    assert set(asyncio.run(fates())) == {"rejected"}


def test_cycle_once_prints_why_each_symbol_held_and_whether_the_score_gated(tmp_path: Path) -> None:
    (tmp_path / "bot.toml").write_text(CONFIG.format(conf=0.0, rr="0.1") + f'strategies = ["{QUIET}"]\n')
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "tui_bot.cli", "cycle", "--once", "--config", "bot.toml", "--db", "cycle.db"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},  # the trader's own strategy, by its dotted path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert " done on 1: 0 ideas" in lines[0]
    held = [line.split() for line in lines[1:-1]]
    assert [words[:4] for words in held] == [[symbol, "held:", "quiet:", "No"] for symbol in BotSettings().watchlist]
    assert lines[-1] == "  learned score off: 0 of 100 outcomes needed to train (min_outcomes)"
