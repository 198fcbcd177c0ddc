"""`tui-bot db copy` between a real SQLite file and a real PostgreSQL, and `tui-bot db check`, as processes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import console_script
from tests.pg_server import PASSWORD, USER, PgServer
from tests.store.factories import D, fill, link, order, write_session
from tui_bot.cli import main
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.models import Kline, Position
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.copy import copy_batches
from tui_bot.store.db import SCHEMA_VERSION, Database, open_database
from tui_bot.store.ops import (
    RecordExecution,
    RecordRejection,
    SetConfig,
    SnapshotPosition,
    UpsertCandle,
    UpsertOrder,
    WriteOp,
)
from tui_bot.store.repos import count, load_trades
from tui_bot.store.rows import RejectedOrder
from tui_bot.store.schema import metadata

TRADES = 300
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
T0 = 1_700_000_000_000


def _trade_ops(i: int) -> list[WriteOp]:
    """One round trip: an entry by our bot and its exit a minute later, at prices with odd decimals."""
    symbol, side = SYMBOLS[i % 3], (Side.BUY, Side.SELL)[i % 2]
    back = Side.SELL if side is Side.BUY else Side.BUY
    qty, t = f"0.{i % 9 + 1}", T0 + i * 120_000
    entry_link, exit_link = link(OrderReason.ENTRY, t), link(OrderReason.TAKE_PROFIT, t)
    price, out = f"{100 + i % 13}.05", f"{101 + i % 7}.15"
    tagged = [
        RecordExecution(
            fill(f"e{i}", side, qty, price, symbol=symbol, order_link_id=entry_link, fee="0.0123", exec_time=t)
        ),
        RecordExecution(
            fill(
                f"x{i}",
                back,
                qty,
                out,
                symbol=symbol,
                order_link_id=exit_link,
                fee="0.0131",
                exec_time=t + 60_000,
                closed_size=qty,
            )
        ),
    ]
    return [*tagged, SnapshotPosition(Position(symbol, side, D(qty), D("100.05")), f"after e{i}", t)]


def _history_ops() -> list[WriteOp]:
    """Every kind of row the store keeps: trades from fills, orders, candles, snapshots, a rejection, settings."""
    ops: list[WriteOp] = [op for i in range(TRADES) for op in _trade_ops(i)]
    ops += [UpsertOrder(order(f"o{i}", OrderStatus.FILLED, 2_000 + i, cum_exec_qty="1")) for i in range(20)]
    ops += [
        UpsertCandle(
            Kline("BTCUSDT", "1", T0 + m * 60_000, D("100.1"), D("101.25"), D("99.5"), D("100.75"), confirm=True)
        )
        for m in range(50)
    ]
    rejected = RejectedOrder(
        "tb1-en-x-1", "ETHUSDT", Side.BUY, OrderType.LIMIT, D("0.5"), D("10.5"), False, 110007, "ab", T0
    )
    return [*ops, RecordRejection(rejected), SetConfig("watchlist", ["BTCUSDT", "SOLUSDT"], T0)]


@pytest.fixture
async def history(tmp_path: Path) -> Path:
    """An SQLite store with a few hundred closed trades, written through the store's own writer."""
    path = tmp_path / "history.db"
    await write_session(path, *_history_ops())
    return path


def _tui_bot(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(console_script()), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=50, check=False
    )


