"""Opening the database named by a URL (sqlite:///path or postgresql://user@host:port/db): engine, setup, migrations."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Row, create_engine, make_url, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tui_bot.store.dialect import (
    ASYNC_DRIVERS,
    WRITE,
    blocking_url,
    configure,
    enable_wal,
    engine_options,
    error_text,
    is_transient,
)
from tui_bot.store.migrate import MIGRATIONS, SCHEMA_VERSION, SchemaError, migrate, schema_version

__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "DatabaseUrlError",
    "SchemaError",
    "StoreOpenError",
    "database_url",
    "open_database",
    "redacted",
    "sqlite_file",
]

log = logging.getLogger(__name__)

_POSTGRESQL_FORM = "postgresql://USER@HOST:PORT/DATABASE"
# How long to keep retrying the WAL switch while another connection holds a lock it needs.
_WAL_RETRY_SECONDS = 5.0


class StoreOpenError(Exception):
    """The database cannot be opened; the message is one line naming it, never with a password."""


class DatabaseUrlError(StoreOpenError, ValueError):
    """The storage URL cannot name a database this program opens."""


@dataclass(frozen=True, slots=True)
class Database:
    """An open store: the async engine readers use, the engine the writer's thread commits through (both pools
    of connections to the same database), and the URL it was opened with (password hidden)."""

    engine: AsyncEngine
    writes: Engine
    url: str

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    def connect(self) -> AsyncConnection:
        """A pooled connection (use as `async with`)."""
        return self.engine.connect()

    def connect_for_writes(self) -> AsyncConnection:
        """A pooled connection whose transactions take the write lock at BEGIN (SQLite) (use as `async with`)."""
        return self.engine.execution_options(**{WRITE: True}).connect()

    def connect_writer(self) -> Connection:
        """A blocking pooled connection for the writer's thread, taking the write lock at BEGIN (SQLite)."""
        return self.writes.execution_options(**{WRITE: True}).connect()

    async def fetch(self, sql: str, params: Mapping[str, object] | None = None) -> Sequence[Row[Any]]:
        """The rows of one read-only SQL statement (named :params)."""
        async with self.connect() as conn:
            return (await conn.execute(text(sql), dict(params or {}))).all()

    async def version(self) -> int:
        """The schema version stamped in the database."""
        async with self.connect() as conn:
            return await conn.run_sync(schema_version)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        self.writes.dispose()


def database_url(target: str | Path) -> URL:
    """The SQLAlchemy URL of target: a storage URL, or a plain path meaning an SQLite file."""
    if isinstance(target, Path) or "://" not in target:
        return URL.create(ASYNC_DRIVERS["sqlite"], database=str(target))
    try:
        url = make_url(target)
    except (ArgumentError, ValueError):  # a malformed URL, or a port that is no number
        raise DatabaseUrlError(f"not a database URL: use sqlite:///PATH or {_POSTGRESQL_FORM}") from None
    backend, shown = url.get_backend_name(), url.render_as_string(hide_password=True)
    if url.drivername not in (*ASYNC_DRIVERS, *ASYNC_DRIVERS.values()):
        raise DatabaseUrlError(f"unsupported database URL {shown}: use sqlite:///PATH or postgresql://...")
    if backend == "sqlite" and not url.database:
        raise DatabaseUrlError(f"{shown} names no file: use sqlite:///PATH")
    if backend == "postgresql" and not url.database:
        raise DatabaseUrlError(f"{shown} names no database: use {_POSTGRESQL_FORM}")
    return url.set(drivername=ASYNC_DRIVERS[backend])


def sqlite_file(target: str | Path) -> Path | None:
    """The file an SQLite target names (None for PostgreSQL)."""
    url = database_url(target)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def redacted(target: str | Path | URL) -> str:
    """target as it may be shown: an SQLite file's path, a PostgreSQL URL without its password."""
    try:
        url = target if isinstance(target, URL) else database_url(target)
    except DatabaseUrlError:
        return "(a malformed database URL)"
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


async def open_database(target: str | Path, *, migrations: Path = MIGRATIONS, upgrade: bool = True) -> Database:
    """Open (creating an SQLite file if needed) the database at target, upgraded to the latest schema (as it is
    when not upgrade)."""
    url = database_url(target)
    engine = create_async_engine(url, **engine_options(url.get_backend_name()))
    writes = create_engine(blocking_url(url), **engine_options(url.get_backend_name(), threaded=True))
    configure(engine.sync_engine)
    configure(writes)
    db = Database(engine, writes, redacted(url))
    try:
        async with engine.connect() as conn:
            await _enable_wal(conn, db.url)
        if upgrade:
            async with db.connect_for_writes() as conn:
                await migrate(conn, migrations)
    except DBAPIError as err:  # unreachable, refused, wrong password, no such database, not a database file
        await db.close()
        raise StoreOpenError(f"database {db.url}: {_reason(err, url.password)}") from None
    except BaseException:
        await db.close()
        raise
    return db


def _reason(err: DBAPIError, password: object) -> str:
    """The driver's own message, first line only, with any password in it masked."""
    reason = error_text(err).removeprefix("connection failed: ")
    return reason.replace(str(password), "***") if password else reason


async def _enable_wal(conn: AsyncConnection, name: str) -> None:
    """Switch SQLite to write-ahead logging; warn when the file system (or :memory:) refuses it.

    The switch needs a lock another process opening the same file may hold for a moment, and
    SQLite does not always wait for it, so "database is locked" is retried for a while.
    """
    deadline = time.monotonic() + _WAL_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            mode = await enable_wal(conn)
            break
        except Exception as exc:
            if not is_transient(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.2)
    if mode is not None and mode != "wal":
        log.warning("database %s runs in journal mode %r, not WAL", name, mode)
