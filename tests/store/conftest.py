"""Fixtures: a migrated database in tmp_path and a running writer on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from tui_bot.store.db import open_database
from tui_bot.store.writer import StoreWriter


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture
async def conn(db_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await open_database(db_path)
    yield connection
    await connection.close()


@pytest.fixture
async def writer(conn: aiosqlite.Connection) -> AsyncIterator[StoreWriter]:
    store_writer = StoreWriter(conn, flush_interval=0.01)
    store_writer.start()
    yield store_writer
    await store_writer.stop()
