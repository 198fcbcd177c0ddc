"""Opening the database: pragmas, migrations by user_version, refusing newer schemas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from tui_bot.store.db import SCHEMA_VERSION, SchemaError, migrate, open_database, user_version
from tui_bot.store.repos import count, get_config
from tui_bot.store.schema import MIGRATIONS, TABLES, Migration


async def _names(conn: aiosqlite.Connection, kind: str) -> set[str]:
    rows = await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {row[0] for row in rows}


async def test_empty_file_is_migrated_to_the_latest_version(db_path: Path) -> None:
    conn = await open_database(db_path)
    try:
        assert await user_version(conn) == SCHEMA_VERSION == len(MIGRATIONS)
        assert set(TABLES) <= await _names(conn, "table")
        assert "executions_symbol_time" in await _names(conn, "index")
        assert all([await count(conn, table) == 0 for table in TABLES])
    finally:
        await conn.close()


async def test_pragmas_wal_normal_sync_and_foreign_keys(conn: aiosqlite.Connection) -> None:
    async def pragma(name: str) -> object:
        return list(await conn.execute_fetchall(f"PRAGMA {name}"))[0][0]

    assert await pragma("journal_mode") == "wal"
    assert await pragma("synchronous") == 1
    assert await pragma("foreign_keys") == 1


async def test_older_database_is_upgraded_and_keeps_its_rows(db_path: Path) -> None:
    old = await aiosqlite.connect(db_path, isolation_level=None)
    assert await migrate(old, MIGRATIONS[:1]) == 1
    await old.execute_fetchall("INSERT INTO config VALUES ('theme', '\"dark\"', 1)")
    await old.close()

    conn = await open_database(db_path)
    try:
        assert await user_version(conn) == SCHEMA_VERSION
        assert "trades_status" in await _names(conn, "index")
        assert await get_config(conn) == {"theme": "dark"}
    finally:
        await conn.close()


async def test_reopening_a_current_database_changes_nothing(db_path: Path) -> None:
    for _ in range(2):
        conn = await open_database(db_path)
        assert await user_version(conn) == SCHEMA_VERSION
        await conn.close()


async def test_a_new_step_is_applied_on_top(db_path: Path) -> None:
    await (await open_database(db_path)).close()
    step = Migration("config notes", ("ALTER TABLE config ADD COLUMN note TEXT",))
    conn = await open_database(db_path, migrations=[*MIGRATIONS, step])
    try:
        assert await user_version(conn) == SCHEMA_VERSION + 1
        columns = {row[1] for row in await conn.execute_fetchall("PRAGMA table_info(config)")}
        assert "note" in columns
    finally:
        await conn.close()


async def test_newer_database_is_refused_with_a_clear_error(db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match=rf"version {SCHEMA_VERSION + 1} is newer .* \({SCHEMA_VERSION}\)"):
        await open_database(db_path)


async def test_failed_step_rolls_back_and_keeps_the_old_version(db_path: Path) -> None:
    await (await open_database(db_path)).close()
    step = Migration("broken", ("CREATE TABLE half_done (a INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(SchemaError, match=rf"migration to version {SCHEMA_VERSION + 1} \(broken\) failed"):
        await open_database(db_path, migrations=[*MIGRATIONS, step])
    conn = await open_database(db_path)
    try:
        assert await user_version(conn) == SCHEMA_VERSION
        assert "half_done" not in await _names(conn, "table")
    finally:
        await conn.close()


async def test_count_rejects_unknown_tables(conn: aiosqlite.Connection) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        await count(conn, "sqlite_master; DROP TABLE trades")
