"""AccountState: idempotent executions, ordered order updates, position seq, ticker merge and re-marking."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal as D

import orjson
import pytest

from tui_bot.core.bus import Subscription
from tui_bot.core.state import AccountState, PendingOrder, PositionMarked
from tui_bot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.events import ExecutionReceived, OrderUpdated, PositionUpdated, TickerUpdated
from tui_bot.domain.live_ticker import LiveTicker, TickerFields
from tui_bot.domain.models import Execution, Order, Position
from tui_bot.exchange.bybit.parse import decode_public


def _order(status: OrderStatus, updated: int, filled: str = "0") -> Order:
    return Order(
        "o1",
        "tb1-me-x-1",
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        D("0.010"),
        D("100000"),
        TimeInForce.GTC,
        status,
        1,
        updated,
        cum_exec_qty=D(filled),
    )


def _exec(exec_id: str, t: int) -> Execution:
    return Execution(
        exec_id,
        "o1",
        "",
        "BTCUSDT",
        Side.BUY,
        ExecType.TRADE,
        D("100000"),
        D("0.01"),
        D("1000"),
        D("0.55"),
        D("0.00055"),
        t,
        False,
        OrderType.MARKET,
        D("0"),
        D("0.01"),
        D("0"),
        D("0"),
        D("0"),
        D("100000"),
        D("100000"),
        1,
    )


def _ev(obj: object, cls: type) -> object:
    key = {OrderUpdated: "order", ExecutionReceived: "execution", PositionUpdated: "position"}[cls]
    return cls(**{key: obj}, exchange_ts=1, received_ns=1)


def test_duplicate_executions_are_ignored() -> None:
    state = AccountState()
    assert state.apply(_ev(_exec("e1", 10), ExecutionReceived))
    assert state.apply(_ev(_exec("e1", 10), ExecutionReceived)) == []
    assert state.duplicates_ignored == 1 and state.last_exec_time == 10


def test_exec_ids_before_the_floor_are_forgotten_and_executions_that_old_refused() -> None:
    state = AccountState()
    for exec_id, t in (("e1", 10), ("e2", 20)):
        state.apply(_ev(_exec(exec_id, t), ExecutionReceived))
    state.forget_executions_before(15)
    assert state.exec_ids == {"e2": 20} and state.exec_floor_ms == 15
    assert state.apply(_ev(_exec("e1", 10), ExecutionReceived)) == [], "forgotten, yet not applied again"
    assert state.apply(_ev(_exec("e3", 14), ExecutionReceived)) == [], "before the floor: memory cannot tell"
    assert state.apply(_ev(_exec("e4", 15), ExecutionReceived)) and state.duplicates_ignored == 2
    state.forget_executions_before(5)
    assert state.exec_floor_ms == 15, "the floor never moves back"


def test_closed_orders_stay_capped_when_a_reseed_closes_many() -> None:
    state = AccountState()
    for i in range(300):
        state.apply(_ev(dataclasses.replace(_order(OrderStatus.NEW, 10), order_id=f"o{i}"), OrderUpdated))
    assert state.replace_open_orders([], as_of_ms=20) == 300
    assert state.open_orders == {} and len(state.unresolved) == 300, "they wait for their final state"
    for i in range(300):
        state.apply(_ev(dataclasses.replace(_order(OrderStatus.CANCELLED, 30), order_id=f"o{i}"), OrderUpdated))
    assert state.unresolved == {} and len(state.closed_orders) == 200 and "o299" in state.closed_orders


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


def test_an_update_older_than_the_flat_one_does_not_reopen_the_position() -> None:
    state = AccountState()
    state.apply(_ev(Position("BTCUSDT", None, D("0"), D("0"), seq=2), PositionUpdated))  # the close arrived first
    assert state.apply(_ev(Position("BTCUSDT", Side.BUY, D("0.01"), D("100000"), seq=1), PositionUpdated)) == []
    assert state.positions == {} and state.stale_ignored == 1
    assert state.replace_positions([Position("BTCUSDT", Side.BUY, D("0.01"), D("100000"), seq=1)], as_of_ms=10) == 0
    assert state.positions == {}
    state.apply(_ev(Position("BTCUSDT", Side.SELL, D("0.02"), D("100000"), seq=3), PositionUpdated))  # a new one opens
    assert state.positions["BTCUSDT"].size == D("0.02")


def test_ticker_deltas_merge_and_remark_the_position() -> None:
    state = AccountState()
    state.apply(_ev(Position("BTCUSDT", Side.SELL, D("0.5"), D("100000"), leverage=D("10"), seq=1), PositionUpdated))
    state.apply(
        TickerUpdated(
            symbol="BTCUSDT",
            snapshot=True,
            fields={"last_price": D("100000"), "mark_price": D("100000")},
            exchange_ts=1,
            received_ns=1,
        )
    )
    changes = state.apply(
        TickerUpdated(symbol="BTCUSDT", snapshot=False, fields={"mark_price": D("99000")}, exchange_ts=2, received_ns=2)
    )
    mark = [c for c in changes if isinstance(c, PositionMarked)]
    assert mark == [PositionMarked("BTCUSDT", D("99000"), D("500.0"), D("10.00"))]
    assert state.tickers["BTCUSDT"].last_price == D("100000")
    assert state.positions["BTCUSDT"].unrealised_pnl == D("500.0")


def test_reseed_sets_aside_orders_rest_no_longer_lists_and_counts_divergences() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.NEW, 10), OrderUpdated))
    assert state.replace_open_orders([], as_of_ms=5) == 0
    assert "o1" in state.open_orders
    assert state.replace_open_orders([], as_of_ms=11) == 1
    assert state.open_orders == {} and state.closed_orders == {}, "closed, but how is not known yet"
    assert state.unresolved["o1"] == PendingOrder("BTCUSDT", "o1", 1, _order(OrderStatus.NEW, 10))
    assert state.replace_positions([Position("ETHUSDT", Side.BUY, D("1"), D("3000"), seq=3)], as_of_ms=100) == 1
    assert state.symbols_in_use() == {"ETHUSDT"}


def test_an_order_set_aside_takes_its_final_state_and_never_reopens_on_an_older_update() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.NEW, 10), OrderUpdated))
    state.replace_open_orders([], as_of_ms=11)
    assert state.knows(_order(OrderStatus.NEW, 10)) and not state.knows(_order(OrderStatus.CANCELLED, 10))
    assert state.apply(_ev(_order(OrderStatus.NEW, 9), OrderUpdated)) == [] and "o1" in state.unresolved
    assert state.apply(_ev(_order(OrderStatus.FILLED, 12, "0.010"), OrderUpdated))
    assert state.unresolved == {} and state.closed_orders["o1"].status is OrderStatus.FILLED
    assert state.apply(_ev(_order(OrderStatus.NEW, 13), OrderUpdated)) == [] and state.open_orders == {}


def test_an_order_set_aside_that_rest_lists_again_is_open() -> None:
    state = AccountState()
    state.apply(_ev(_order(OrderStatus.NEW, 10), OrderUpdated))
    state.replace_open_orders([], as_of_ms=11)
    assert state.replace_open_orders([_order(OrderStatus.NEW, 10)], as_of_ms=12) == 0
    assert state.unresolved == {} and state.open_orders["o1"] == _order(OrderStatus.NEW, 10)


def _wire(kind: str, ts: int, **data: object) -> TickerUpdated:
    frame = {"topic": "tickers.BTCUSDT", "type": kind, "ts": ts, "cs": 1, "data": {"symbol": "BTCUSDT", **data}}
    events = decode_public(orjson.dumps(frame), ts)
    assert isinstance(events, list) and isinstance(events[0], TickerUpdated)
    return events[0]


def test_wire_tickers_merge_as_strings_and_read_as_decimals() -> None:
    state = AccountState()
    state.apply(
        _wire(
            "snapshot",
            1,
            lastPrice="100000.0",
            markPrice="100001.5",
            fundingRate="0.0001",
            nextFundingTime="1784736000000",
            tickDirection="PlusTick",
            basis="",
        )
    )
    state.apply(_wire("delta", 2, bid1Price="99999.9", fundingRate="", tickDirection="MinusTick"))
    ticker = state.tickers["BTCUSDT"]
    assert isinstance(ticker, LiveTicker) and ticker.raw["bid1Price"] == "99999.9"
    assert (ticker.last_price, ticker.mark_price, ticker.bid1_price) == (D("100000.0"), D("100001.5"), D("99999.9"))
    assert (ticker.funding_rate, ticker.next_funding_time, ticker.tick_direction) == (
        D("0.0001"),
        1784736000000,
        "MinusTick",
    )
    assert ticker.ask1_price == D(0) and isinstance(ticker.last_price, D)


def test_wire_mark_remarks_only_a_symbol_with_a_position() -> None:
    state = AccountState()
    assert len(state.apply(_wire("snapshot", 1, markPrice="100000"))) == 1
    state.apply(_ev(Position("BTCUSDT", Side.BUY, D("0.5"), D("100000"), leverage=D("10"), seq=1), PositionUpdated))
    changes = state.apply(_wire("delta", 2, markPrice="101000"))
    assert [c for c in changes if isinstance(c, PositionMarked)] == [
        PositionMarked("BTCUSDT", D("101000"), D("500"), D("10.00"))
    ]
    assert len(state.apply(_wire("delta", 3, bid1Price="100999"))) == 1


def test_plain_fields_after_wire_fields_keep_every_value() -> None:
    state = AccountState()
    state.apply(_wire("snapshot", 1, lastPrice="100", markPrice="101"))
    state.apply(
        TickerUpdated(symbol="BTCUSDT", snapshot=False, fields={"mark_price": D("102")}, exchange_ts=2, received_ns=2)
    )
    state.apply(_wire("delta", 3, lastPrice="103"))
    ticker = state.tickers["BTCUSDT"]
    assert (ticker.last_price, ticker.mark_price) == (D("103"), D("102"))
    assert ticker.to_ticker().mark_price == D("102") and ticker.values() == {
        "last_price": D("103"),
        "mark_price": D("102"),
    }


async def test_bus_coalesces_wire_deltas_without_converting_them() -> None:
    sub = Subscription()
    first = _wire("delta", 1, bid1Price="1.5", ask1Price="1.6")
    sub.push(first)
    sub.push(_wire("delta", 2, ask1Price="1.7"))
    sub.push(
        TickerUpdated(symbol="BTCUSDT", snapshot=True, fields={"last_price": D("1.65")}, exchange_ts=3, received_ns=3)
    )
    sub.push(_wire("delta", 4, bid1Size="9"))
    (merged,) = await sub.next_batch()
    assert isinstance(merged, TickerUpdated) and (merged.snapshot, merged.exchange_ts, sub.coalesced) == (True, 4, 3)
    assert dict(merged.fields) == {
        "bid1_price": D("1.5"),
        "ask1_price": D("1.7"),
        "last_price": D("1.65"),
        "bid1_size": D("9"),
    }
    assert first.fields == {"bid1_price": D("1.5"), "ask1_price": D("1.6")}


async def test_bus_keeps_raw_strings_while_codecs_match() -> None:
    sub = Subscription()
    sub.push(_wire("delta", 1, bid1Price="1.5"))
    sub.push(_wire("delta", 2, ask1Price="1.7"))
    (merged,) = await sub.next_batch()
    assert isinstance(merged, TickerUpdated) and isinstance(merged.fields, TickerFields)
    assert merged.fields.raw == {"bid1Price": "1.5", "ask1Price": "1.7"} and merged.exchange_ts == 2


async def test_bus_take_returns_what_is_queued_now_without_waiting() -> None:
    sub = Subscription()
    assert sub.take() == []
    filled, updated = _ev(_exec("e1", 10), ExecutionReceived), _ev(_order(OrderStatus.FILLED, 11), OrderUpdated)
    sub.push(filled)
    sub.push(_wire("delta", 1, bid1Price="1.5"))
    sub.push(updated)
    sub.push(_wire("delta", 2, ask1Price="1.7"))
    first, second, merged = sub.take()
    assert (first, second) == (filled, updated) and sub.coalesced == 1
    assert isinstance(merged, TickerUpdated) and dict(merged.fields) == {"bid1_price": D("1.5"), "ask1_price": D("1.7")}
    assert sub.take() == []
    sub.push(_wire("delta", 3, bid1Price="1.4"))
    (later,) = await asyncio.wait_for(sub.next_batch(), 1.0)
    assert isinstance(later, TickerUpdated) and later.exchange_ts == 3


async def test_bus_next_batch_waits_again_after_take_drained_the_queue() -> None:
    sub = Subscription()
    sub.push(_wire("delta", 1, bid1Price="1.5"))
    assert len(sub.take()) == 1
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sub.next_batch(), 0.05)
    waiting = asyncio.create_task(sub.next_batch())
    await asyncio.sleep(0)
    sub.push(_wire("delta", 2, bid1Price="1.6"))
    assert len(sub.take()) == 1  # the waiter was woken, but must not hand back an empty batch
    await asyncio.sleep(0.01)
    assert not waiting.done()
    sub.push(_wire("delta", 3, bid1Price="1.7"))
    (later,) = await asyncio.wait_for(waiting, 1.0)
    assert isinstance(later, TickerUpdated) and later.exchange_ts == 3
