"""PostgreSQL stopped (pg_ctl stop -m fast) and restarted while the writer is busy: no op lost, no row twice."""

from __future__ import annotations

import asyncio
import logging

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from tests.pg_server import PgServer
from tests.store.factories import D, fill
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Position
from tui_bot.store.booking import rebuild_ledger
from tui_bot.store.db import open_database
from tui_bot.store.ops import RecordExecution, SnapshotPosition
from tui_bot.store.repos import count, load_trades
from tui_bot.store.writer import StoreWriter

FILLS = 300
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


async def _feed(writer: StoreWriter, start: int, stop: int) -> None:
    """Fills (each sent twice, as a reseed would) and a position snapshot per fill, a few every millisecond."""
    for i in range(start, stop):
        side = (Side.BUY, Side.BUY, Side.SELL)[i // 3 % 3]
        execution = fill(f"f{i}", side, "1", str(100 + i % 7), fee="0.01", symbol=SYMBOLS[i % 3], exec_time=i)
        writer.enqueue(RecordExecution(execution))
        writer.enqueue(RecordExecution(execution))
        writer.enqueue(SnapshotPosition(Position(SYMBOLS[i % 3], side, D(1), D(100)), f"after f{i}", i))
        if i % 4 == 0:
            await asyncio.sleep(0.002)


async def test_a_postgresql_restart_mid_run_loses_nothing_and_duplicates_nothing(
    pg_server: PgServer, caplog: pytest.LogCaptureFixture
) -> None:
    db = await open_database(pg_server.socket_url(pg_server.create_database()))
    writer = StoreWriter(db, batch_size=40, flush_interval=0.002)
    writer.start()
    with caplog.at_level(logging.WARNING, logger="tui_bot.store.writer"):
        feeding = asyncio.create_task(_feed(writer, 0, FILLS // 2))
        while writer.written < 60:
            await asyncio.sleep(0.002)
        stopping = asyncio.create_task(asyncio.to_thread(pg_server.stop, "fast"))  # while batches are in flight
        try:
            await feeding
            await stopping
            await _feed(writer, FILLS // 2, FILLS)  # queued through the outage
            while not writer.stalled:
                await asyncio.sleep(0.005)
            assert writer.pending > 0
        finally:
            await asyncio.to_thread(pg_server.start)
        await asyncio.wait_for(writer.flush(), 30)
    assert (writer.errors, writer.stalled, writer.pending) == (0, False, 0)
    assert "store writes are failing" in caplog.text and "store writes recovered" in caplog.text
    rows = await db.fetch("SELECT exec_id, COUNT(*) FROM executions GROUP BY exec_id")
    assert len(rows) == FILLS and {n for _, n in rows} == {1}
    assert await count(db, "position_snapshots") == FILLS
    stored_open = sorted(await load_trades(db, "open"), key=lambda t: t.symbol)
    assert writer.ledger is not None and writer.ledger.open_trades() == stored_open
    assert (await rebuild_ledger(db)).open_trades() == stored_open
    await writer.stop()
    await db.close()


async def test_a_commit_whose_answer_is_lost_is_booked_from_what_was_stored(pg_server: PgServer) -> None:
    """The server commits, the connection dies before the client hears it: the retry must not book blind."""
    db = await open_database(pg_server.socket_url(pg_server.create_database()))
    lost = [True]

    @event.listens_for(db.writes, "commit")
    def _commit_then_lose_the_answer(conn: Connection) -> None:
        if lost.pop() if lost else False:
            conn.connection.dbapi_connection.commit()
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    writer = StoreWriter(db, flush_interval=0.001)
    writer.start()
    writer.enqueue(RecordExecution(fill("in", Side.BUY, "1", "100", fee="0.1")))
    await writer.flush()
    assert lost == [] and writer.retries == 1
    writer.enqueue(RecordExecution(fill("out", Side.SELL, "1", "110", fee="0.1", closed_size="1")))
    await writer.flush()
    [trade] = await load_trades(db)
    assert (trade.open_exec_id, trade.status, trade.pnl) == ("in", "closed", D("9.8"))
    assert writer.ledger is not None and writer.ledger.open_trades() == []
    await writer.stop()
    await db.close()
