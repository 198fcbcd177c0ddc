"""Persistence on SQLite (WAL) or PostgreSQL: schema and migrations, the single batching writer, read helpers."""

from __future__ import annotations

from tui_bot.store.booking import ReconcileMark, load_marks, rebuild_ledger
from tui_bot.store.db import SCHEMA_VERSION, Database, DatabaseUrlError, SchemaError, open_database
from tui_bot.store.ops import (
    ReconcileOpenTrades,
    RecordExecution,
    RecordRejection,
    SaveCycle,
    SavePhantom,
    SaveRecommendation,
    SaveTrade,
    SetConfig,
    SnapshotPosition,
    UpsertCandle,
    UpsertOrder,
    WriteOp,
)
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow, Trade
from tui_bot.store.trades import RECONCILED, TradeLedger
from tui_bot.store.writer import StoreWriter

__all__ = [
    "SCHEMA_VERSION",
    "CycleRow",
    "Database",
    "DatabaseUrlError",
    "RECONCILED",
    "PhantomRow",
    "RecommendationRow",
    "ReconcileMark",
    "ReconcileOpenTrades",
    "RecordExecution",
    "RecordRejection",
    "SaveCycle",
    "SavePhantom",
    "SaveRecommendation",
    "SaveTrade",
    "SchemaError",
    "SetConfig",
    "SnapshotPosition",
    "StoreWriter",
    "Trade",
    "TradeLedger",
    "UpsertCandle",
    "UpsertOrder",
    "WriteOp",
    "load_marks",
    "open_database",
    "rebuild_ledger",
]
