"""`tui-bot db copy --from URL --to URL` and `tui-bot db check [URL]`: move history between stores, look at one."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from tui_bot.config import Settings
    from tui_bot.store.db import Database

_PROG = "tui-bot db"


class _Failure(Exception):
    """A one-line reason the command failed (exit status 1), or bad input (status 2 when usage is set)."""

    def __init__(self, message: str, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def _batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"expected a number of rows 1-100000, got {text!r}")
    return value


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `db` command with its `copy` and `check` subcommands."""
    db = commands.add_parser("db", parents=[common], help="copy the history between stores, or check one")
    actions = db.add_subparsers(dest="db_command", metavar="{copy,check}", required=True)
    copy = actions.add_parser(
        "copy", parents=[common], help="copy every table (idempotent, resumable, verified) into another store"
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///PATH or postgresql://...")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="sqlite:///PATH or postgresql://...")
    copy.add_argument("--batch", type=_batch, default=1000, help="rows per transaction (default 1000)")
    check = actions.add_parser("check", parents=[common], help="print the schema version and row counts per table")
    check.add_argument("url", nargs="?", help="the store to check (default: --db, else [storage])")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run `db copy` or `db check`; a failure is one line on stderr (status 1, bad input 2), never a traceback."""
    try:
        if args.db_command == "copy":
            return asyncio.run(_copy(args.source, args.target, args.batch, print))
        return asyncio.run(_check(args.url or args.db or settings.storage.target(), print))
    except _Failure as err:
        print(f"{_PROG} {args.db_command}: {err}", file=sys.stderr)
        return 2 if err.usage else 1
    except KeyboardInterrupt:
        print(f"{_PROG} {args.db_command}: interrupted; run it again to continue", file=sys.stderr)
        return 130


async def _open(target: str | Path, *, upgrade: bool, create: bool = False) -> Database:
    """The store at target (an SQLite file must exist unless create: a source or a checked store is never made)."""
    from tui_bot.store.db import DatabaseUrlError, SchemaError, StoreOpenError, open_database, redacted, sqlite_file

    try:
        path = sqlite_file(target)
        if path is not None and not path.is_file() and not (create and path.parent.is_dir()):
            raise _Failure(f"{redacted(target)}: no such database file", usage=True)
        return await open_database(target, upgrade=upgrade)
    except DatabaseUrlError as err:
        raise _Failure(str(err), usage=True) from None
    except (StoreOpenError, SchemaError) as err:
        raise _Failure(str(err)) from None


async def _copy(source_url: str, target_url: str, batch: int, say: Callable[[str], object]) -> int:
    """Open both stores (the target created and migrated if need be), refuse conflicts, copy, verify."""
    from tui_bot.store.db import SCHEMA_VERSION, redacted
    from tui_bot.store.dialect import error_text

    if redacted(source_url) == redacted(target_url):
        raise _Failure("--from and --to name the same database", usage=True)
    source = await _open(source_url, upgrade=True)
    try:
        target = await _open(target_url, upgrade=True, create=True)
        try:
            say(f"copying {source.url} -> {target.url} (schema version {SCHEMA_VERSION})")
            await _copy_open(source, target, batch, say)
        finally:
            await target.close()
    except (DBAPIError, OSError) as err:
        raise _Failure(f"{error_text(err)} (run the same command again to continue the copy)") from None
    finally:
        await source.close()
    return 0


async def _copy_open(source: Database, target: Database, batch: int, say: Callable[[str], object]) -> None:
    from tui_bot.store.copy import CopyError, copy_batches, refuse_conflicts, verify

    try:
        await refuse_conflicts(source, target, batch)
        counts: dict[str, list[int]] = {}
        async for step in copy_batches(source, target, batch):
            if counts and step.table not in counts:
                _say_table(say, *next(reversed(counts.items())))
            done = counts.setdefault(step.table, [0, 0])
            done[0] += step.copied
            done[1] += step.present
        if counts:
            _say_table(say, *next(reversed(counts.items())))
        totals = await verify(source, target, batch)
    except CopyError as err:
        raise _Failure(str(err)) from None
    rows = sum(total.rows for total in totals)
    say(f"verified: {len(totals)} tables, {rows} rows; row counts and money sums equal on both sides")


def _say_table(say: Callable[[str], object], table: str, done: list[int]) -> None:
    say(f"  {table:<22} {done[0]:>9} copied {done[1]:>9} already there")


async def _check(target: str | Path, say: Callable[[str], object]) -> int:
    """Print the store, its schema version and the row count of each table."""
    from tui_bot.store.copy import row_counts
    from tui_bot.store.db import SCHEMA_VERSION, SchemaError
    from tui_bot.store.dialect import error_text

    db = await _open(target, upgrade=False)
    try:
        version = await db.version()
        counts = await row_counts(db)
    except SchemaError as err:
        raise _Failure(str(err)) from None
    except (DBAPIError, OSError) as err:
        raise _Failure(f"database {db.url}: {error_text(err)}") from None
    finally:
        await db.close()
    note = "" if version == SCHEMA_VERSION else " (opening it with tui-bot upgrades it)"
    say(f"database {db.url} ({db.backend})")
    say(f"schema version {version} of {SCHEMA_VERSION}{note}")
    for table, rows in counts.items():
        say(f"  {table:<22} {rows:>9}")
    return 0
