"""The schema as tui-bot made it before alembic (PRAGMA user_version steps), frozen here to build old files in tests."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: a description and the statements that perform it."""

    description: str
    statements: tuple[str, ...]


_CONFIG = """
CREATE TABLE config (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_ms  INTEGER NOT NULL
)"""

_CYCLES = """
CREATE TABLE cycles (
    id                  TEXT PRIMARY KEY,
    started_ms          INTEGER NOT NULL,
    finished_ms         INTEGER,
    timeframe           TEXT NOT NULL,
    status              TEXT NOT NULL,
    recommendations     INTEGER NOT NULL DEFAULT 0,
    approved            INTEGER NOT NULL DEFAULT 0,
    rejected            INTEGER NOT NULL DEFAULT 0,
    skip_reason         TEXT,
    slots_at_start      INTEGER,
    positions_at_start  INTEGER
)"""

_RECOMMENDATIONS = """
CREATE TABLE recommendations (
    id                TEXT PRIMARY KEY,
    cycle_id          TEXT REFERENCES cycles(id),
    symbol            TEXT NOT NULL,
    side              TEXT NOT NULL,
    confidence        TEXT NOT NULL,
    entry             TEXT NOT NULL,
    stop_loss         TEXT NOT NULL,
    take_profit       TEXT NOT NULL,
    rr                TEXT,
    strategy          TEXT NOT NULL,
    strategy_version  TEXT NOT NULL,
    reasoning         TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL,
    fate              TEXT,
    order_link_id     TEXT
)"""

_PHANTOMS = """
CREATE TABLE phantoms (
    id                 TEXT PRIMARY KEY,
    recommendation_id  TEXT REFERENCES recommendations(id),
    symbol             TEXT NOT NULL,
    side               TEXT NOT NULL,
    entry              TEXT NOT NULL,
    sl                 TEXT NOT NULL,
    tp                 TEXT NOT NULL,
    opened_ms          INTEGER NOT NULL,
    closed_ms          INTEGER,
    outcome            TEXT,
    exit_price         TEXT,
    max_favourable     TEXT NOT NULL,
    max_adverse        TEXT NOT NULL
)"""

_ORDERS = """
CREATE TABLE orders (
    order_id               TEXT PRIMARY KEY,
    order_link_id          TEXT NOT NULL,
    symbol                 TEXT NOT NULL,
    side                   TEXT NOT NULL,
    order_type             TEXT NOT NULL,
    qty                    TEXT NOT NULL,
    price                  TEXT NOT NULL,
    time_in_force          TEXT NOT NULL,
    status                 TEXT NOT NULL,
    status_rank            INTEGER NOT NULL,
    created_ms             INTEGER NOT NULL,
    updated_ms             INTEGER NOT NULL,
    create_type            TEXT NOT NULL,
    cancel_type            TEXT NOT NULL,
    reject_reason          TEXT NOT NULL,
    avg_price              TEXT NOT NULL,
    cum_exec_qty           TEXT NOT NULL,
    cum_exec_value         TEXT NOT NULL,
    cum_exec_fee           TEXT NOT NULL,
    closed_pnl             TEXT NOT NULL,
    stop_order_type        TEXT NOT NULL,
    trigger_price          TEXT NOT NULL,
    trigger_by             TEXT,
    trigger_direction      INTEGER NOT NULL,
    take_profit            TEXT NOT NULL,
    stop_loss              TEXT NOT NULL,
    tp_trigger_by          TEXT,
    sl_trigger_by          TEXT,
    tpsl_mode              TEXT,
    tp_limit_price         TEXT NOT NULL,
    sl_limit_price         TEXT NOT NULL,
    reduce_only            INTEGER NOT NULL,
    close_on_trigger       INTEGER NOT NULL,
    position_idx           INTEGER NOT NULL,
    parent_order_link_id   TEXT NOT NULL,
    last_price_on_created  TEXT NOT NULL,
    trailing_distance      TEXT NOT NULL,
    trailing_active_price  TEXT NOT NULL,
    bot                    TEXT,
    reason                 TEXT
)"""

_EXECUTIONS = """
CREATE TABLE executions (
    id               INTEGER PRIMARY KEY,
    exec_id          TEXT NOT NULL UNIQUE,
    order_id         TEXT NOT NULL,
    order_link_id    TEXT NOT NULL,
    symbol           TEXT NOT NULL,
    side             TEXT NOT NULL,
    exec_type        TEXT NOT NULL,
    price            TEXT NOT NULL,
    qty              TEXT NOT NULL,
    value            TEXT NOT NULL,
    fee              TEXT NOT NULL,
    fee_rate         TEXT NOT NULL,
    exec_time        INTEGER NOT NULL,
    is_maker         INTEGER NOT NULL,
    order_type       TEXT,
    order_price      TEXT NOT NULL,
    order_qty        TEXT NOT NULL,
    leaves_qty       TEXT NOT NULL,
    closed_size      TEXT NOT NULL,
    exec_pnl         TEXT NOT NULL,
    mark_price       TEXT NOT NULL,
    index_price      TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    create_type      TEXT NOT NULL,
    stop_order_type  TEXT NOT NULL,
    bot              TEXT,
    reason           TEXT
)"""

