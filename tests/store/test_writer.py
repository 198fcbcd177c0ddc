"""The batching writer: batches, flush, idempotent executions, newest-wins orders, config, candles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

import pytest

from tests.store.factories import D, fill, link, order
from tui_bot.domain.enums import OrderStatus, Side
from tui_bot.domain.models import Kline, Position
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.db import Database
from tui_bot.store.ops import (
    RecordExecution,
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
from tui_bot.store.repos import (
    count,
    exec_ids,
    get_config,
    last_execution_time,
    load_candles,
    load_cycles,
    load_executions,
    load_orders,
    load_phantoms,
    load_recommendations,
    load_shown_recommendations,
    load_trades,
)
from tui_bot.store.rows import CycleRow, PhantomRow, RecommendationRow
from tui_bot.store.writer import StoreWriter


def _text(row: Sequence[object]) -> tuple[str | None, ...]:
    """A raw row's values as text (NUMERIC comes back as Decimal on PostgreSQL, TEXT on SQLite)."""
    return tuple(None if value is None else str(value) for value in row)


async def test_many_ops_go_in_few_batches(conn: Database) -> None:
    writer = StoreWriter(conn, batch_size=500)
    for i in range(2000):
        writer.enqueue(RecordExecution(fill(f"b{i}", Side.BUY, "1", "100", exec_time=i)))
    writer.start()
    await writer.flush()
    assert (writer.written, writer.batches, writer.errors, writer.pending) == (2000, 4, 0, 0)
    assert await count(conn, "executions") == 2000
    await writer.stop()


async def test_a_trickle_within_the_flush_interval_is_one_batch(conn: Database) -> None:
    writer = StoreWriter(conn, flush_interval=0.2)
    writer.start()
    for i in range(10):
        writer.enqueue(SetConfig(f"k{i}", i))
        await asyncio.sleep(0)
    await writer.stop()
    assert (writer.written, writer.batches) == (10, 1)


async def test_flush_waits_for_everything_enqueued_so_far(writer: StoreWriter, conn: Database) -> None:
    await writer.flush()
    writer.enqueue(SetConfig("a", 1))
    flushing = asyncio.create_task(writer.flush())
    writer.enqueue(SetConfig("b", 2))
    await flushing
    assert "a" in await get_config(conn)
    await writer.flush()
    assert await get_config(conn) == {"a": 1, "b": 2}


async def test_flush_needs_a_running_writer_and_stop_ends_enqueueing(conn: Database) -> None:
    writer = StoreWriter(conn)
    writer.enqueue(SetConfig("a", 1))
    with pytest.raises(RuntimeError, match="not running"):
        await writer.flush()
    await writer.stop()
    assert await get_config(conn) == {"a": 1}
    assert not writer.running
    with pytest.raises(RuntimeError, match="stopped"):
        writer.enqueue(SetConfig("b", 2))


async def test_duplicate_exec_ids_are_ignored(writer: StoreWriter, conn: Database) -> None:
    execution = fill("dup", Side.BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY), exec_time=5)
    writer.enqueue(RecordExecution(execution))
    writer.enqueue(RecordExecution(execution))
    await writer.flush()
    writer.enqueue(RecordExecution(execution))
    await writer.flush()
    assert writer.errors == 0
    assert await exec_ids(conn) == {"dup"}
    assert await load_executions(conn) == [execution]
    assert await last_execution_time(conn) == 5
    [trade] = await load_trades(conn)
    assert (trade.qty, trade.fees, trade.status) == (D(1), D("0.1"), "open")
    rows = await conn.fetch("SELECT bot, reason FROM executions")
    assert [tuple(row) for row in rows] == [("bot1", "entry")]


