"""Reconciling stale open trades against the exchange's positions, and replaying those closures on rebuild."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.store.factories import D, fill, funding, link, write_session
from tests.store.legacy_schema import create_legacy_database
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Position
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.booking import ReconcileMark, load_marks, rebuild_ledger
from tui_bot.store.db import SCHEMA_VERSION, open_database
from tui_bot.store.ops import ReconcileOpenTrades, RecordExecution, SaveRecommendation
from tui_bot.store.repos import count, load_trades
from tui_bot.store.rows import RecommendationRow, Trade
from tui_bot.store.trades import RECONCILED, TradeLedger
from tui_bot.store.writer import StoreWriter

BUY, SELL = Side.BUY, Side.SELL
TS = 1_700_000_500_000


def _ledger_with_three_open_trades() -> TradeLedger:
    ledger = TradeLedger()
    for execution in (
        fill("b1", BUY, "2", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY)),
        fill("b2", SELL, "0.5", "110", fee="0.05", order_link_id=link(OrderReason.TAKE_PROFIT)),
        fill("e1", SELL, "1", "50", symbol="ETHUSDT"),
        fill("s1", BUY, "3", "20", symbol="SOLUSDT"),
    ):
        ledger.apply(execution)
    return ledger


def test_reconcile_closes_only_flat_and_flipped_symbols() -> None:
    ledger = _ledger_with_three_open_trades()
    closed = ledger.reconcile({"BTCUSDT": BUY, "ETHUSDT": BUY}, TS)
    assert [(t.open_exec_id, t.symbol) for t in closed] == [("e1", "ETHUSDT"), ("s1", "SOLUSDT")]
    assert [t.open_exec_id for t in ledger.open_trades()] == ["b1"]
    for trade in closed:
        assert (trade.status, trade.exit_reason, trade.exit_time) == ("closed", RECONCILED, TS)
        assert (trade.exit_price, trade.pnl, trade.pnl_pct, trade.exit_order_link_id) == (None, None, None, None)
    assert ledger.reconcile({"BTCUSDT": BUY, "ETHUSDT": BUY}, TS + 1) == []


def test_a_reconciled_trade_keeps_its_entry_fees_and_partial_exit_qty() -> None:
    ledger = _ledger_with_three_open_trades()
    [trade] = [t for t in ledger.reconcile({}, TS) if t.symbol == "BTCUSDT"]
    assert (trade.qty, trade.entry_price, trade.exit_qty, trade.fees) == (D(2), D(100), D("0.5"), D("0.15"))
    assert ledger.open_trades() == []


def test_fills_after_a_reconcile_open_a_new_trade_and_funding_no_longer_touches_the_old() -> None:
    ledger = _ledger_with_three_open_trades()
    ledger.reconcile({}, TS)
    assert ledger.apply(funding("f1", "0.3")) == []
    [new] = ledger.apply(fill("b3", BUY, "1", "120", exec_time=TS + 10))
    assert (new.open_exec_id, new.status, new.qty, new.entry_price) == ("b3", "open", D(1), D(120))


def test_force_close_of_a_different_trade_is_a_no_op() -> None:
    ledger = _ledger_with_three_open_trades()
    assert ledger.force_close("BTCUSDT", TS, open_exec_id="not-b1") is None
    assert ledger.force_close("XRPUSDT", TS) is None
    assert len(ledger.open_trades()) == 3


def test_rollback_reopens_the_reconciled_trades() -> None:
    ledger = _ledger_with_three_open_trades()
    before = ledger.open_trades()
    ledger.checkpoint()
    ledger.reconcile({}, TS)
    ledger.rollback()
    assert ledger.open_trades() == before
    [extended] = ledger.apply(fill("b4", BUY, "2", "130", order_link_id=link(OrderReason.SCALE_IN)))
    assert (extended.open_exec_id, extended.qty, extended.entry_price) == ("b1", D(4), D(115))


async def _rebuilt_vs_stored(path: str) -> tuple[list[Trade], list[Trade]]:
    """Open trades as a rebuilt ledger derives them and as stored, by opening exec id."""
    conn = await open_database(path)
    try:
        rebuilt = (await rebuild_ledger(conn)).open_trades()
        stored = await load_trades(conn, "open")
    finally:
        await conn.close()
    return sorted(rebuilt, key=_key), sorted(stored, key=_key)


def _key(trade: Trade) -> str:
    return trade.open_exec_id


async def test_reconcile_is_stored_and_survives_later_sessions(db_url: str) -> None:
    await write_session(db_url, RecordExecution(fill("a1", BUY, "1", "100", exec_time=TS - 100)))
    await write_session(
        db_url, ReconcileOpenTrades({}, TS), RecordExecution(fill("a2", BUY, "1", "200", exec_time=TS + 5))
    )
    rebuilt, stored = await _rebuilt_vs_stored(db_url)
    assert [t.open_exec_id for t in rebuilt] == ["a2"] and rebuilt == stored
    assert rebuilt[0].qty == D(1) and rebuilt[0].entry_price == D(200)

    await write_session(db_url, RecordExecution(fill("a3", SELL, "1", "210", exec_time=TS + 9)))
    conn = await open_database(db_url)
    try:
        old, new = await load_trades(conn)
        assert (old.open_exec_id, old.status, old.exit_reason, old.pnl, old.exit_time) == (
            "a1",
            "closed",
            RECONCILED,
            None,
            TS,
        )
        assert (new.open_exec_id, new.status, new.pnl) == ("a2", "closed", D(10))
        assert await load_marks(conn) == [ReconcileMark("a1", "BTCUSDT", TS, RECONCILED, 1)]
        assert (await rebuild_ledger(conn)).open_trades() == []
    finally:
        await conn.close()


async def test_rebuild_replays_marks_where_the_writer_made_them(db_url: str) -> None:
    """A fill written after the mark starts a new trade even if its exchange time is older than the mark."""
    await write_session(
        db_url,
        RecordExecution(fill("m1", BUY, "1", "100", exec_time=TS - 100)),
        RecordExecution(fill("m2", BUY, "1", "50", symbol="ETHUSDT", exec_time=TS - 90)),
        ReconcileOpenTrades({"ETHUSDT": BUY}, TS),
        RecordExecution(fill("m3", BUY, "1", "90", exec_time=TS - 50)),
        RecordExecution(fill("m4", BUY, "1", "60", symbol="ETHUSDT", exec_time=TS + 1)),
    )
    rebuilt, stored = await _rebuilt_vs_stored(db_url)
    assert rebuilt == stored
    assert [(t.open_exec_id, t.qty, t.entry_price) for t in rebuilt] == [("m2", D(2), D(55)), ("m3", D(1), D(90))]


async def test_a_second_reconcile_changes_nothing(db_url: str) -> None:
    await write_session(db_url, RecordExecution(fill("i1", BUY, "1", "100")), ReconcileOpenTrades({}, TS))
    await write_session(db_url, ReconcileOpenTrades({}, TS + 1_000))
    conn = await open_database(db_url)
    try:
        [trade] = await load_trades(conn)
        assert (trade.status, trade.exit_time) == ("closed", TS)
        assert await count(conn, "trade_reconciliations") == 1
    finally:
        await conn.close()


async def test_a_mark_for_a_trade_that_is_no_longer_open_is_harmless(db_url: str) -> None:
    await write_session(db_url, RecordExecution(fill("h1", BUY, "1", "100")), ReconcileOpenTrades({}, TS))
    conn = await open_database(db_url)
    ledger = await rebuild_ledger(conn)
    await conn.close()
    for mark in [ReconcileMark("h1", "BTCUSDT", TS, RECONCILED, 1)] * 2:
        assert ledger.force_close(mark.symbol, mark.ts_ms, mark.reason, mark.open_exec_id) is None
    assert ledger.open_trades() == []


async def test_a_failed_batch_rolls_the_reconcile_back_and_the_retry_closes_the_trade(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await write_session(db_url, RecordExecution(fill("k1", BUY, "1", "100")))
    orphan = RecommendationRow(
        "r9", "no-such-cycle", "BTCUSDT", BUY, D(1), D(1), D(1), D(1), None, "s", "1", "", "pending", 1, 1
    )
    conn = await open_database(db_url)
    writer = StoreWriter(conn)
    writer.start()
    with caplog.at_level(logging.ERROR, logger="tui_bot.store.writer"):
        writer.enqueue(ReconcileOpenTrades({}, TS))
        writer.enqueue(SaveRecommendation(orphan))
        await writer.stop()
    try:
        assert (writer.written, writer.errors) == (1, 1)
        [trade] = await load_trades(conn)
        assert (trade.status, trade.exit_reason) == ("closed", RECONCILED)
        assert [m.open_exec_id for m in await load_marks(conn)] == ["k1"]
        assert writer.ledger is not None and writer.ledger.open_trades() == []
    finally:
        await conn.close()


def test_the_op_copies_its_positions_and_ignores_flat_ones() -> None:
    held = {"BTCUSDT": BUY}
    op = ReconcileOpenTrades(held, TS)
    held["ETHUSDT"] = SELL
    assert dict(op.positions) == {"BTCUSDT": BUY}
    positions = [Position("BTCUSDT", SELL, D(1)), Position("ETHUSDT"), Position("SOLUSDT", BUY, D(0))]
    assert dict(ReconcileOpenTrades.from_positions(positions, TS).positions) == {"BTCUSDT": SELL}


async def test_a_version_2_database_gains_the_marks_table(db_path: Path) -> None:
    create_legacy_database(db_path, 2).close()
    conn = await open_database(db_path)
    try:
        assert await conn.version() == SCHEMA_VERSION
        assert await count(conn, "trade_reconciliations") == 0
    finally:
        await conn.close()
