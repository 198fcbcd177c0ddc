"""A model-backed recommendation's trace (prompt, model, raw reply, chart) is stored with it (schema revision 0005)."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from tests.store.factories import D, write_session
from tests.store.legacy_schema import create_legacy_database
from tui_bot.domain.enums import Side
from tui_bot.store import schema
from tui_bot.store.codec import CYCLE_CODEC, RECOMMENDATION_CODEC
from tui_bot.store.db import SCHEMA_VERSION, Database, open_database
from tui_bot.store.migrate import MIGRATIONS
from tui_bot.store.ops import SaveCycle, SaveRecommendation
from tui_bot.store.repos import load_recommendations
from tui_bot.store.rows import CycleRow, RecommendationRow
from tui_bot.store.writer import StoreWriter

TRACE = ("prompt_name", "prompt_version", "model_name", "raw_response", "chart_path")
AFTER_0004 = (*TRACE, "features", "ml_score", "ml_model_version", "ml_train_size", "ml_auc", "ml_brier")
CYCLE = CycleRow("c1", 1_000, "1", "done")
RULE = RecommendationRow(
    "r1", "c1", "BTCUSDT", Side.BUY, D("0.7"), D(100), D(99), D(102), D(2), "breakout", "1.0", "why", "pending", 1, 1
)
TRACED = replace(
    RULE,
    id="r2",
    strategy="chart_llm",
    prompt_name="chart_analyst",
    prompt_version="1",
    model_name="qwen2.5vl:7b",
    raw_response='{"side": "LONG", "confidence": 0.7}',
    chart_path="charts/BTCUSDT-1-1.png",
)


async def test_a_traced_recommendation_is_read_back_with_its_prompt_model_reply_and_chart(
    writer: StoreWriter, conn: Database
) -> None:
    for op in (SaveCycle(CYCLE), SaveRecommendation(RULE), SaveRecommendation(TRACED)):
        writer.enqueue(op)
    await writer.flush()
    assert await load_recommendations(conn, "c1") == [RULE, TRACED]


def _after_0004(_: str, names: list[str]) -> list[str]:
    """The names copytree leaves out: caches and the revisions after 0004."""
    return [n for n in names if n == "__pycache__" or (n[:4].isdigit() and n[:4] > "0004")]


def _migrations_up_to_0004(tmp_path: Path) -> Path:
    """A copy of the store's migrations without revision 0005 and those after it."""
    scripts = tmp_path / "migrations-0004"
    shutil.copytree(MIGRATIONS, scripts, ignore=_after_0004)
    return scripts


def _untraced(rec: RecommendationRow) -> dict[str, object]:
    """The column values of rec that revision 0004 has (no trace)."""
    return {column: value for column, value in RECOMMENDATION_CODEC.params(rec).items() if column not in AFTER_0004}


async def _save_at_0004(db: Database, rec: RecommendationRow) -> None:
    """Insert CYCLE and rec through the columns revision 0004 has."""
    async with db.connect_for_writes() as conn, conn.begin():
        await conn.execute(schema.cycles.insert().values(CYCLE_CODEC.params(CYCLE)))
        await conn.execute(schema.recommendations.insert().values(_untraced(rec)))


async def test_a_database_at_revision_0004_gains_the_trace_and_keeps_its_recommendations(
    db_url: str, tmp_path: Path
) -> None:
    old = await open_database(db_url, migrations=_migrations_up_to_0004(tmp_path))
    try:
        assert await old.version() == 4
        await _save_at_0004(old, RULE)
    finally:
        await old.close()
    await write_session(db_url, SaveRecommendation(TRACED))
    db = await open_database(db_url)
    try:
        assert await db.version() == SCHEMA_VERSION >= 5
        assert await load_recommendations(db, "c1") == [RULE, TRACED]
    finally:
        await db.close()


def _insert(old: sqlite3.Connection, table: str, row: dict[str, object]) -> None:
    """A row as the pre-alembic store wrote it (Decimal as its text)."""
    values = [str(v) if isinstance(v, Decimal) else v for v in row.values()]
    old.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", values)


async def test_a_pre_alembic_file_at_user_version_4_keeps_its_recommendations_and_is_stamped_5(db_path: Path) -> None:
    with create_legacy_database(db_path) as old:
        assert old.execute("PRAGMA user_version").fetchone()[0] == 4
        _insert(old, "cycles", CYCLE_CODEC.params(CYCLE))
        _insert(old, "recommendations", _untraced(RULE))
    db = await open_database(db_path)
    try:
        assert await db.version() == SCHEMA_VERSION >= 5
        assert [tuple(row) for row in await db.fetch("PRAGMA user_version")] == [(SCHEMA_VERSION,)]
        assert await load_recommendations(db, "c1") == [RULE]
    finally:
        await db.close()
