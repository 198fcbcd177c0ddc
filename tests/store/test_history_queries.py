"""The history screens' store side: refused orders kept (schema step 4), closed trades and their entry orders."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.store.factories import D, fill, link, order
from tests.store.legacy_schema import create_legacy_database
from tui_bot.core.history import REJECTED, order_history, trade_history
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store import history
from tui_bot.store.db import SCHEMA_VERSION, Database, open_database
from tui_bot.store.ops import RecordExecution, RecordRejection, UpsertOrder
from tui_bot.store.repos import count
from tui_bot.store.rows import RejectedOrder
from tui_bot.store.writer import StoreWriter

DAY = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000  # 00:00 UTC


def refused(n: int, ts_ms: int) -> RejectedOrder:
    return RejectedOrder(
        order_link_id=f"bot1-me-x-{n}",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("500"),
        price=D("80000.0"),
        reduce_only=False,
        code=110007,
        message="Insufficient balance (110007)",
        ts_ms=ts_ms,
    )


async def test_a_version_3_database_gains_the_rejected_orders_table(db_path: Path) -> None:
    create_legacy_database(db_path, 3).close()
    conn = await open_database(db_path)
    try:
        assert await conn.version() == SCHEMA_VERSION >= 4
        assert await count(conn, "rejected_orders") == 0
    finally:
        await conn.close()


async def test_refused_orders_are_kept_and_merged_with_the_stored_orders_newest_first(
    conn: Database, writer: StoreWriter
) -> None:
    filled = replace(order("o1", OrderStatus.FILLED, 5_000), created_time=4_000)
    writer.enqueue(UpsertOrder(filled))
    writer.enqueue(RecordRejection(refused(1, 3_000)))
    writer.enqueue(RecordRejection(refused(2, 6_000)))
    await writer.flush()
    rejections = await history.recent_rejections(conn, 10)
    assert rejections == [refused(2, 6_000), refused(1, 3_000)]
    assert await history.recent_rejections(conn, 1) == [refused(2, 6_000)]
    entries = order_history(await history.recent_orders(conn, 10), rejections, 2)
    assert [(e.status, e.code, e.order_id) for e in entries] == [(REJECTED, 110007, ""), ("Filled", None, "o1")]
    assert entries[0].detail == "Insufficient balance (110007)" and entries[0].price == D("80000.0")


async def test_closed_trades_newest_first_with_r_from_their_entry_orders_stop(
    conn: Database, writer: StoreWriter
) -> None:
    """Two round trips: the first entered with a stop 100 under (R known), the second without; by day in UTC."""
    first, second = link(OrderReason.MANUAL_ENTRY), link(OrderReason.ENTRY, 1_700_000_000_001)
    exit_link = link(OrderReason.MANUAL_EXIT, 1_700_000_000_002)
    entry = replace(
        order("e1", OrderStatus.FILLED, DAY + 1), order_link_id=first, avg_price=D(1000), stop_loss=D("900")
    )
    writer.enqueue(UpsertOrder(entry))
    for execution in (
        fill("a", Side.BUY, "1", "1000", order_link_id=first, fee="1", exec_time=DAY + 1_000),
        fill("b", Side.SELL, "1", "1200", order_link_id=exit_link, fee="1", exec_time=DAY + 61_000, closed_size="1"),
        fill("c", Side.SELL, "2", "1000", order_link_id=second, fee="1", exec_time=DAY + 86_400_000),
        fill("d", Side.BUY, "2", "1010", order_link_id=exit_link, fee="1", exec_time=DAY + 86_460_000, closed_size="2"),
    ):
        writer.enqueue(RecordExecution(execution))
    await writer.flush()
    entries = await history.entry_orders(conn)
    assert [o.order_id for o in entries] == ["e1"]
    shown = trade_history(await history.closed_trades(conn), entries)
    newer, older = shown.trades
    assert (newer.side, newer.net_pnl, newer.r) == (Side.SELL, D(-22), None)  # (1000 - 1010) * 2 - 2 fees
    assert (older.net_pnl, older.r, older.duration_ms) == (D(198), D("1.98"), 60_000)  # 198 / (100 * 1)
    assert [(d.count, d.wins, d.net_pnl) for d in shown.days] == [(1, 0, D(-22)), (1, 1, D(198))]
    assert shown.days[0].day > shown.days[1].day
