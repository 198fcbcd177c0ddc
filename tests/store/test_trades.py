"""The trade ledger: VWAP entries and exits, fees, flips, funding, exit reasons, rollback, a bounded footprint."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterable

from tests.store.factories import D, fill, funding, link
from tui_bot.domain.enums import CreateType, ExecType, Side, StopOrderType
from tui_bot.domain.models import Execution
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.attribution import EXTERNAL, exit_reason
from tui_bot.store.rows import Trade
from tui_bot.store.trades import TradeLedger

BUY, SELL = Side.BUY, Side.SELL


def run(executions: Iterable[Execution], ledger: TradeLedger | None = None) -> dict[str, Trade]:
    """The latest state of every trade the executions touched, by opening exec id."""
    ledger = ledger or TradeLedger()
    latest: dict[str, Trade] = {}
    for execution in executions:
        for trade in ledger.apply(execution):
            latest[trade.open_exec_id] = trade
    return latest


def test_long_win_closed_by_the_exchange_take_profit() -> None:
    entry = fill("e1", BUY, "0.5", "100", fee="0.0275", order_link_id=link(OrderReason.ENTRY), exec_time=1)
    tp = fill(
        "e2",
        SELL,
        "0.5",
        "110",
        fee="0.03025",
        exec_time=2,
        create_type=CreateType.BY_TAKE_PROFIT,
        stop_order_type=StopOrderType.TAKE_PROFIT,
        closed_size="0.5",
    )
    trades = run([entry, tp])
    assert list(trades) == ["e1"]
    trade = trades["e1"]
    assert trade.status == "closed" and trade.side is BUY and trade.qty == D("0.5")
    assert (trade.entry_price, trade.exit_price) == (D(100), D(110))
    assert trade.fees == D("0.05775")
    assert trade.pnl == D("4.94225")
    assert trade.pnl_pct == D("9.8845")
    assert trade.exit_reason == "take_profit"
    assert (trade.entry_time, trade.exit_time) == (1, 2)
    assert trade.entry_order_link_id == entry.order_link_id and trade.exit_order_link_id == ""
    assert trade.bot == "bot1"


def test_short_loss_closed_by_our_stop_loss_order() -> None:
    trades = run(
        [
            fill("s1", SELL, "2", "50", fee="0.1", order_link_id=link(OrderReason.ENTRY)),
            fill("s2", BUY, "2", "52", fee="0.1", order_link_id=link(OrderReason.STOP_LOSS)),
        ]
    )
    trade = trades["s1"]
    assert (trade.status, trade.side, trade.exit_reason) == ("closed", SELL, "stop_loss")
    assert trade.pnl == D("-4.2")
    assert trade.pnl_pct == D("-4.2")


def test_scale_in_partial_exits_then_flat() -> None:
    ledger = TradeLedger()
    opened = run(
        [
            fill("p1", BUY, "1", "90", fee="0.05", order_link_id=link(OrderReason.ENTRY)),
            fill("p2", BUY, "1", "110", fee="0.05", order_link_id=link(OrderReason.SCALE_IN)),
            fill("p3", SELL, "0.5", "120", fee="0.05", order_link_id=link(OrderReason.TAKE_PROFIT)),
        ],
        ledger,
    )["p1"]
    assert opened.status == "open" and opened.pnl is None
    assert (opened.qty, opened.entry_price, opened.exit_qty, opened.exit_price) == (D(2), D(100), D("0.5"), D(120))
    assert ledger.open_trade("BTCUSDT") == opened

    closed = run([fill("p4", SELL, "1.5", "104", fee="0.05", order_link_id=link(OrderReason.MANUAL_EXIT))], ledger)[
        "p1"
    ]
    assert closed.status == "closed" and closed.exit_qty == D(2)
    assert closed.exit_price == D(108)
    assert closed.fees == D("0.20")
    assert closed.pnl == D("15.80")
    assert closed.pnl_pct == D("7.9")
    assert closed.exit_reason == "manual_exit"
    assert ledger.open_trade("BTCUSDT") is None


def test_flip_closes_the_trade_and_opens_the_other_side_with_the_rest() -> None:
    ledger = TradeLedger()
    run([fill("f1", BUY, "1", "100", fee="0.1", order_link_id=link(OrderReason.ENTRY))], ledger)
    changed = ledger.apply(fill("f2", SELL, "3", "110", fee="0.3", order_link_id=link(OrderReason.ENTRY)))
    assert [(t.open_exec_id, t.status) for t in changed] == [("f1", "closed"), ("f2", "open")]
    long, short = changed
    assert long.pnl == D("9.8") and long.fees == D("0.2") and long.exit_reason == "entry"
    assert (short.side, short.qty, short.entry_price, short.fees) == (SELL, D(2), D(110), D("0.2"))

    final = run([fill("f3", BUY, "2", "100", order_link_id=link(OrderReason.TAKE_PROFIT))], ledger)["f2"]
    assert final.pnl == D("19.8")
    assert final.pnl_pct == D("9")
    assert final.exit_reason == "take_profit"


def test_funding_fees_count_against_the_open_trade_only() -> None:
    trades = run(
        [
            funding("x0", "0.5"),
            fill("x1", BUY, "1", "100"),
            funding("x2", "0.05"),
            funding("x3", "-0.01"),
            fill("x4", SELL, "1", "101", order_link_id="my-other-tool"),
        ]
    )
    assert list(trades) == ["x1"]
    trade = trades["x1"]
    assert trade.fees == D("0.04")
    assert trade.pnl == D("0.96")
    assert trade.exit_reason == "external"
    assert trade.bot == EXTERNAL, "funding joins the trade of the program holding the position"


def test_exit_reasons() -> None:
    def reason(**kwargs: object) -> str:
        return exit_reason(fill("r", SELL, "1", "1", **kwargs))  # type: ignore[arg-type]

    assert reason(order_link_id=link(OrderReason.PANIC)) == "panic"
    assert reason(order_link_id=link(OrderReason.TIME_EXIT)) == "time_exit"
    assert reason(order_link_id=link(OrderReason.MANUAL_ENTRY)) == "manual_exit", "a ticket order that reduced"
    assert reason(create_type=CreateType.BY_STOP_LOSS) == "stop_loss"
    assert reason(create_type=CreateType.BY_TRAILING_STOP) == "trailing_stop"
    assert reason(stop_order_type=StopOrderType.TRAILING_STOP) == "trailing_stop"
    assert reason(stop_order_type=StopOrderType.PARTIAL_TAKE_PROFIT) == "take_profit"
    assert reason(exec_type=ExecType.BUST_TRADE) == "liquidation"
    assert reason(exec_type=ExecType.ADL_TRADE) == "adl"
    assert reason() == "external"
    assert reason(order_link_id="abc-def") == "external"


def test_symbols_are_independent() -> None:
    trades = run(
        [
            fill("a1", BUY, "1", "100", symbol="BTCUSDT"),
            fill("b1", SELL, "10", "2", symbol="ETHUSDT"),
            fill("a2", SELL, "1", "90", symbol="BTCUSDT"),
        ]
    )
    assert trades["a1"].pnl == D(-10) and trades["b1"].status == "open"


def test_closing_fill_of_an_unknown_position_opens_only_the_remainder() -> None:
    ledger = TradeLedger()
    assert ledger.apply(fill("u1", SELL, "1", "100", closed_size="1")) == []
    [trade] = ledger.apply(fill("u2", SELL, "3", "100", fee="0.3", closed_size="1"))
    assert (trade.side, trade.qty, trade.fees) == (SELL, D(2), D("0.2"))


def test_rollback_returns_to_the_checkpoint() -> None:
    ledger = TradeLedger()
    ledger.apply(fill("c1", BUY, "1", "100"))
    before = ledger.open_trades()
    ledger.checkpoint()
    ledger.apply(fill("c2", BUY, "1", "120"))
    ledger.apply(fill("c3", SELL, "2", "130"))
    ledger.rollback()
    assert ledger.open_trades() == before
    assert ledger.apply(fill("c2", BUY, "1", "120"))[0].qty == D(2)


def test_the_ledger_keeps_nothing_per_fill_once_its_trades_are_closed() -> None:
    ledger = TradeLedger()

    def round_trips(first: int, count: int) -> None:
        for i in range(first, first + count, 2):
            run(
                [fill(f"x{i}", BUY, "1", "100", exec_time=i), fill(f"x{i + 1}", SELL, "1", "101", exec_time=i + 1)],
                ledger,
            )

    round_trips(0, 100)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        round_trips(1_000_000, 4_000)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4_000, f"{kept:,} bytes kept after 4,000 fills"
    assert ledger.open_trades() == []
