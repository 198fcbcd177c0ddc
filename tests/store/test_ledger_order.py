"""The ledger books fills in exchange order, honours closedSize, and keeps the known part of a reconciled trade."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert

from tests.store.factories import D, fill, link, write_session
from tui_bot.core.stats import equity_curve, trade_summary
from tui_bot.domain.enums import CreateType, Side, StopOrderType
from tui_bot.domain.models import Execution
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store import schema
from tui_bot.store.booking import rebuild_ledger
from tui_bot.store.codec import EXECUTION_CODEC, TRADE_CODEC
from tui_bot.store.db import open_database
from tui_bot.store.ops import ReconcileOpenTrades, RecordExecution
from tui_bot.store.repos import load_trades
from tui_bot.store.rows import Trade
from tui_bot.store.trades import RECONCILED, TradeLedger

BUY, SELL = Side.BUY, Side.SELL
TS = 1_700_000_000_000
ENTRY_LINK = link(OrderReason.ENTRY)
EXIT_LINK = link(OrderReason.MANUAL_EXIT)


def _entry(exec_id: str = "a", qty: str = "1", exec_time: int = TS + 1) -> Execution:
    return fill(exec_id, BUY, qty, "100", fee="0.055", order_link_id=ENTRY_LINK, exec_time=exec_time)


def _take_profit(exec_id: str = "b", qty: str = "1", closed_size: str = "1", exec_time: int = TS + 2) -> Execution:
    return fill(
        exec_id,
        SELL,
        qty,
        "110",
        fee="0.0605",
        exec_time=exec_time,
        closed_size=closed_size,
        create_type=CreateType.BY_TAKE_PROFIT,
        stop_order_type=StopOrderType.TAKE_PROFIT,
    )


async def _stored(path: str) -> tuple[list[Trade], list[Trade]]:
    """The stored trades and the open trades of a ledger rebuilt from the database."""
    conn = await open_database(path)
    try:
        return await load_trades(conn), (await rebuild_ledger(conn)).open_trades()
    finally:
        await conn.close()


def _assert_one_winning_long(trades: list[Trade]) -> None:
    [trade] = trades
    assert (trade.open_exec_id, trade.status, trade.side, trade.qty, trade.exit_qty) == ("a", "closed", BUY, D(1), D(1))
    assert (trade.entry_price, trade.exit_price, trade.entry_time, trade.exit_time) == (D(100), D(110), TS + 1, TS + 2)
    assert trade.fees == D("0.1155")
    assert trade.pnl == D("9.8845") and trade.pnl_pct == D("9.8845")
    assert (trade.exit_reason, trade.entry_order_link_id, trade.bot) == ("take_profit", ENTRY_LINK, "bot1")


@pytest.mark.parametrize("closed_size", ["1", "0"], ids=["closing-fill", "fill-without-closed-size"])
async def test_an_exit_that_arrives_before_its_entry_closes_the_trade(db_url: str, closed_size: str) -> None:
    await write_session(db_url, RecordExecution(_take_profit(closed_size=closed_size)), RecordExecution(_entry()))
    trades, rebuilt_open = await _stored(db_url)
    _assert_one_winning_long(trades)
    assert rebuilt_open == []


async def test_a_late_fill_in_a_later_session_is_booked_in_exchange_order(db_url: str) -> None:
    await write_session(db_url, RecordExecution(_take_profit()))
    await write_session(db_url, RecordExecution(_entry()))
    trades, rebuilt_open = await _stored(db_url)
    _assert_one_winning_long(trades)
    assert rebuilt_open == []


async def _insert_raw(url: str, *executions: Execution, trade: Trade | None = None) -> None:
    """Executions rows written in this order without booking them (a database an older booking order left)."""
    db = await open_database(url)
    async with db.connect() as conn, conn.begin():
        for execution in executions:
            await conn.execute(insert(schema.executions), EXECUTION_CODEC.params(execution))
        if trade is not None:
            await conn.execute(insert(schema.trades), TRADE_CODEC.params(trade))
    await db.close()


async def test_rebuild_replays_in_exchange_order_not_in_row_order(db_url: str) -> None:
    await write_session(db_url)
    await _insert_raw(db_url, _take_profit(), _entry())
    _, rebuilt_open = await _stored(db_url)
    assert rebuilt_open == []
    # A new fill after a restart opens its own trade instead of extending a stale one.
    await write_session(db_url, RecordExecution(fill("c", BUY, "1", "120", exec_time=TS + 3)))
    trades, rebuilt_open = await _stored(db_url)
    assert [(t.open_exec_id, t.status, t.qty) for t in trades] == [("c", "open", D(1))]
    assert [t.open_exec_id for t in rebuilt_open] == ["c"]


async def test_the_start_reconcile_rewrites_an_open_row_the_rebuilt_ledger_has_closed(db_url: str) -> None:
    """Rows booked in arrival order by an older version: entry left open; the next start books the pair."""
    await write_session(db_url)
    stale = Trade("a", "BTCUSDT", BUY, "open", D(1), D(100), TS + 1, D("0.055"), entry_order_link_id=ENTRY_LINK)
    await _insert_raw(db_url, _take_profit(), _entry(), trade=stale)
    conn = await open_database(db_url)
    assert await load_trades(conn) == [stale]
    await conn.close()
    await write_session(db_url, ReconcileOpenTrades({}, TS + 10))
    trades, rebuilt_open = await _stored(db_url)
    _assert_one_winning_long(trades)
    assert rebuilt_open == []


async def test_a_rebook_keeps_the_reconciliation_marks_in_place(db_url: str) -> None:
    """A fill written after a reconcile stays after it; the late one is ordered among the later fills only."""
    await write_session(
        db_url,
        RecordExecution(fill("old", BUY, "1", "90", exec_time=TS + 10)),
        ReconcileOpenTrades({}, TS + 20),
        RecordExecution(_take_profit(exec_time=TS + 2)),
        RecordExecution(_entry(exec_time=TS + 1)),
    )
    trades, rebuilt_open = await _stored(db_url)
    old, new = sorted(trades, key=lambda t: t.open_exec_id != "old")
    assert (old.status, old.exit_reason, old.exit_time, old.pnl) == ("closed", RECONCILED, TS + 20, None)
    _assert_one_winning_long([new])
    assert rebuilt_open == []


def test_a_fill_bybit_reports_as_a_whole_close_opens_no_opposite_trade(caplog: pytest.LogCaptureFixture) -> None:
    """Buy 1 (a scale-in of 1 missed), then a stop loss sells 2 with closedSize 2: one closed trade, no short."""
    ledger = TradeLedger()
    ledger.apply(fill("a", BUY, "1", "100", fee="0.05", order_link_id=ENTRY_LINK, exec_time=TS + 1))
    with caplog.at_level(logging.WARNING, logger="tui_bot.store.trades"):
        changed = ledger.apply(
            fill(
                "x", SELL, "2", "95", fee="0.1", exec_time=TS + 3, closed_size="2", create_type=CreateType.BY_STOP_LOSS
            )
        )
    [trade] = changed
    assert (trade.open_exec_id, trade.status, trade.exit_qty, trade.exit_price) == ("a", "closed", D(1), D(95))
    assert (trade.fees, trade.pnl, trade.exit_reason) == (D("0.15"), D("-5.15"), "stop_loss")
    assert ledger.open_trades() == []
    assert "diverged" in caplog.text


def test_the_part_of_a_flip_beyond_closed_size_still_opens_the_other_side() -> None:
    ledger = TradeLedger()
    ledger.apply(fill("a", BUY, "1", "100", exec_time=TS + 1))
    closed, opened = ledger.apply(fill("f", SELL, "3", "110", fee="0.3", exec_time=TS + 2, closed_size="2"))
    assert (closed.status, closed.exit_qty, closed.fees) == ("closed", D(1), D("0.2"))
    assert (opened.open_exec_id, opened.side, opened.qty, opened.fees) == ("f", SELL, D(1), D("0.1"))


async def test_a_whole_close_bigger_than_the_ledger_leaves_no_phantom_short_in_the_store(db_url: str) -> None:
    await write_session(
        db_url,
        RecordExecution(fill("a", BUY, "1", "100", order_link_id=ENTRY_LINK, exec_time=TS + 1)),
        RecordExecution(fill("x", SELL, "2", "110", order_link_id=EXIT_LINK, exec_time=TS + 2, closed_size="2")),
    )
    trades, rebuilt_open = await _stored(db_url)
    assert [(t.open_exec_id, t.status, t.pnl) for t in trades] == [("a", "closed", D(10))]
    assert rebuilt_open == []


def _partly_taken_then_reconciled() -> Trade:
    ledger = TradeLedger()
    ledger.apply(fill("a", BUY, "2", "100", fee="0.1", order_link_id=ENTRY_LINK, exec_time=TS + 1))
    ledger.apply(
        fill(
            "b",
            SELL,
            "1",
            "150",
            fee="0.05",
            exec_time=TS + 2,
            closed_size="1",
            create_type=CreateType.BY_PARTIAL_TAKE_PROFIT,
        )
    )
    [trade] = ledger.reconcile({}, TS + 3)
    return trade


def test_a_partial_exit_then_reconcile_keeps_the_realised_part() -> None:
    trade = _partly_taken_then_reconciled()
    assert (trade.status, trade.qty, trade.exit_qty, trade.exit_price, trade.exit_time) == (
        "closed",
        D(2),
        D(1),
        D(150),
        TS + 3,
    )
    assert (trade.fees, trade.pnl, trade.pnl_pct) == (D("0.15"), D("49.85"), D("49.85"))
    assert trade.exit_reason == "reconciled_partial"


def test_stats_count_the_known_part_of_a_partly_reconciled_trade() -> None:
    trade = _partly_taken_then_reconciled()
    summary = trade_summary([trade], {ENTRY_LINK: D(10)})
    assert (summary.count, summary.wins, summary.total_pnl) == (1, 1, D("49.85"))
    assert summary.avg_r == D("4.985")
    assert summary.by_reason == {"reconciled_partial": (1, D("49.85"))}
    assert equity_curve([trade]) == [(TS + 3, D("49.85"))]


async def test_a_partly_reconciled_trade_is_stored_and_survives_a_restart(db_url: str) -> None:
    await write_session(
        db_url,
        RecordExecution(fill("a", BUY, "2", "100", fee="0.1", order_link_id=ENTRY_LINK, exec_time=TS + 1)),
        RecordExecution(
            fill(
                "b",
                SELL,
                "1",
                "150",
                fee="0.05",
                exec_time=TS + 2,
                closed_size="1",
                create_type=CreateType.BY_PARTIAL_TAKE_PROFIT,
            )
        ),
        ReconcileOpenTrades({}, TS + 3),
    )
    await write_session(db_url, ReconcileOpenTrades({}, TS + 4), RecordExecution(_entry("c", exec_time=TS + 5)))
    trades, rebuilt_open = await _stored(db_url)
    assert trades[0] == _partly_taken_then_reconciled()
    assert trade_summary(trades, {}).total_pnl == D("49.85")
    assert [t.open_exec_id for t in rebuilt_open] == ["c"]


async def test_a_split_entry_whose_second_fill_arrives_after_the_exit_makes_one_trade(db_url: str) -> None:
    await write_session(
        db_url,
        RecordExecution(fill("a1", BUY, "1", "100", order_link_id=ENTRY_LINK, exec_time=TS + 1)),
        RecordExecution(fill("x", SELL, "2", "110", order_link_id=EXIT_LINK, exec_time=TS + 2, closed_size="2")),
        RecordExecution(fill("a2", BUY, "1", "100", order_link_id=ENTRY_LINK, exec_time=TS + 1)),
    )
    trades, rebuilt_open = await _stored(db_url)
    assert [(t.open_exec_id, t.status, t.qty, t.exit_qty, t.pnl) for t in trades] == [
        ("a1", "closed", D(2), D(2), D(20))
    ]
    assert rebuilt_open == []