async def test_older_order_updates_do_not_overwrite_newer_ones(writer: StoreWriter, conn: Database) -> None:
    filled = order("o1", OrderStatus.FILLED, 2_000, cum_exec_qty="1", order_link_id=link(OrderReason.ENTRY))
    writer.enqueue(UpsertOrder(filled))
    writer.enqueue(UpsertOrder(order("o1", OrderStatus.NEW, 1_000)))
    writer.enqueue(UpsertOrder(order("o2", OrderStatus.FILLED, 3_000)))
    writer.enqueue(UpsertOrder(order("o2", OrderStatus.NEW, 3_000)))
    writer.enqueue(UpsertOrder(order("o3", OrderStatus.NEW, 1_000)))
    writer.enqueue(UpsertOrder(order("o3", OrderStatus.PARTIALLY_FILLED, 1_500, cum_exec_qty="0.5")))
    await writer.flush()
    orders = {o.order_id: o for o in await load_orders(conn)}
    assert orders["o1"] == filled
    assert orders["o2"].status is OrderStatus.FILLED
    assert (orders["o3"].status, orders["o3"].cum_exec_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.5"))
    assert [o.order_id for o in await load_orders(conn, open_only=True)] == ["o3"]
    rows = await conn.fetch("SELECT qty, price, reason FROM orders WHERE order_id = 'o1'")
    assert _text(rows[0]) == ("1.000", "100.50", "entry")  # exact decimals, scale kept, on both backends


async def test_a_closed_order_row_never_reopens_even_on_a_newer_open_update(
    writer: StoreWriter, conn: Database
) -> None:
    writer.enqueue(UpsertOrder(order("o1", OrderStatus.DEACTIVATED, 2_000)))
    writer.enqueue(UpsertOrder(order("o1", OrderStatus.UNTRIGGERED, 3_000)))
    writer.enqueue(UpsertOrder(order("o2", OrderStatus.CANCELLED, 2_000)))
    writer.enqueue(UpsertOrder(order("o2", OrderStatus.FILLED, 2_500, cum_exec_qty="1")))  # a newer final state wins
    writer.enqueue(UpsertOrder(order("o2", OrderStatus.NEW, 2_600)))
    writer.enqueue(UpsertOrder(order("o3", OrderStatus.TRIGGERED, 2_000)))  # not closed yet: open to a reseed
    await writer.flush()
    orders = {o.order_id: o for o in await load_orders(conn)}
    assert (orders["o1"].status, orders["o1"].updated_time) == (OrderStatus.DEACTIVATED, 2_000)
    assert (orders["o2"].status, orders["o2"].cum_exec_qty) == (OrderStatus.FILLED, D("1"))
    assert [o.order_id for o in await load_orders(conn, open_only=True)] == ["o3"]


async def test_config_round_trip(writer: StoreWriter, conn: Database) -> None:
    writer.enqueue(SetConfig("risk", {"max_risk": "0.02", "symbols": ["BTCUSDT"]}, updated_ms=1))
    writer.enqueue(SetConfig("tighten", True, updated_ms=1))
    writer.enqueue(SetConfig("tighten", False, updated_ms=2))
    await writer.flush()
    assert await get_config(conn) == {"risk": {"max_risk": "0.02", "symbols": ["BTCUSDT"]}, "tighten": False}
    assert await count(conn, "config") == 2
    with pytest.raises(TypeError):
        SetConfig("bad", D("1.5"))


async def test_candles_are_unique_and_confirmed_ones_stay(writer: StoreWriter, conn: Database) -> None:
    def bar(start: int, close: str, confirm: bool) -> Kline:
        return Kline("BTCUSDT", "1", start, D(100), D(110), D(90), D(close), D(5), D(500), confirm)

    for op in (bar(0, "101", False), bar(0, "102", True), bar(0, "999", False), bar(60_000, "103", False)):
        writer.enqueue(UpsertCandle(op))
    writer.enqueue(UpsertCandle(Kline("BTCUSDT", "5", 0, D(1), D(1), D(1), D(1))))
    await writer.flush()
    assert await count(conn, "candles") == 3
    assert [k.close for k in await load_candles(conn, "BTCUSDT", "1")] == [D(102), D(103)]
    assert await load_candles(conn, "BTCUSDT", "1", limit=1) == [bar(60_000, "103", False)]


async def test_position_snapshots(writer: StoreWriter, conn: Database) -> None:
    position = Position("BTCUSDT", Side.SELL, D("0.5"), D(100), mark_price=D(98), stop_loss=D(105))
    writer.enqueue(SnapshotPosition(position, "opened", 42))
    writer.enqueue(SnapshotPosition(Position("BTCUSDT"), "closed", 43))
    await writer.flush()
    rows = await conn.fetch(
        "SELECT side, size, entry, mark, upnl, stop_loss, take_profit, reason, ts_ms"
        " FROM position_snapshots ORDER BY id"
    )
    assert [_text(r) for r in rows] == [
        ("Sell", "0.5", "100", "98", "1.0", "105", "0", "opened", "42"),
        (None, "0", "0", "0", "0", "0", "0", "closed", "43"),
    ]


async def test_analysis_rows_round_trip_and_update(writer: StoreWriter, conn: Database) -> None:
    cycle = CycleRow("c1", 1_000, "15", "running", slots_at_start=3, positions_at_start=1)
    rec = RecommendationRow(
        "r1",
        "c1",
        "BTCUSDT",
        Side.BUY,
        D("0.72"),
        D(100),
        D(95),
        D(115),
        D(3),
        "breakout",
        "1.2",
        "range break on volume",
        "pending",
        1_001,
        1_001,
    )
    phantom = PhantomRow("p1", "r1", "BTCUSDT", Side.BUY, D(100), D(95), D(115), 1_002)
    for op in (SaveCycle(cycle), SaveRecommendation(rec), SavePhantom(phantom)):
        writer.enqueue(op)
    done = CycleRow("c1", 1_000, "15", "done", 2_000, 1, 0, 1, None, 3, 1)
    writer.enqueue(SaveCycle(done))
    await writer.flush()
    assert await load_cycles(conn) == [done]
    assert await load_recommendations(conn, "c1") == [rec]
    assert await load_phantoms(conn, open_only=True) == [phantom]


async def test_shown_recommendations_are_every_pending_one_plus_the_newest(writer: StoreWriter, conn: Database) -> None:
    writer.enqueue(SaveCycle(CycleRow("c1", 1_000, "15", "done")))
    statuses = ["pending", "rejected", "rejected", "executed", "pending"]
    for n, status in enumerate(statuses):
        writer.enqueue(
            SaveRecommendation(
                RecommendationRow(
                    f"r{n}",
                    "c1",
                    "BTCUSDT",
                    Side.BUY,
                    D("0.5"),
                    D(100),
                    D(95),
                    D(115),
                    D(3),
                    "s",
                    "1",
                    "",
                    status,
                    1_000 + n,
                    1_000 + n,
                )
            )
        )
    await writer.flush()
    assert [r.id for r in await load_shown_recommendations(conn, 2)] == ["r0", "r3", "r4"]


async def test_a_failing_op_is_counted_and_the_rest_of_the_batch_is_kept(
    writer: StoreWriter, conn: Database, caplog: pytest.LogCaptureFixture
) -> None:
    orphan = RecommendationRow(
        "r9", "no-such-cycle", "BTCUSDT", Side.BUY, D(1), D(1), D(1), D(1), None, "s", "1", "", "pending", 1, 1
    )
    ops: list[WriteOp] = [
        RecordExecution(fill("g1", Side.BUY, "1", "100", fee="0.1")),
        SaveRecommendation(orphan),
        RecordExecution(fill("g2", Side.SELL, "1", "110", fee="0.1")),
    ]
    with caplog.at_level(logging.ERROR, logger="tui_bot.store.writer"):
        for op in ops:
            writer.enqueue(op)
        await writer.flush()
    assert (writer.written, writer.errors) == (2, 1)
    assert "SaveRecommendation" in caplog.text
    assert await exec_ids(conn) == {"g1", "g2"}
    [trade] = await load_trades(conn)
    assert (trade.status, trade.qty, trade.fees, trade.pnl) == ("closed", D(1), D("0.2"), D("9.8"))
    assert writer.ledger is not None and writer.ledger.open_trades() == []


async def test_save_trade_replaces_by_opening_exec_id(writer: StoreWriter, conn: Database) -> None:
    writer.enqueue(RecordExecution(fill("t1", Side.BUY, "1", "100")))
    await writer.flush()
    [trade] = await load_trades(conn)
    writer.enqueue(SaveTrade(replace(trade, bot="imported")))
    await writer.flush()
    assert [t.bot for t in await load_trades(conn, "open")] == ["imported"]
