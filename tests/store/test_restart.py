"""Durability: a restart continues open trades; a killed writer leaves an intact database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.store.factories import D, fill, link, write_session
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.booking import rebuild_ledger
from tui_bot.store.db import Database, open_database
from tui_bot.store.ops import RecordExecution
from tui_bot.store.repos import count, exec_ids, load_executions, load_trades
from tui_bot.store.rows import Trade
from tui_bot.store.trades import TradeLedger

REPO = Path(__file__).resolve().parents[2]


async def test_restart_continues_the_open_trade(db_url: str) -> None:
    entry = fill("r1", Side.BUY, "1", "90", fee="0.05", order_link_id=link(OrderReason.ENTRY))
    await write_session(
        db_url,
        RecordExecution(entry),
        RecordExecution(fill("r2", Side.BUY, "1", "110", fee="0.05", order_link_id=link(OrderReason.SCALE_IN))),
        RecordExecution(fill("r3", Side.SELL, "0.5", "120", fee="0.05", order_link_id=link(OrderReason.TAKE_PROFIT))),
    )
    conn = await open_database(db_url)
    ledger = await rebuild_ledger(conn)
    [open_trade] = ledger.open_trades()
    assert await load_trades(conn) == [open_trade]
    assert (open_trade.qty, open_trade.entry_price, open_trade.exit_qty) == (D(2), D(100), D("0.5"))
    await conn.close()

    await write_session(
        db_url,
        RecordExecution(entry),
        RecordExecution(fill("r4", Side.SELL, "1.5", "104", fee="0.05", order_link_id=link(OrderReason.MANUAL_EXIT))),
    )
    conn = await open_database(db_url)
    try:
        [trade] = await load_trades(conn)
        assert (trade.open_exec_id, trade.status, trade.exit_reason) == ("r1", "closed", "manual_exit")
        assert (trade.pnl, trade.pnl_pct, trade.fees) == (D("15.8"), D("7.9"), D("0.2"))
        assert await count(conn, "executions") == 4
        assert (await rebuild_ledger(conn)).open_trades() == []
    finally:
        await conn.close()


async def _replayed_trades(conn: Database) -> dict[str, Trade]:
    """Every trade as a fresh ledger derives it from the stored executions."""
    ledger, latest = TradeLedger(), {}
    rows = await conn.fetch("SELECT exec_id FROM executions ORDER BY id")
    by_id = {e.exec_id: e for e in await load_executions(conn)}
    for row in rows:
        for trade in ledger.apply(by_id[row[0]]):
            latest[trade.open_exec_id] = trade
    return latest


async def test_killed_writer_leaves_an_intact_database(db_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", str(db_url)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stderr is not None
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(0.4)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
    assert child.returncode == -signal.SIGKILL

    conn = await open_database(db_url)
    try:
        if conn.backend == "sqlite":
            assert [row[0] for row in await conn.fetch("PRAGMA integrity_check")] == ["ok"]
        stored = await count(conn, "executions")
        assert stored >= 50
        assert len(await exec_ids(conn)) == stored
        by_key = {t.open_exec_id: t for t in await load_trades(conn)}
        assert by_key == await _replayed_trades(conn)
    finally:
        await conn.close()
