"""The writer during a database outage: a locked, full or stopped database delays writes but never loses them."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.pg_server import PgServer
from tests.store.factories import D, fill, link
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.db import Database, open_database
from tui_bot.store.ops import RecordExecution, SaveRecommendation, WriteOp
from tui_bot.store.repos import exec_ids, load_trades
from tui_bot.store.rows import RecommendationRow
from tui_bot.store.writer import StoreWriter

# Short enough that each write attempt against a held lock gives up quickly.
_BUSY_TIMEOUT_MS = 50


async def _on_every_connection(db: Database, pragma: str) -> None:
    """Run pragma on each new pooled SQLite connection, the writer's and the readers' (and start fresh pools)."""

    def _set(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(pragma)
        cursor.close()

    for engine in (db.engine.sync_engine, db.writes):
        event.listen(engine, "connect", _set)
    await db.engine.dispose()
    db.writes.dispose()


@pytest.fixture
async def fast_conn(db_path: Path) -> AsyncIterator[Database]:
    connection = await open_database(db_path)
    await _on_every_connection(connection, f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    yield connection
    await connection.close()


@pytest.fixture
def other(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the same file, as another process (or the sqlite3 CLI) would hold."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    yield connection
    connection.close()


class _Outage:
    """Makes the database refuse writes until end(): SQLite's write lock held elsewhere, or PostgreSQL stopped."""

    def __init__(self, other: sqlite3.Connection | None = None, server: PgServer | None = None) -> None:
        self._other, self._server, self.on = other, server, False

    async def begin(self) -> None:
        self.on = True
        if self._other is not None:
            self._other.execute("BEGIN IMMEDIATE")
        else:
            assert self._server is not None
            await asyncio.to_thread(self._server.stop, "fast")

    async def end(self) -> None:
        if self._other is not None:
            self._other.execute("COMMIT")
        else:
            assert self._server is not None
            await asyncio.to_thread(self._server.start)
        self.on = False


@pytest.fixture(params=["sqlite", "postgresql"])
async def down(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[tuple[Database, _Outage]]:
    """A database on each backend and the outage to put it through (ended after the test if it was not)."""
    if request.param == "sqlite":
        db = await open_database(db_path)
        await _on_every_connection(db, f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        with sqlite3.connect(db_path, isolation_level=None) as other:
            outage = _Outage(other=other)
            yield db, outage
            if outage.on:
                await outage.end()
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        db = await open_database(server.socket_url(server.create_database()))
        outage = _Outage(server=server)
        yield db, outage
        if outage.on:
            await outage.end()
    await db.close()


async def _later(delay: float, step: Awaitable[None]) -> None:
    await asyncio.sleep(delay)
    await step


def _round_trip() -> list[WriteOp]:
    return [
        RecordExecution(fill("x1", Side.BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY))),
        RecordExecution(
            fill("x2", Side.SELL, "1", "110", fee="0.1", order_link_id=link(OrderReason.MANUAL_EXIT), closed_size="1")
        ),
        RecordExecution(fill("x3", Side.BUY, "2", "105")),
    ]


def _stored_exec_ids(other: sqlite3.Connection) -> list[str]:
    return sorted(row[0] for row in other.execute("SELECT exec_id FROM executions"))


async def _started(conn: Database) -> StoreWriter:
    writer = StoreWriter(conn, flush_interval=0.01)
    writer.start()
    await writer.flush()
    return writer


async def test_an_outage_delays_fills_but_loses_none(
    down: tuple[Database, _Outage], caplog: pytest.LogCaptureFixture
) -> None:
    db, outage = down
    writer = await _started(db)
    await outage.begin()
    with caplog.at_level(logging.WARNING, logger="tui_bot.store.writer"):
        for op in _round_trip():
            writer.enqueue(op)
        flushed = asyncio.create_task(writer.flush())
        await asyncio.sleep(0.6)
        assert not flushed.done()
        assert writer.stalled and writer.stalled_since is not None and writer.retries >= 1
        assert (writer.pending, writer.errors) == (3, 0)
        assert writer.stall_error and "\n" not in writer.stall_error  # one line for the health line and alerts
        await outage.end()
        await asyncio.wait_for(flushed, 10)
        assert await exec_ids(db) == {"x1", "x2", "x3"}
    assert (writer.written, writer.errors, writer.pending, writer.stalled) == (3, 0, 0, False)
    assert caplog.text.count("store writes are failing") == 1
    assert "store writes recovered" in caplog.text
    closed, opened = sorted(await load_trades(db), key=lambda t: t.status)
    assert (closed.status, closed.qty, closed.pnl) == ("closed", D(1), D("9.8"))
    assert (opened.status, opened.qty) == ("open", D(2))
    await writer.stop()


async def test_a_bad_op_is_still_dropped_alone_when_the_outage_ends(
    down: tuple[Database, _Outage], caplog: pytest.LogCaptureFixture
) -> None:
    db, outage = down
    writer = await _started(db)
    orphan = RecommendationRow(
        "r9", "no-such-cycle", "BTCUSDT", Side.BUY, D(1), D(1), D(1), D(1), None, "s", "1", "", "pending", 1, 1
    )
    await outage.begin()
    ops = _round_trip()
    ops.insert(1, SaveRecommendation(orphan))
    with caplog.at_level(logging.ERROR, logger="tui_bot.store.writer"):
        for op in ops:
            writer.enqueue(op)
        ending = asyncio.create_task(_later(0.3, outage.end()))
        await asyncio.wait_for(writer.flush(), 10)
        await ending
    assert (writer.written, writer.errors) == (3, 1)
    assert "SaveRecommendation" in caplog.text
    assert await exec_ids(db) == {"x1", "x2", "x3"}
    await writer.stop()


async def test_a_full_database_delays_writes_until_there_is_room(
    fast_conn: Database, other: sqlite3.Connection
) -> None:
    writer = await _started(fast_conn)
    limit = {"pages": (await fast_conn.fetch("PRAGMA page_count"))[0][0]}

    @event.listens_for(fast_conn.writes, "checkout")
    def _cap(dbapi_connection: Any, *_: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {limit['pages']}")
        cursor.close()

    for n in range(300):
        writer.enqueue(RecordExecution(fill(f"f{n}", Side.BUY, "1", "100", symbol=f"S{n}USDT")))
    flushed = asyncio.create_task(writer.flush())
    await asyncio.sleep(0.4)
    assert not flushed.done()
    assert writer.stalled and "full" in (writer.stall_error or "")
    limit["pages"] = 1073741823
    await asyncio.wait_for(flushed, 5)
    assert len(_stored_exec_ids(other)) == 300
    assert (writer.errors, writer.stalled) == (0, False)
    await writer.stop()


async def test_stop_during_an_outage_that_never_ends_gives_up_in_time_and_says_what_was_lost(
    down: tuple[Database, _Outage], caplog: pytest.LogCaptureFixture
) -> None:
    db, outage = down
    writer = await _started(db)
    writer.stop_grace = 0.5
    await outage.begin()
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
    await outage.end()
    assert await exec_ids(db) == set()


async def test_a_writer_that_cannot_rebuild_its_ledger_keeps_ops_queued_and_starts_once_the_row_is_fixed(
    fast_conn: Database, other: sqlite3.Connection, caplog: pytest.LogCaptureFixture
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
