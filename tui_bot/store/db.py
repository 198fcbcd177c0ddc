"""Opening the database: connection settings, pragmas and schema migrations."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from tui_bot.store.schema import MIGRATIONS, SCHEMA_VERSION, Migration

__all__ = ["SCHEMA_VERSION", "SchemaError", "migrate", "open_database", "user_version"]

log = logging.getLogger(__name__)

_PRAGMAS = (
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
)


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this program (too new, or a step failed)."""


async def open_database(
    path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS
) -> aiosqlite.Connection:
    """Open (creating if needed) the database at path in WAL mode, upgraded to the latest schema."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await _enable_wal(conn, path)
        for pragma in _PRAGMAS:
            await conn.execute_fetchall(pragma)
        await migrate(conn, migrations)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _enable_wal(conn: aiosqlite.Connection, path: str | Path) -> None:
    """Switch to write-ahead logging; warn when the file system (or :memory:) refuses it."""
    rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
    mode = str(rows[0][0]).lower()
    if mode != "wal":
        log.warning("database %s runs in journal mode %r, not WAL", path, mode)


async def user_version(conn: aiosqlite.Connection) -> int:
    """The schema version stamped in the database."""
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(conn: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every step newer than the database's user_version, each in its own transaction."""
    current = await user_version(conn)
    if current > len(migrations):
        raise SchemaError(
            f"database schema version {current} is newer than this program supports "
            f"({len(migrations)}); upgrade tui-bot or use another database file"
        )
    for version in range(current + 1, len(migrations) + 1):
        await _apply_step(conn, version, migrations[version - 1])
    return len(migrations)


async def _apply_step(conn: aiosqlite.Connection, version: int, step: Migration) -> None:
    """Run one migration step and stamp its version atomically."""
    log.info("migrating database to schema version %d (%s)", version, step.description)
    await conn.execute_fetchall("BEGIN IMMEDIATE")
    try:
        for statement in step.statements:
            await conn.execute_fetchall(statement)
        await conn.execute_fetchall(f"PRAGMA user_version = {int(version)}")
        await conn.execute_fetchall("COMMIT")
    except sqlite3.Error as exc:
        await conn.execute_fetchall("ROLLBACK")
        raise SchemaError(f"migration to version {version} ({step.description}) failed: {exc}") from exc
