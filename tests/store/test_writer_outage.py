"""The writer during a database outage: locked or full databases delay writes but never lose them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiosqlite
import pytest

from tests.store.factories import D, fill, link
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.db import open_database
from tui_bot.store.ops import RecordExecution, SaveRecommendation, WriteOp
from tui_bot.store.repos import load_trades
from tui_bot.store.rows import RecommendationRow
from tui_bot.store.writer import StoreWriter

# Short enough that each write attempt against a held lock gives up quickly.
_BUSY_TIMEOUT_MS = 50


@pytest.fixture
async def fast_conn(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await open_database(db_path)
    await connection.execute_fetchall(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    yield connection
    await connection.close()


@pytest.fixture
def other(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the same file, as another process (or the sqlite3 CLI) would hold."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    yield connection
    connection.close()


def _round_trip() -> list[WriteOp]:
    return [
        RecordExecution(fill("x1", Side.BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY))),
        RecordExecution(fill("x2", Side.SELL, "1", "110", fee="0.1", closed_size="1")),
        RecordExecution(fill("x3", Side.BUY, "2", "105")),
    ]


def _stored_exec_ids(other: sqlite3.Connection) -> list[str]:
    return sorted(row[0] for row in other.execute("SELECT exec_id FROM executions"))


async def _started(conn: aiosqlite.Connection) -> StoreWriter:
    writer = StoreWriter(conn, flush_interval=0.01)
    writer.start()
    await writer.flush()
    return writer


async def test_a_lock_held_past_busy_timeout_delays_fills_but_loses_none(
    fast_conn: aiosqlite.Connection, other: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    writer = await _started(fast_conn)
    other.execute("BEGIN IMMEDIATE")
    with caplog.at_level(logging.WARNING, logger="tui_bot.store.writer"):
        for op in _round_trip():
            writer.enqueue(op)
        flushed = asyncio.create_task(writer.flush())
        await asyncio.sleep(0.6)
        assert not flushed.done()
        assert writer.stalled and writer.stalled_since is not None and writer.retries >= 1
        assert (writer.pending, writer.errors) == (3, 0)
        other.execute("COMMIT")
        await asyncio.wait_for(flushed, 5)
        assert _stored_exec_ids(other) == ["x1", "x2", "x3"]
    assert (writer.written, writer.errors, writer.pending, writer.stalled) == (3, 0, 0, False)
    assert caplog.text.count("store writes are failing") == 1
    assert "store writes recovered" in caplog.text
    closed, opened = sorted(await load_trades(fast_conn), key=lambda t: t.status)
    assert (closed.status, closed.qty, closed.pnl) == ("closed", D(1), D("9.8"))
    assert (opened.status, opened.qty) == ("open", D(2))
    await writer.stop()


async def test_a_bad_op_is_still_dropped_alone_when_the_outage_ends(
    fast_conn: aiosqlite.Connection, other: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    writer = await _started(fast_conn)
    orphan = RecommendationRow(
        "r9", "no-such-cycle", "BTCUSDT", Side.BUY, D(1), D(1), D(1), D(1), None, "s", "1", "", "pending", 1, 1
    )
    other.execute("BEGIN IMMEDIATE")
    ops = _round_trip()
    ops.insert(1, SaveRecommendation(orphan))
    with caplog.at_level(logging.ERROR, logger="tui_bot.store.writer"):
        for op in ops:
            writer.enqueue(op)
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        await asyncio.wait_for(writer.flush(), 5)
    assert (writer.written, writer.errors) == (3, 1)
    assert "SaveRecommendation" in caplog.text
    assert _stored_exec_ids(other) == ["x1", "x2", "x3"]
    await writer.stop()


async def test_a_full_database_delays_writes_until_there_is_room(
    fast_conn: aiosqlite.Connection, other: sqlite3.Connection
) -> None:
    writer = await _started(fast_conn)
    pages = list(await fast_conn.execute_fetchall("PRAGMA page_count"))[0][0]
    await fast_conn.execute_fetchall(f"PRAGMA max_page_count = {pages}")
    for n in range(300):
        writer.enqueue(RecordExecution(fill(f"f{n}", Side.BUY, "1", "100", symbol=f"S{n}USDT")))
    flushed = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.4)
    assert not flushed.done()
    assert writer.stalled and "full" in (writer.stall_error or "")
    await fast_conn.execute_fetchall("PRAGMA max_page_count = 1073741823")
    await asyncio.wait_for(flushed, 5)
    assert len(_stored_exec_ids(other)) == 300
    assert (writer.errors, writer.stalled) == (0, False)
    await writer.stop()


async def test_stop_during_a_lock_that_never_ends_gives_up_in_time_and_says_what_was_lost(
    fast_conn: aiosqlite.Connection, other: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    writer = await _started(fast_conn)
    writer.stop_grace = 0.5
    other.execute("BEGIN IMMEDIATE")
    with caplog.at_level(logging.ERROR, logger="tui_bot.store.writer"):
        for op in _round_trip():
            writer.enqueue(op)
        flushed = asyncio.create_task(writer.flush())
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await asyncio.wait_for(writer.stop(), 5)
        assert time.monotonic() - started < 2.0
    with pytest.raises(RuntimeError, match="stopped before the flush completed"):
        await flushed
    assert writer.abandoned == 3
    assert "3 ops were not written" in caplog.text
    other.execute("COMMIT")
    assert _stored_exec_ids(other) == []


async def test_a_writer_that_cannot_rebuild_its_ledger_keeps_ops_queued_and_starts_once_the_row_is_fixed(
    fast_conn: aiosqlite.Connection, other: sqlite3.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    first = await _started(fast_conn)
    first.enqueue(_round_trip()[0])
    await first.stop()
    other.execute("UPDATE executions SET price = 'abc' WHERE exec_id = 'x1'")  # as a hand edit or a bug would leave it
    writer = StoreWriter(fast_conn, flush_interval=0.01)
    with caplog.at_level(logging.WARNING, logger="tui_bot.store.writer"):
        writer.start()
        for op in _round_trip()[1:]:
            writer.enqueue(op)
        flushed = asyncio.create_task(writer.flush())
        for _ in range(100):
            if writer.retries >= 2 or not writer.running:
                break
            await asyncio.sleep(0.05)
        assert writer.running and writer.stalled and not flushed.done()
        assert (writer.stall_error or "").startswith("InvalidOperation")
        assert writer.pending == 2
        other.execute("UPDATE executions SET price = '100' WHERE exec_id = 'x1'")
        await asyncio.wait_for(flushed, 10)
    assert _stored_exec_ids(other) == ["x1", "x2", "x3"]
    assert (writer.written, writer.errors, writer.stalled) == (2, 0, False)
    assert caplog.text.count("store writer failed unexpectedly") == 1 and "store writes recovered" in caplog.text
    await writer.stop()