async def _in_process(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    """`tui-bot ARGS` run by the command line's own main() in this process (no interpreter start-up to wait for)."""
    settings = folder / "empty.toml"
    settings.touch()
    status = await asyncio.to_thread(main, ["--config", str(settings), *args])
    out, err = capsys.readouterr()
    return status, out, err


def _said(out: str) -> str:
    """out with every run of white space one space (the table lines are aligned in columns)."""
    return " ".join(out.split())


def _sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as SQLite stores them (decimals as their text), by primary key."""
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in metadata.tables}


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.connect() as conn:
        return {
            table.name: [tuple(r) for r in await conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in metadata.sorted_tables
        }


async def test_copy_to_postgresql_and_back_keeps_every_row(
    history: Path, pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pg = pg_server.socket_url(pg_server.create_database())
    there = _tui_bot(tmp_path, "db", "copy", "--from", f"sqlite:///{history}", "--to", pg)
    assert there.returncode == 0, there.stderr
    assert f"(schema version {SCHEMA_VERSION})" in there.stdout
    assert f"executions {2 * TRADES} copied 0 already there" in _said(there.stdout)
    assert "verified: 11 tables" in there.stdout
    back = tmp_path / "back.db"
    status, _, err = await _in_process(capsys, tmp_path, "db", "copy", "--from", pg, "--to", f"sqlite:///{back}")
    assert status == 0, err
    assert _sqlite_rows(back) == _sqlite_rows(history)
    source, target = await open_database(history), await open_database(pg)
    try:
        assert await _rows(target) == await _rows(source)
        trades = await load_trades(target)
        assert len(trades) == TRADES and {t.status for t in trades} == {"closed"}
        assert sum((t.pnl or Decimal(0) for t in trades), Decimal(0)) == sum(
            (t.pnl or Decimal(0) for t in await load_trades(source)), Decimal(0)
        )
    finally:
        await source.close()
        await target.close()
    status, out, err = await _in_process(capsys, tmp_path, "db", "copy", "--from", f"sqlite:///{history}", "--to", pg)
    assert status == 0, err
    assert f"executions 0 copied {2 * TRADES} already there" in _said(out)
    await write_session(pg, RecordExecution(fill("after-copy", Side.BUY, "1", "100", exec_time=T0 * 2)))
    target = await open_database(pg)
    assert await count(target, "executions") == 2 * TRADES + 1  # the copied ids did not take the next one's
    await target.close()


async def test_an_interrupted_copy_continues_where_it_stopped(
    history: Path, pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pg = pg_server.socket_url(pg_server.create_database())
    source, target = await open_database(history), await open_database(pg)
    steps = copy_batches(source, target, batch=40)
    async for step in steps:
        if step.table == "executions" and step.copied:
            break  # interrupted after the first committed batch of executions
    await steps.aclose()
    partial = await count(target, "executions")
    await source.close()
    await target.close()
    assert partial == 40
    status, out, err = await _in_process(
        capsys, tmp_path, "db", "copy", "--from", f"sqlite:///{history}", "--to", pg, "--batch", "40"
    )
    assert status == 0, err
    said = _said(out)
    assert f"executions {2 * TRADES - 40} copied 40 already there" in said and "candles 0 copied 50 already" in said
    assert "verified: 11 tables" in said
    source, target = await open_database(history), await open_database(pg)
    assert await _rows(target) == await _rows(source)
    await source.close()
    await target.close()


async def test_a_target_with_other_rows_is_refused_before_anything_is_written(
    history: Path, pg_server: PgServer, tmp_path: Path
) -> None:
    pg = pg_server.socket_url(pg_server.create_database())
    await write_session(pg, RecordExecution(fill("theirs", Side.BUY, "1", "100", exec_time=T0)))
    refused = _tui_bot(tmp_path, "db", "copy", "--from", f"sqlite:///{history}", "--to", pg)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "refusing to copy into it" in refused.stderr, refused.stderr
    assert "table executions" in refused.stderr and "Traceback" not in refused.stderr
    target = await open_database(pg)
    assert [await count(target, t) for t in ("executions", "trades", "candles")] == [1, 1, 0]
    await target.close()


BAD = [
    (("--from", "mysql://u@h/db", "--to", "sqlite:///b.db"), 2, "unsupported database URL"),
    (("--from", "sqlite:///missing.db", "--to", "sqlite:///b.db"), 2, "no such database file"),
    (("--from", "sqlite:///a.db", "--to", "postgresql://u@h:notaport/db"), 2, "not a database URL"),
    (("--from", "sqlite:///a.db", "--to", "sqlite:///a.db"), 2, "the same database"),
    ((f"--from=postgresql://{USER}:hunter2@127.0.0.1:1/x", "--to", "sqlite:///b.db"), 1, "refused"),
    ((f"--from=postgresql://{USER}:hunter2@SERVED/postgres", "--to", "sqlite:///b.db"), 1, "password"),
    ((f"--from=postgresql://{USER}@SERVED/nosuchdb", "--to", "sqlite:///b.db"), 1, "does not exist"),
]


@pytest.mark.parametrize(("args", "status", "words"), BAD, ids=[words for _, _, words in BAD])
def test_bad_urls_and_unreachable_databases_get_one_line(
    pg_server: PgServer, tmp_path: Path, args: tuple[str, ...], status: int, words: str
) -> None:
    env = {**os.environ, "PGPASSWORD": PASSWORD}  # the right password, unless the URL carries a wrong one
    (tmp_path / "a.db").touch()
    served = f"127.0.0.1:{pg_server.port}"
    done = _tui_bot(tmp_path, "db", "copy", *(arg.replace("SERVED", served) for arg in args), env=env)
    assert (done.returncode, done.stdout) == (status, ""), done.stderr
    assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "b.db").exists()


def test_a_url_with_a_password_is_shown_without_it(pg_server: PgServer, tmp_path: Path) -> None:
    served = f"127.0.0.1:{pg_server.port}"
    checked = _tui_bot(tmp_path, "db", "check", f"postgresql://{USER}:{PASSWORD}@{served}/postgres")
    assert checked.returncode == 0, checked.stderr
    assert f"database postgresql://{USER}:***@{served}/postgres (postgresql)" in checked.stdout
    assert PASSWORD not in checked.stdout + checked.stderr


async def test_check_reports_the_schema_version_and_rows_per_table(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checked = _tui_bot(tmp_path, "db", "check", f"sqlite:///{history}")
    assert checked.returncode == 0, checked.stderr
    said = _said(checked.stdout)
    assert f"schema version {SCHEMA_VERSION} of {SCHEMA_VERSION}" in said
    assert f"executions {2 * TRADES} orders 20 position_snapshots {TRADES}" in said
    assert f"trades {TRADES} recommendations 0" in said
    assert await _in_process(capsys, tmp_path, "--db", str(history), "db", "check") == (0, checked.stdout, "")
    missing = _tui_bot(tmp_path, "db", "check", "sqlite:///nothing-here.db")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such database file" in missing.stderr
    assert not (tmp_path / "nothing-here.db").exists()
