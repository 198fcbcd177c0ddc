"""Attribution rules and the per-bot ledger on hand-made executions: another program's fills in a symbol our bot
holds stay out of our bot's trade; the exchange's own orders go to the holder, ours before another program."""

from __future__ import annotations

from dataclasses import replace

from tests.store.factories import D, fill, funding, link, order, write_session
from tui_bot.domain.enums import CreateType, ExecType, OrderStatus, Side, StopOrderType
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.store.attribution import EXTERNAL, Attribution, attribute_execution, attribute_order
from tui_bot.store.db import open_database
from tui_bot.store.ops import RecordExecution
from tui_bot.store.repos import load_trades
from tui_bot.store.trades import TradeLedger

BUY, SELL = Side.BUY, Side.SELL
OTHER_BOT = OrderIdFactory("bot2")
TS = 1_700_000_000_000


def _nobody(_symbol: str) -> str | None:
    return None


def test_the_rules() -> None:
    ours = fill("a", BUY, "1", "100", order_link_id=link(OrderReason.ENTRY))
    assert attribute_execution(ours, _nobody) == Attribution("bot1", "entry")
    lookalike = replace(ours, order_link_id="grid-7-open-x")
    assert attribute_execution(lookalike, lambda _s: "bot1") == Attribution(EXTERNAL, None)
    stop = fill("s", SELL, "1", "90", create_type=CreateType.BY_STOP_LOSS, stop_order_type=StopOrderType.STOP_LOSS)
    assert attribute_execution(stop, lambda _s: "bot1") == Attribution("bot1", "stop_loss")
    assert attribute_execution(stop, _nobody) == Attribution(EXTERNAL, "stop_loss"), "a position none of ours holds"
    adl = fill("d", SELL, "1", "90", exec_type=ExecType.ADL_TRADE)
    assert attribute_execution(adl, lambda _s: "bot1") == Attribution("bot1", "adl")
    assert attribute_execution(funding("f", "0.1"), lambda _s: "bot1") == Attribution("bot1", "funding")


def test_exchange_tp_sl_orders_belong_to_the_bot_of_their_parent_order() -> None:
    tp = replace(
        order("tp", OrderStatus.UNTRIGGERED, 1),
        create_type=CreateType.BY_TAKE_PROFIT,
        stop_order_type=StopOrderType.TAKE_PROFIT,
        parent_order_link_id=OTHER_BOT.new(OrderReason.ENTRY),
    )
    assert attribute_order(tp, lambda _s: "bot1") == Attribution("bot2", "take_profit")
    assert attribute_order(replace(tp, parent_order_link_id=""), lambda _s: "bot1") == Attribution(
        "bot1", "take_profit"
    )
    assert attribute_order(order("o", OrderStatus.NEW, 1), lambda _s: "bot1") == Attribution(EXTERNAL, None)


def test_another_programs_fills_never_touch_our_bots_trade() -> None:
    ledger = TradeLedger()
    ledger.apply(fill("a", BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY), exec_time=1))
    [theirs] = ledger.apply(fill("x", BUY, "2", "101", fee="0.2", order_link_id="grid-7-open-x", exec_time=2))
    assert (theirs.bot, theirs.qty) == (EXTERNAL, D(2))
    assert ledger.apply(fill("y", SELL, "0.5", "102", order_link_id="grid-7-cut-x", exec_time=3, closed_size="0.5"))
    ours = ledger.open_trade("BTCUSDT", "bot1")
    assert ours is not None and (ours.qty, ours.exit_qty, ours.fees) == (D(1), D(0), D("0.1"))
    [funded] = ledger.apply(funding("f", "0.3", exec_time=4))
    assert (funded.bot, funded.fees) == ("bot1", D("0.4")), "funding goes to our holder before another program"
    tp = fill("t", SELL, "1", "110", exec_time=5, create_type=CreateType.BY_TAKE_PROFIT, closed_size="1")
    [closed] = ledger.apply(tp)
    assert (closed.bot, closed.status, closed.exit_reason, closed.pnl) == ("bot1", "closed", "take_profit", D("9.6"))
    assert [(t.bot, t.qty, t.exit_qty) for t in ledger.open_trades()] == [(EXTERNAL, D(2), D("0.5"))]


def test_our_bot_closing_a_position_another_program_opened_closes_that_trade() -> None:
    ledger = TradeLedger()
    ledger.apply(fill("w", BUY, "2", "100", fee="0.2", exec_time=1))  # e.g. the exchange's web page: no orderLinkId
    exit_link = link(OrderReason.MANUAL_EXIT)
    [closed] = ledger.apply(fill("c", SELL, "2", "105", order_link_id=exit_link, exec_time=2, closed_size="2"))
    assert (closed.bot, closed.status, closed.exit_reason, closed.pnl) == (EXTERNAL, "closed", "manual_exit", D("9.8"))
    assert ledger.open_trades() == []


def test_two_bots_in_two_symbols_keep_two_trades_and_reconcile_closes_each() -> None:
    ledger = TradeLedger()
    ledger.apply(fill("a", BUY, "1", "100", order_link_id=link(OrderReason.ENTRY)))
    ledger.apply(fill("b", SELL, "3", "20", symbol="ETHUSDT", order_link_id=OTHER_BOT.new(OrderReason.ENTRY)))
    assert [(t.bot, t.symbol) for t in ledger.open_trades()] == [("bot1", "BTCUSDT"), ("bot2", "ETHUSDT")]
    assert ledger.holder("ETHUSDT") == "bot2" and ledger.holder("SOLUSDT") is None
    closed = ledger.reconcile({"BTCUSDT": BUY}, 9)
    assert [(t.bot, t.exit_reason) for t in closed] == [("bot2", "reconciled")]


async def test_a_late_entry_fill_moves_the_funding_stored_before_it_to_its_bot(db_url: str) -> None:
    """Funding that arrived before the (earlier) entry fill was stored as external; the rebooking makes it the bot's."""
    entry = fill("e1", BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY), exec_time=TS + 1)
    await write_session(db_url, RecordExecution(funding("f1", "0.3", exec_time=TS + 3)), RecordExecution(entry))
    conn = await open_database(db_url)
    try:
        rows = await conn.fetch("SELECT exec_id, bot, reason FROM executions ORDER BY exec_id")
        assert [tuple(r) for r in rows] == [("e1", "bot1", "entry"), ("f1", "bot1", "funding")]
        [trade] = await load_trades(conn)
        assert (trade.bot, trade.fees) == ("bot1", D("0.4"))
    finally:
        await conn.close()
