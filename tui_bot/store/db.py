"""Opening the database: connection settings, pragmas and schema migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import aiosqlite

from tui_bot.store.schema import MIGRATIONS, SCHEMA_VERSION, Migration

__all__ = ["BUSY_TIMEOUT_MS", "SCHEMA_VERSION", "SchemaError", "migrate", "open_database", "user_version"]

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_PRAGMAS = (
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)
# How long to keep retrying the WAL switch while another connection holds a lock it needs.
_WAL_RETRY_SECONDS = 5.0


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this program (too new, or a step failed)."""


async def open_database(path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> aiosqlite.Connection:
    """Open (creating if needed) the database at path in WAL mode, upgraded to the latest schema."""
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute_fetchall(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        await _enable_wal(conn, path)
        for pragma in _PRAGMAS:
            await conn.execute_fetchall(pragma)
        await migrate(conn, migrations)
    except BaseException:
        await conn.close()
        raise
    return conn


async def _enable_wal(conn: aiosqlite.Connection, path: str | Path) -> None:
    """Switch to write-ahead logging; warn when the file system (or :memory:) refuses it.

    The switch needs a lock another process opening the same file may hold for a moment, and
    SQLite does not always wait for it, so "database is locked" is retried for a while.
    """
    deadline = time.monotonic() + _WAL_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            break
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
    mode = str(rows[0][0]).lower()
    if mode != "wal":
        log.warning("database %s runs in journal mode %r, not WAL", path, mode)


async def user_version(conn: aiosqlite.Connection) -> int:
    """The schema version stamped in the database."""
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether exc says another connection holds a lock we need."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


async def migrate(conn: aiosqlite.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply every step newer than the database's user_version, each in its own transaction.

    Each step takes the write lock first and re-reads user_version under it, so several
    processes opening the same new file at once apply every step exactly once between them.
    """
    _check_not_newer(await user_version(conn), migrations)
    while await user_version(conn) < len(migrations):
        await conn.execute_fetchall("BEGIN IMMEDIATE")
        try:
            current = await user_version(conn)
            _check_not_newer(current, migrations)
        except BaseException:
            await conn.execute_fetchall("ROLLBACK")
            raise
        if current == len(migrations):
            await conn.execute_fetchall("COMMIT")
            break
        await _apply_step(conn, current + 1, migrations[current])
    return len(migrations)


def _check_not_newer(current: int, migrations: Sequence[Migration]) -> None:
    """Refuse a database stamped with a schema newer than this program knows."""
    if current > len(migrations):
        raise SchemaError(
            f"database schema version {current} is newer than this program supports "
            f"({len(migrations)}); upgrade tui-bot or use another database file"
        )


async def _apply_step(conn: aiosqlite.Connection, version: int, step: Migration) -> None:
    """Run one migration step and stamp its version, inside the transaction the caller opened."""
    log.info("migrating database to schema version %d (%s)", version, step.description)
    try:
        for statement in step.statements:
            await conn.execute_fetchall(statement)
        await conn.execute_fetchall(f"PRAGMA user_version = {int(version)}")
        await conn.execute_fetchall("COMMIT")
    except sqlite3.Error as exc:
        await conn.execute_fetchall("ROLLBACK")
        raise SchemaError(f"migration to version {version} ({step.description}) failed: {exc}") from exc
