"""AccountState: idempotent executions, ordered order updates, position seq, ticker merge and re-marking."""

from __future__ import annotations

from decimal import Decimal as D

from tui_bot.core.state import AccountState, PositionMarked
from tui_bot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.events import ExecutionReceived, OrderUpdated, PositionUpdated, TickerUpdated
from tui_bot.domain.models import Execution, Order, Position


def _order(status: OrderStatus, updated: int, filled: str = "0") -> Order:
    return Order("o1", "tb1-me-x-1", "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.010"), D("100000"), TimeInForce.GTC,
                 status, 1, updated, cum_exec_qty=D(filled))


def _exec(exec_id: str, t: int) -> Execution:
    return Execution(exec_id, "o1", "", "BTCUSDT", Side.BUY, ExecType.TRADE, D("100000"), D("0.01"), D("1000"),
                     D("0.55"), D("0.00055"), t, False, OrderType.MARKET, D("0"), D("0.01"), D("0"), D("0"), D("0"),
                     D("100000"), D("100000"), 1)


def _ev(obj: object, cls: type) -> object:
    key = {OrderUpdated: "order", ExecutionReceived: "execution", PositionUpdated: "position"}[cls]
    return cls(**{key: obj}, exchange_ts=1, received_ns=1)


def test_duplicate_executions_are_ignored() -> None:
    state = AccountState()
    assert state.apply(_ev(_exec("e1", 10), ExecutionReceived))
    assert state.apply(_ev(_exec("e1", 10), ExecutionReceived)) == []
    assert state.duplicates_ignored == 1 and state.last_exec_time == 10


def test_older_order_update_does_not_overwrite_newer() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.PARTIALLY_FILLED, 20, "0.005"), OrderUpdated))
    assert state.apply(_ev(_order(OrderStatus.NEW, 10), OrderUpdated)) == []
    assert state.open_orders["o1"].status is OrderStatus.PARTIALLY_FILLED
    state.apply(_ev(_order(OrderStatus.FILLED, 30, "0.010"), OrderUpdated))
    assert "o1" not in state.open_orders and state.closed_orders["o1"].status is OrderStatus.FILLED


def test_closed_order_never_reopens_even_with_equal_time() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.FILLED, 30, "0.010"), OrderUpdated))
    assert state.apply(_ev(_order(OrderStatus.PARTIALLY_FILLED, 31, "0.005"), OrderUpdated)) == []
    assert state.open_orders == {}


def test_position_seq_orders_updates_and_flat_removes() -> None:
    state = AccountState()
    state.apply(_ev(Position("BTCUSDT", Side.BUY, D("0.02"), D("100000"), seq=5), PositionUpdated))
    assert state.apply(_ev(Position("BTCUSDT", Side.BUY, D("0.01"), D("100000"), seq=4), PositionUpdated)) == []
    assert state.positions["BTCUSDT"].size == D("0.02")
    state.apply(_ev(Position("BTCUSDT", None, D("0"), D("0"), seq=6), PositionUpdated))
    assert state.positions == {}


def test_ticker_deltas_merge_and_remark_the_position() -> None:
    state = AccountState()
    state.apply(_ev(Position("BTCUSDT", Side.SELL, D("0.5"), D("100000"), leverage=D("10"), seq=1), PositionUpdated))
    state.apply(TickerUpdated(symbol="BTCUSDT", snapshot=True, fields={"last_price": D("100000"), "mark_price": D("100000")},
                              exchange_ts=1, received_ns=1))
    changes = state.apply(TickerUpdated(symbol="BTCUSDT", snapshot=False, fields={"mark_price": D("99000")},
                                        exchange_ts=2, received_ns=2))
    mark = [c for c in changes if isinstance(c, PositionMarked)]
    assert mark == [PositionMarked("BTCUSDT", D("99000"), D("500.0"), D("10.00"))]
    assert state.tickers["BTCUSDT"].last_price == D("100000")
    assert state.positions["BTCUSDT"].unrealised_pnl == D("500.0")


def test_reseed_closes_orders_rest_no_longer_lists_and_counts_divergences() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.NEW, 10), OrderUpdated))
    assert state.replace_open_orders([], as_of_ms=5) == 0
    assert "o1" in state.open_orders
    assert state.replace_open_orders([], as_of_ms=11) == 1
    assert state.open_orders == {} and "o1" in state.closed_orders
    assert state.replace_positions([Position("ETHUSDT", Side.BUY, D("1"), D("3000"), seq=3)], as_of_ms=100) == 1
    assert state.symbols_in_use() == {"ETHUSDT"}
