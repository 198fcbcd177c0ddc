"""`tui-bot stats` as a user runs it (the console script): PnL by close reason, symbol and day per bot, for a period,
as a table, CSV or JSON, the same from SQLite and PostgreSQL; bad arguments and an empty or missing store."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.pg_server import PgServer
from tests.store.factories import fill, write_session
from tui_bot.core.stats import day_of
from tui_bot.domain.enums import CreateType, Side
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.store.ops import RecordExecution

HOUR = 3_600_000
NOW = time.time_ns() // 1_000_000
OLD = NOW - 72 * HOUR  # outside --since 2d
B1, B2 = OrderIdFactory("b1"), OrderIdFactory("b2")


def history() -> list[RecordExecution]:
    """Four round trips: b1's TP (3 days ago) and stop loss by the exchange, b2's manual exit and a losing one."""
    fills = [
        fill("a1", Side.BUY, "1", "100", fee="0.1", order_link_id=B1.new(OrderReason.ENTRY, OLD), exec_time=OLD),
        fill("a2", Side.SELL, "1", "110", fee="0.1", order_link_id=B1.new(OrderReason.TAKE_PROFIT, OLD),
             exec_time=OLD + 1000, closed_size="1"),
        fill("b1", Side.BUY, "2", "50", fee="0.05", symbol="ETHUSDT", order_link_id=B1.new(OrderReason.ENTRY, NOW),
             exec_time=NOW - 3 * HOUR),
        fill("b2", Side.SELL, "2", "45", fee="0.05", symbol="ETHUSDT", create_type=CreateType.BY_STOP_LOSS,
             exec_time=NOW - 2 * HOUR, closed_size="2"),
        fill("c1", Side.SELL, "1", "120", fee="0.06", order_link_id=B2.new(OrderReason.ENTRY, NOW),
             exec_time=NOW - 2 * HOUR),
        fill("c2", Side.BUY, "1", "117", fee="0.06", order_link_id=B2.new(OrderReason.MANUAL_EXIT, NOW),
             exec_time=NOW - HOUR, closed_size="1"),
        fill("d1", Side.BUY, "1", "100", fee="0.05", order_link_id=B2.new(OrderReason.ENTRY, NOW),
             exec_time=NOW - HOUR + 1000),
        fill("d2", Side.SELL, "1", "99.5", fee="0.05", order_link_id=B2.new(OrderReason.MANUAL_EXIT, NOW),
             exec_time=NOW - HOUR + 2000, closed_size="1"),
    ]  # fmt: skip
    return [RecordExecution(f) for f in fills]


def stats(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(console_script()), *args]
    environ = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, env=environ, check=False)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    asyncio.run(write_session(path, *history()))
    return path


def csv_rows(text: str) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(r["section"], r["bot"], r["key"]): r for r in csv.DictReader(io.StringIO(text))}


def test_pnl_by_close_reason_symbol_and_day_per_bot_and_for_all(sqlite_store: Path, tmp_path: Path) -> None:
    done = stats(tmp_path, "--db", str(sqlite_store), "stats", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = csv_rows(done.stdout)
    figures = {key: (r["trades"], r["wins"], r["total_pnl"]) for key, r in rows.items() if key[0] == "reason"}
    assert figures == {
        ("reason", "b1", "take_profit"): ("1", "1", "9.8"),
        ("reason", "b1", "stop_loss"): ("1", "0", "-10.10"),
        ("reason", "b2", "manual_exit"): ("2", "1", "2.28"),
        ("reason", "(all)", "manual_exit"): ("2", "1", "2.28"),
        ("reason", "(all)", "stop_loss"): ("1", "0", "-10.10"),
        ("reason", "(all)", "take_profit"): ("1", "1", "9.8"),
    }
    assert rows["reason", "b2", "manual_exit"]["win_rate"] == "0.5000"
    assert rows["reason", "b2", "manual_exit"]["avg_pnl"] == "1.14000000"
    assert (
        rows["symbol", "(all)", "BTCUSDT"]["total_pnl"] == "12.08" and rows["symbol", "b1", "ETHUSDT"]["trades"] == "1"
    )
    assert rows["day", "b1", day_of(OLD + 1000)]["total_pnl"] == "9.8"


def test_one_bot_since_two_days_as_json_and_as_a_table(sqlite_store: Path, tmp_path: Path) -> None:
    done = stats(tmp_path, "--db", str(sqlite_store), "stats", "--bot", "b1", "--since", "2d", "--format", "json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["bot"] == "b1" and body["trades"] == 1 and NOW - 48 * HOUR <= body["since_ms"] <= NOW + 60_000
    assert [(r["bot"], r["key"], r["total_pnl"], r["avg_r"]) for r in body["by_reason"]] == [
        ("b1", "stop_loss", "-10.10", None)
    ]
    table = stats(tmp_path, "--db", str(sqlite_store), "stats", "--since", "2d")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("3 closed trades in ") and "(2d)" in lines[0]
    assert "PnL by close reason" in lines and "PnL by symbol" in lines and "PnL by day (UTC)" in lines
    assert any(line.split()[:5] == ["b2", "manual_exit", "2", "1", "50.0%"] for line in lines)
    assert not any("take_profit" in line for line in lines)


def test_the_same_history_on_postgresql_prints_the_same_figures(
    sqlite_store: Path, tmp_path: Path, pg_server: PgServer
) -> None:
    url = pg_server.socket_url(pg_server.create_database())
    asyncio.run(write_session(url, *history()))
    on_pg = stats(tmp_path, "stats", "--format", "csv", env={"TUI_BOT_STORAGE__URL": url})
    on_sqlite = stats(tmp_path, "--db", str(sqlite_store), "stats", "--format", "csv")
    assert on_pg.returncode == 0, on_pg.stderr
    assert on_pg.stdout == on_sqlite.stdout and len(on_pg.stdout.splitlines()) > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "7x"], "argument --since: expected a span like 7d, 24h or 30m, or a UTC date like 2026-12-01"),
        (["--since", "0d"], "argument --since: expected a span like 7d"),
        (["--since", "2026-13-01"], "got '2026-13-01'"),
        (["--bot", "no-such"], "argument --bot: bot id must be 1-12 chars of [A-Za-z0-9_], got 'no-such'"),
        (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = stats(tmp_path, "--db", str(tmp_path / "x.db"), "stats", *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert len(done.stderr.splitlines()) == 1 and message in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_an_empty_store_says_so_and_a_missing_one_is_not_created(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    asyncio.run(write_session(empty))
    done = stats(tmp_path, "--db", str(empty), "stats", "--bot", "b1")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"no closed trades in {empty} (bot b1)\n"
    missing = stats(tmp_path, "--db", str(tmp_path / "nothing.db"), "stats")
    assert missing.returncode == 1 and missing.stderr.startswith("tui-bot stats: no database at ")
    assert not (tmp_path / "nothing.db").exists()


def test_a_database_that_refuses_gives_one_line_and_status_1(tmp_path: Path) -> None:
    url = "postgresql://trader:hunter2@127.0.0.1:1/history"
    done = stats(tmp_path, "stats", env={"TUI_BOT_STORAGE__URL": url})
    assert (done.returncode, done.stdout) == (1, "")
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("tui-bot stats: database postgresql://trader")
    assert "hunter2" not in done.stderr