_TRADES = """
CREATE TABLE trades (
    id                   INTEGER PRIMARY KEY,
    open_exec_id         TEXT NOT NULL UNIQUE,
    symbol               TEXT NOT NULL,
    side                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    qty                  TEXT NOT NULL,
    entry_price          TEXT NOT NULL,
    entry_time           INTEGER NOT NULL,
    fees                 TEXT NOT NULL,
    exit_qty             TEXT NOT NULL,
    exit_price           TEXT,
    exit_time            INTEGER,
    pnl                  TEXT,
    pnl_pct              TEXT,
    exit_reason          TEXT,
    entry_order_link_id  TEXT NOT NULL,
    exit_order_link_id   TEXT,
    bot                  TEXT
)"""

_POSITION_SNAPSHOTS = """
CREATE TABLE position_snapshots (
    id           INTEGER PRIMARY KEY,
    symbol       TEXT NOT NULL,
    side         TEXT,
    size         TEXT NOT NULL,
    entry        TEXT NOT NULL,
    mark         TEXT NOT NULL,
    upnl         TEXT NOT NULL,
    stop_loss    TEXT NOT NULL,
    take_profit  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    ts_ms        INTEGER NOT NULL
)"""

_CANDLES = """
CREATE TABLE candles (
    id        INTEGER PRIMARY KEY,
    symbol    TEXT NOT NULL,
    interval  TEXT NOT NULL,
    start     INTEGER NOT NULL,
    open      TEXT NOT NULL,
    high      TEXT NOT NULL,
    low       TEXT NOT NULL,
    close     TEXT NOT NULL,
    volume    TEXT NOT NULL,
    turnover  TEXT NOT NULL,
    confirm   INTEGER NOT NULL,
    UNIQUE (symbol, interval, start)
)"""

_INDEXES = (
    "CREATE INDEX executions_symbol_time ON executions (symbol, exec_time)",
    "CREATE INDEX executions_order ON executions (order_id)",
    "CREATE INDEX orders_open ON orders (status_rank, symbol)",
    "CREATE INDEX trades_status ON trades (status, symbol)",
    "CREATE INDEX trades_entry_time ON trades (entry_time)",
    "CREATE INDEX position_snapshots_symbol_ts ON position_snapshots (symbol, ts_ms)",
    "CREATE INDEX recommendations_cycle ON recommendations (cycle_id)",
    "CREATE INDEX phantoms_recommendation ON phantoms (recommendation_id)",
)

_TRADE_RECONCILIATIONS = """
CREATE TABLE trade_reconciliations (
    open_exec_id  TEXT PRIMARY KEY,
    symbol        TEXT NOT NULL,
    ts_ms         INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    after_row     INTEGER NOT NULL
)"""

_REJECTED_ORDERS = """
CREATE TABLE rejected_orders (
    id             INTEGER PRIMARY KEY,
    order_link_id  TEXT NOT NULL,
    symbol         TEXT NOT NULL,
    side           TEXT NOT NULL,
    order_type     TEXT NOT NULL,
    qty            TEXT NOT NULL,
    price          TEXT,
    reduce_only    INTEGER NOT NULL,
    code           INTEGER NOT NULL,
    message        TEXT NOT NULL,
    ts_ms          INTEGER NOT NULL
)"""

MIGRATIONS: list[Migration] = [
    Migration(
        "the nine tables",
        (
            _CONFIG,
            _CYCLES,
            _RECOMMENDATIONS,
            _PHANTOMS,
            _ORDERS,
            _EXECUTIONS,
            _TRADES,
            _POSITION_SNAPSHOTS,
            _CANDLES,
        ),
    ),
    Migration("lookup indexes", _INDEXES),
    Migration("trade reconciliation marks", (_TRADE_RECONCILIATIONS,)),
    Migration(
        "orders the exchange refused when sent",
        (_REJECTED_ORDERS, "CREATE INDEX rejected_orders_ts ON rejected_orders (ts_ms)"),
    ),
]


def create_legacy_database(path: Path, version: int = len(MIGRATIONS)) -> sqlite3.Connection:
    """An SQLite file made the way the old store did, up to version; the open connection (autocommit)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    for number, step in enumerate(MIGRATIONS[:version], start=1):
        conn.execute("BEGIN IMMEDIATE")
        for statement in step.statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    return conn
