"""Schema upgrades: the alembic revisions in store/migrations, run in-process under a lock, no alembic.ini needed.

Alembic keeps one migration history for both backends (batch mode covers SQLite's ALTER limits). Revision N
is the schema an SQLite file made before alembic marked with PRAGMA user_version N, so such a file is
stamped at its revision and upgraded from there.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from tui_bot.store.dialect import error_text, legacy_version, lock_schema, stamp_legacy_version

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
"""The alembic script directory of the store's schema."""


class SchemaError(RuntimeError):
    """The database's schema cannot be used by this program (too new, or a step failed)."""


def _config(scripts: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config


@cache
def revisions(scripts: Path = MIGRATIONS) -> tuple[str, ...]:
    """Every revision id of scripts, oldest first."""
    walked = ScriptDirectory.from_config(_config(scripts)).walk_revisions()
    return tuple(script.revision for script in reversed(list(walked)))


SCHEMA_VERSION = len(revisions())


def schema_version(conn: Connection, scripts: Path = MIGRATIONS) -> int:
    """The schema version of the database (0 for an empty one): its revision's place in the history."""
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        return legacy_version(conn)
    known = revisions(scripts)
    if current not in known:
        raise SchemaError(_too_new(f"revision {current}", len(known)))
    return known.index(current) + 1


async def migrate(conn: AsyncConnection, scripts: Path = MIGRATIONS) -> int:
    """Bring the database to the latest schema in one locked transaction (one process at a time does it)."""
    async with conn.begin():
        await lock_schema(conn)
        await conn.run_sync(_upgrade, scripts)
    return len(revisions(scripts))


def _upgrade(conn: Connection, scripts: Path) -> None:
    """Stamp a pre-alembic SQLite file at its revision, then apply every newer revision."""
    known = revisions(scripts)
    stamped = MigrationContext.configure(conn).get_current_revision() is not None
    current = schema_version(conn, scripts)
    if current > len(known):
        raise SchemaError(_too_new(f"version {current}", len(known)))
    if current == len(known) and stamped:
        return
    config = _config(scripts, conn)
    if current and not stamped:
        command.stamp(config, known[current - 1])
    log.info("migrating database from schema version %d to %d", current, len(known))
    try:
        command.upgrade(config, "head")
    except SQLAlchemyError as err:
        raise SchemaError(f"migration from schema version {current} to {len(known)} failed: {error_text(err)}") from err
    stamp_legacy_version(conn, len(known))


def _too_new(version: str, supported: int) -> str:
    return (
        f"database schema {version} is newer than this program supports (version {supported}); "
        "upgrade tui-bot or use another database"
    )
