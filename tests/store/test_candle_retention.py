"""Candle retention: the store's writer deletes candles older than [storage] candle_retention_days, in batches,
at most every prune_every seconds, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Connection

from tests.store.factories import D
from tests.store.test_operator_queries import _alembic as alembic_to
from tui_bot.config import ConfigError, StorageSettings, load_settings
from tui_bot.domain.models import Kline
from tui_bot.store import schema
from tui_bot.store.db import Database
from tui_bot.store.ops import SetConfig, UpsertCandle
from tui_bot.store.repos import load_candles
from tui_bot.store.writer import DAY_MS, StoreWriter

OLD, RECENT = 25, 20


def _candle(start: int) -> UpsertCandle:
    return UpsertCandle(Kline("BTCUSDT", "1", start, D("100.5"), D("101"), D("99.5"), D("100.25"), confirm=True))


async def _starts(conn: Database) -> list[int]:
    return [k.start for k in await load_candles(conn, "BTCUSDT", "1")]


async def test_old_candles_go_in_batches_recent_ones_stay_and_the_next_prune_waits(conn: Database) -> None:
    now = int(time.time() * 1000)
    old = [now - 40 * DAY_MS + i * 60_000 for i in range(OLD)]
    recent = [now - 29 * DAY_MS + i * 60_000 for i in range(RECENT // 2)] + [now - i * 60_000 for i in range(10)]
    keeper = StoreWriter(conn, flush_interval=0.001)  # no retention: keeps everything
    for start in old + recent:
        keeper.enqueue(_candle(start))
    await keeper.stop()
    assert len(await _starts(conn)) == OLD + RECENT
    deletes: list[str] = []

    @event.listens_for(conn.writes, "before_cursor_execute")
    def _count_deletes(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM CANDLES"):
            deletes.append(statement)

    writer = StoreWriter(conn, flush_interval=0.001, candle_retention_days=30, prune_batch=7, prune_every=600)
    writer.start()
    while writer.pruned < OLD:
        await asyncio.sleep(0.01)
    assert await _starts(conn) == sorted(recent)
    assert len(deletes) == 4  # 7 + 7 + 7 + 4
    writer.enqueue(_candle(now - 31 * DAY_MS))
    await writer.flush()
    writer.enqueue(SetConfig("k", 1))
    await writer.flush()
    assert await _starts(conn) == sorted([now - 31 * DAY_MS, *recent])  # the next prune is not due yet
    assert (len(deletes), writer.pruned, writer.errors) == (4, OLD, 0)
    await writer.stop()


@pytest.mark.parametrize("days", ["0", "-3", '"a month"'])
def test_a_bad_retention_is_one_line_naming_the_key(tmp_path: Path, days: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[storage]\ncandle_retention_days = {days}\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value).count("\n") == 0 and "storage.candle_retention_days" in str(err.value)


def test_retention_defaults_to_30_days() -> None:
    assert StorageSettings().candle_retention_days == 30


def _candle_start_lookup(conn: Connection, cutoff_ms: int) -> tuple[set[str], str]:
    """The indexes on candles, and the plan the database chooses for the prune's search for candles before cutoff_ms
    (a new cutoff each time: SQLite keeps the plan of a statement it has seen)."""
    indexes = {i["name"] or "" for i in inspect(conn).get_indexes("candles")}
    old = select(schema.candles.c.id).where(schema.candles.c.start < cutoff_ms).limit(500)
    query = str(old.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return indexes, " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a few rows: only the index's absence may scan
    return indexes, " ".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {query}"))


async def _lookup(db: Database, cutoff_ms: int) -> tuple[set[str], str]:
    async with db.connect_for_writes() as c, c.begin():
        return await c.run_sync(_candle_start_lookup, cutoff_ms)


async def test_revision_0008_indexes_candle_starts_so_the_prune_does_not_scan(conn: Database) -> None:
    indexes, plan = await _lookup(conn, 1)
    assert "candles_start" in indexes and "candles_start" in plan, plan
    async with conn.connect_for_writes() as c, c.begin():
        await c.run_sync(alembic_to, "downgrade", "0007")
    indexes, plan = await _lookup(conn, 2)
    assert "candles_start" not in indexes and "candles_start" not in plan and "SCAN" in plan.upper(), plan
    async with conn.connect_for_writes() as c, c.begin():
        await c.run_sync(alembic_to, "upgrade", "head")
    assert "candles_start" in (await _lookup(conn, 3))[1]
