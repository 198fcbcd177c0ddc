"""Fixtures: a migrated database on each backend (an SQLite file in tmp_path, a fresh PostgreSQL database) and a
running writer on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui_bot.store.db import Database, open_database
from tui_bot.store.writer import StoreWriter


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, db_path: Path) -> str:
    """The storage URL of an empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{db_path}"
    server = request.getfixturevalue("pg_server")
    return str(server.socket_url(server.create_database()))


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[Database]:
    database = await open_database(db_url)
    yield database
    await database.close()


@pytest.fixture
async def writer(conn: Database) -> AsyncIterator[StoreWriter]:
    store_writer = StoreWriter(conn, flush_interval=0.01)
    store_writer.start()
    yield store_writer
    await store_writer.stop()
