"""Copying the whole history from one store to another (SQLite <-> PostgreSQL): idempotent, resumable, verified.

Every table of the schema is copied the same way, in foreign-key order, in batches ordered by primary key:
rows the target already holds are skipped, the others inserted one transaction per batch, so a copy that
was interrupted continues where it stopped when run again. A target holding any row the source does not
hold (or holds differently) is refused before anything is written. The end compares row counts and the
exact Decimal sums of every money column on both sides.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, func, insert, inspect, select, tuple_

from tui_bot.store.db import Database
from tui_bot.store.dialect import Money, advance_row_ids
from tui_bot.store.schema import metadata

DEFAULT_BATCH = 1000
_SUM_PRECISION = 100  # digits: sums of money columns never round

Key = tuple[Any, ...]


class CopyError(Exception):
    """The copy cannot go on or did not verify; the message is one line."""


@dataclass(frozen=True, slots=True)
class BatchCopied:
    """One batch of a table's source rows: how many were inserted into the target and how many it already held."""

    table: str
    copied: int
    present: int


@dataclass(frozen=True, slots=True)
class TableTotals:
    """A table's row count and the exact sum of each of its money columns."""

    table: str
    rows: int
    sums: Mapping[str, Decimal]


def _tables() -> list[Table]:
    """The schema's tables, each after the tables its foreign keys name."""
    return list(metadata.sorted_tables)


def _key_columns(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def _key_of(row: Mapping[str, Any], table: Table) -> Key:
    return tuple(row[column.name] for column in _key_columns(table))


def _key_expr(table: Table) -> ColumnElement[Any]:
    columns = _key_columns(table)
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _key_value(key: Key) -> Any:
    return key[0] if len(key) == 1 else tuple_(*key)


async def _pages(db: Database, table: Table, batch: int) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of table in primary-key order, batch rows at a time (keyset paging: no OFFSET rescans)."""
    last: Key | None = None
    while True:
        query = select(table).order_by(*_key_columns(table)).limit(batch)
        if last is not None:
            query = query.where(_key_expr(table) > _key_value(last))
        async with db.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = _key_of(rows[-1], table)


async def _rows_by_key(db: Database, table: Table, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    """The rows of table in db with one of keys, by key."""
    query = select(table).where(_key_expr(table).in_([_key_value(key) for key in keys]))
    async with db.connect() as conn:
        rows = [dict(row._mapping) for row in await conn.execute(query)]
    return {_key_of(row, table): row for row in rows}


async def refuse_conflicts(source: Database, target: Database, batch: int = DEFAULT_BATCH) -> None:
    """Raise CopyError when the target holds a row the source does not hold exactly so (nothing is written)."""
    for table in _tables():
        async for rows in _pages(target, table, batch):
            known = await _rows_by_key(source, table, [_key_of(row, table) for row in rows])
            for row in rows:
                key = _key_of(row, table)
                if known.get(key) != row:
                    what = "holds differently" if key in known else "does not hold"
                    raise CopyError(
                        f"target {target.url} already has rows the source {what} (table {table.name}, "
                        f"key {', '.join(map(str, key))}); refusing to copy into it"
                    )


async def copy_batches(source: Database, target: Database, batch: int = DEFAULT_BATCH) -> AsyncGenerator[BatchCopied]:
    """Copy every table's rows the target lacks, one committed transaction per batch; yield each batch's counts."""
    for table in _tables():
        yield BatchCopied(table.name, 0, 0)  # every table is named, an empty one too
        async for rows in _pages(source, table, batch):
            present = await _rows_by_key(target, table, [_key_of(row, table) for row in rows])
            missing = [row for row in rows if _key_of(row, table) not in present]
            if missing:
                async with target.connect_for_writes() as conn, conn.begin():
                    await conn.execute(insert(table), missing)
            yield BatchCopied(table.name, len(missing), len(rows) - len(missing))
        async with target.connect_for_writes() as conn, conn.begin():
            await advance_row_ids(conn, table)


async def table_totals(db: Database, batch: int = DEFAULT_BATCH) -> list[TableTotals]:
    """Every table's row count and exact money sums (summed here: SQLite's SUM of TEXT decimals is a float)."""
    totals = []
    for table in _tables():
        money = [column.name for column in table.columns if isinstance(column.type, Money)]
        rows = 0
        with localcontext() as context:
            context.prec = _SUM_PRECISION
            sums = dict.fromkeys(money, Decimal(0))
            async for page in _pages(db, table, batch):
                rows += len(page)
                for row in page:
                    for name in money:
                        sums[name] += row[name] or 0
        totals.append(TableTotals(table.name, rows, sums))
    return totals


async def verify(source: Database, target: Database, batch: int = DEFAULT_BATCH) -> list[TableTotals]:
    """The source's totals, after checking the target's are the same (CopyError naming the first difference)."""
    theirs = await table_totals(target, batch)
    ours = await table_totals(source, batch)
    for mine, copied in zip(ours, theirs, strict=True):
        if mine.rows != copied.rows:
            raise CopyError(
                f"verification failed: {mine.table} has {mine.rows} rows in the source, {copied.rows} copied"
            )
        for name, total in mine.sums.items():
            if copied.sums[name] != total:
                raise CopyError(
                    f"verification failed: {mine.table}.{name} sums to {total} in the source, "
                    f"to {copied.sums[name]} in the copy"
                )
    return ours


async def row_counts(db: Database) -> dict[str, int]:
    """The row count of each of the schema's tables the database has (an older schema may lack some)."""
    async with db.connect() as conn:
        present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        counts = {}
        for table in _tables():
            if table.name in present:
                counts[table.name] = int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
    return counts
