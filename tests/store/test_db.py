"""Opening the database: SQLite's pragmas, alembic migrations on both backends, files made before alembic."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tests.store.legacy_schema import MIGRATIONS as LEGACY_STEPS
from tests.store.legacy_schema import create_legacy_database
from tui_bot.store.db import SCHEMA_VERSION, Database, SchemaError, open_database
from tui_bot.store.migrate import MIGRATIONS
from tui_bot.store.repos import count, get_config
from tui_bot.store.schema import TABLES, metadata


def _names(conn: Connection) -> tuple[set[str], set[str]]:
    """The tables and the indexes of the database."""
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    return tables, {index["name"] for table in tables for index in inspector.get_indexes(table) if index["name"]}


async def _schema(db: Database) -> tuple[set[str], set[str]]:
    async with db.connect() as conn:
        return await conn.run_sync(_names)


async def test_an_empty_database_is_migrated_to_the_latest_version(conn: Database) -> None:
    assert await conn.version() == SCHEMA_VERSION >= len(LEGACY_STEPS)
    tables, indexes = await _schema(conn)
    assert set(TABLES) <= tables
    assert "executions_symbol_time" in indexes
    assert all([await count(conn, table) == 0 for table in TABLES])


def _differences(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), metadata))


async def test_the_migrations_build_exactly_the_tables_schema_defines(conn: Database) -> None:
    async with conn.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_pragmas_wal_normal_sync_and_foreign_keys(db_path: Path) -> None:
    db = await open_database(db_path)
    try:
        assert [tuple(row) for row in await db.fetch("PRAGMA journal_mode")] == [("wal",)]
        assert [tuple(row) for row in await db.fetch("PRAGMA synchronous")] == [(1,)]
        assert [tuple(row) for row in await db.fetch("PRAGMA foreign_keys")] == [(1,)]
        assert [tuple(row) for row in await db.fetch("PRAGMA user_version")] == [(SCHEMA_VERSION,)]
    finally:
        await db.close()


async def test_a_version_1_file_is_upgraded_and_keeps_its_rows(db_path: Path) -> None:
    with create_legacy_database(db_path, 1) as old:
        old.execute("INSERT INTO config VALUES ('theme', '\"dark\"', 1)")
    db = await open_database(db_path)
    try:
        assert await db.version() == SCHEMA_VERSION
        assert "trades_status" in (await _schema(db))[1]
        assert await get_config(db) == {"theme": "dark"}
    finally:
        await db.close()


async def test_reopening_a_current_database_changes_nothing(db_url: str) -> None:
    for _ in range(2):
        db = await open_database(db_url)
        assert await db.version() == SCHEMA_VERSION
        await db.close()


def _scripts_with(tmp_path: Path, body: str) -> Path:
    """A copy of the store's migrations with one more revision whose upgrade() runs body."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = f"{SCHEMA_VERSION:04d}"
    (scripts / "versions" / "9999_extra.py").write_text(
        f'import sqlalchemy as sa\nfrom alembic import op\nrevision = "9999"\ndown_revision = "{head}"\n'
        f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n{body}\n"
    )
    return scripts


async def test_a_new_step_is_applied_on_top(db_url: str, tmp_path: Path) -> None:
    await (await open_database(db_url)).close()
    scripts = _scripts_with(tmp_path, '    op.add_column("config", sa.Column("note", sa.Text()))')
    db = await open_database(db_url, migrations=scripts)
    try:
        async with db.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("config")})
        assert "note" in columns
    finally:
        await db.close()
    with pytest.raises(SchemaError, match=r"revision 9999 is newer than this program supports"):
        await open_database(db_url)


async def test_a_newer_pre_alembic_file_is_refused_with_a_clear_error(db_path: Path) -> None:
    create_legacy_database(db_path, 0).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match=rf"version {SCHEMA_VERSION + 1} is newer .* \(version {SCHEMA_VERSION}\)"):
        await open_database(db_path)


async def test_a_failed_step_rolls_back_and_keeps_the_old_version(db_url: str, tmp_path: Path) -> None:
    await (await open_database(db_url)).close()
    scripts = _scripts_with(tmp_path, '    op.execute("CREATE TABLE half_done (a INTEGER)")\n    op.execute("NOT SQL")')
    with pytest.raises(SchemaError, match=rf"migration from schema version {SCHEMA_VERSION} to .* failed") as err:
        await open_database(db_url, migrations=scripts)
    assert "\n" not in str(err.value)  # the driver's line, not the SQL
    db = await open_database(db_url)
    try:
        assert await db.version() == SCHEMA_VERSION
        assert "half_done" not in (await _schema(db))[0]
    finally:
        await db.close()


async def test_count_rejects_unknown_tables(conn: Database) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        await count(conn, "sqlite_master; DROP TABLE trades")
