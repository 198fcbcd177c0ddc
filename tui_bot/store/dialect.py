"""Everything that differs between SQLite and PostgreSQL: types, inserts, locks, connect-time setup, transient errors.

The rest of the store writes dialect-neutral SQLAlchemy Core and asks this module whenever the two differ.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Numeric, Table, Text, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

SQLITE_BUSY_TIMEOUT_MS = 5000
_SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)
WRITE = "tui_bot_write"
"""Execution option: the transaction writes (SQLite takes the write lock at BEGIN, so it never has to upgrade)."""
_MIGRATION_LOCK_KEY = 7_305_112_017  # any constant: PostgreSQL's advisory lock that serialises schema upgrades

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
"""The SQLAlchemy driver readers use, by backend."""

ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
"""An auto-numbered key: BIGINT on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite."""


class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC on PostgreSQL, TEXT holding str(Decimal) on SQLite; always read back as Decimal."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return number if dialect.name == "postgresql" else str(number)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def _insert(dialect: str) -> Callable[[Table], Insert]:
    """The INSERT construct of the dialect (both spell ON CONFLICT the same way)."""
    if dialect == "postgresql":
        return postgresql.insert
    return sqlite.insert


def insert_or_ignore(dialect: str, table: Table, conflict: Sequence[str]) -> Insert:
    """INSERT that does nothing when a row with the same conflict key exists."""
    return _insert(dialect)(table).on_conflict_do_nothing(index_elements=list(conflict))  # type: ignore[attr-defined]


def upsert(
    dialect: str,
    table: Table,
    columns: Sequence[str],
    conflict: Sequence[str],
    where: Callable[[Any], ColumnElement[bool]] | None = None,
) -> Insert:
    """INSERT that updates every non-key column on a key conflict (only when where(excluded) holds, if given)."""
    stmt = _insert(dialect)(table)
    excluded = stmt.excluded  # type: ignore[attr-defined]
    updates: Mapping[str, Any] = {c: excluded[c] for c in columns if c not in conflict}
    return stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=list(conflict), set_=updates, where=None if where is None else where(excluded)
    )


class _BinaryOrder(ColumnElement[str]):
    """A text column compared by code point."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[str]) -> None:
        self.column = column
        self.type = column.type


@compiles(_BinaryOrder)
def _binary_order_sqlite(element: _BinaryOrder, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))  # SQLite's default collation is BINARY


@compiles(_BinaryOrder, "postgresql")
def _binary_order_postgresql(element: _BinaryOrder, compiler: Any, **kw: Any) -> str:
    return f'{compiler.process(element.column, **kw)} COLLATE "C"'


def binary_order(column: ColumnElement[str]) -> ColumnElement[str]:
    """column sorted by code point, as Python sorts str (PostgreSQL's default collation does not)."""
    return _BinaryOrder(column)


def blocking_url(url: URL) -> URL:
    """url with the blocking driver of its backend (the writer commits from its own thread, one hop per batch)."""
    return url.set(drivername="sqlite+pysqlite") if url.get_backend_name() == "sqlite" else url


def engine_options(backend: str, *, threaded: bool = False) -> dict[str, Any]:
    """Engine options: a pool that notices dead PostgreSQL connections; SQLite connections usable from the
    writer's thread (threaded) and closable from the loop's."""
    if backend == "postgresql":
        return {"pool_pre_ping": True, "pool_size": 4, "max_overflow": 4, "connect_args": {"connect_timeout": 10}}
    return {"connect_args": {"check_same_thread": False}} if threaded else {}


def configure(sync: Engine) -> None:
    """Connect-time setup: SQLite's pragmas and explicit BEGIN (IMMEDIATE for writes); nothing for PostgreSQL."""
    if sync.dialect.name != "sqlite":
        return

    @event.listens_for(sync, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN handling is off: ours below
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


async def enable_wal(conn: AsyncConnection) -> str | None:
    """Switch SQLite to write-ahead logging (outside a transaction); the journal mode it got, None on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        return None
    driver = await conn.get_raw_connection()
    return str((await driver.driver_connection.execute_fetchall("PRAGMA journal_mode = WAL"))[0][0]).lower()  # type: ignore[union-attr]


async def lock_schema(conn: AsyncConnection) -> None:
    """Hold the schema lock for the rest of conn's transaction (SQLite: its BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


async def advance_row_ids(conn: AsyncConnection, table: Table) -> None:
    """After rows were inserted with their own auto-numbered keys, make the next key follow the largest (PostgreSQL's
    sequence does not see such inserts; SQLite numbers from the largest rowid anyway)."""
    column = table.autoincrement_column
    if conn.dialect.name != "postgresql" or column is None:
        return
    sql = f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({column.name}), 0) + 1, false)"
    await conn.execute(text(f"{sql} FROM {table.name}"), {"table": table.name, "column": column.name})


def legacy_version(conn: Connection) -> int:
    """The schema version an SQLite file made before alembic stamped (PRAGMA user_version); 0 elsewhere."""
    if conn.dialect.name != "sqlite":
        return 0
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def stamp_legacy_version(conn: Connection, version: int) -> None:
    """Keep SQLite's user_version equal to the schema version, so an older tui-bot refuses a newer file."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")


# SQLite primary result codes that mean "try again later", not "this op is bad".
_SQLITE_TRANSIENT_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)
_SQLITE_TRANSIENT_WORDS = ("database is locked", "database is busy", "disk i/o error", "database or disk is full")
# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, shutdowns, too many connections.
_PG_TRANSIENT_STATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})


def is_transient(exc: BaseException) -> bool:
    """Whether exc is a passing condition of the database (locked, busy, full, restarting, connection lost)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(orig, sqlite3.OperationalError):
        return _sqlite_transient(orig)
    return _pg_transient(orig)


def error_text(exc: BaseException) -> str:
    """The driver's own message about exc, first line only (SQLAlchemy appends the SQL and a link)."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def may_have_committed(exc: BaseException) -> bool:
    """Whether the connection died around a COMMIT, so the server may have committed what the client rolled back."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(orig, sqlite3.Error):
        return False
    state = getattr(orig, "sqlstate", None)
    return _pg_transient(orig) and (state is None or state.startswith(("08", "57P")))


def _sqlite_transient(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in _SQLITE_TRANSIENT_CODES:
        return True
    message = str(exc).lower()
    return any(words in message for words in _SQLITE_TRANSIENT_WORDS)


def _pg_transient(exc: BaseException) -> bool:
    import psycopg

    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:  # no server answer: refused, reset, closed
        return isinstance(exc, psycopg.OperationalError)
    return state in _PG_TRANSIENT_STATES or state.startswith("08")
