"""The order book, public trade and transaction-log decoders against the golden frames, the embedded exchange's
serializers, and the frames they must refuse (each with its reason, as the connection counts them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import pytest

from tests.golden import load_fixture
from tests.golden_models import BTC
from tui_bot.domain.enums import ExecType, OrderType, Side
from tui_bot.domain.market import BookLevel, OrderBookReceived, PublicTradesReceived
from tui_bot.domain.models import Execution, LedgerEntry, Position, PublicTrade
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.parse import (
    PriceBand,
    PublicDecoder,
    decode_public,
    ledger_entry_from_rest,
)
from tui_bot.sim import wire
from tui_bot.sim.transaction_log import funding_entry, trade_entry
from tui_bot.sim.wire_user import transaction_to_wire

D = Decimal
RECEIVED = 1_784_712_600_200_000_000


def raw(name: str) -> str:
    return json.dumps(load_fixture(name))


def only(events: object) -> Any:
    assert isinstance(events, list) and len(events) == 1
    return events[0]


def test_orderbook_snapshot_golden_frame() -> None:
    event = only(decode_public(raw("ws_orderbook_snapshot"), RECEIVED))
    assert event == OrderBookReceived(
        symbol="BTCUSDT",
        depth=50,
        snapshot=True,
        bids=(BookLevel(D("104250.30"), D("1.250")),),
        asks=(BookLevel(D("104250.40"), D("0.873")),),
        update_id=18521288,
        seq=9821347650,
        exchange_ts=1784712600130,
        received_ns=RECEIVED,
    )


def test_orderbook_delta_golden_frame_keeps_size_zero_as_a_delete() -> None:
    event = only(decode_public(raw("ws_orderbook_delta"), RECEIVED))
    assert (event.snapshot, event.depth, event.update_id, event.seq) == (False, 50, 18521289, 9821347655)
    assert event.bids == (BookLevel(D("104250.30"), D(0)),)
    assert event.asks == (BookLevel(D("104250.50"), D("0.311")),)


def test_level1_snapshot_golden_frame() -> None:
    event = only(decode_public(raw("ws_orderbook_1_snapshot"), RECEIVED))
    assert (event.depth, event.snapshot, event.bids[0].price, event.asks[0].size) == (
        1,
        True,
        D("104250.30"),
        D("0.873"),
    )


def test_orderbook_round_trip_through_the_exchange_serializer() -> None:
    bids = [(D("104250.3"), D("1.25")), (D("104250.1"), D("0.002"))]
    asks = [(D("104250.4"), D("0")), (D("104251"), D("7"))]
    data = wire.orderbook_to_wire("BTCUSDT", bids, asks, BTC, update_id=7, seq=99)
    frame = wire.orderbook_message("orderbook.200.BTCUSDT", "delta", 5, data, 4, depth=200)
    event = only(decode_public(orjson.dumps(frame), 0))
    assert [(b.price, b.size) for b in event.bids] == bids and [(a.price, a.size) for a in event.asks] == asks
    assert (event.depth, event.update_id, event.seq, event.exchange_ts) == (200, 7, 99, 5)


def test_public_trade_golden_frame() -> None:
    event = only(decode_public(raw("ws_public_trade"), RECEIVED))
    assert event == PublicTradesReceived(
        symbol="BTCUSDT",
        exchange_ts=1784712600126,
        received_ns=RECEIVED,
        trades=(
            PublicTrade(
                trade_id="20f43950-d8dd-5b31-9112-a178eb6023af",
                symbol="BTCUSDT",
                taker_side=Side.BUY,
                price=D("104250.40"),
                size=D("0.010"),
                time=1784712600125,
                tick_direction="PlusTick",
                seq=9821347654,
            ),
        ),
    )


def test_public_trades_round_trip_oldest_first() -> None:
    trades = [
        PublicTrade(f"t-{n}", "BTCUSDT", side, D("104250.4") + n, D("0.001") * (n + 1), 1000 + n, "PlusTick", 50 + n)
        for n, side in enumerate((Side.SELL, Side.BUY, Side.BUY))
    ]
    frame = wire.public_message(
        "publicTrade.BTCUSDT", "snapshot", 9, [wire.public_trade_to_wire(t, BTC) for t in trades]
    )
    assert only(decode_public(orjson.dumps(frame), 0)).trades == tuple(trades)


def test_transaction_log_golden_row() -> None:
    row = load_fixture("rest_transaction_log")["result"]["list"][0]
    assert ledger_entry_from_rest(row) == LedgerEntry(
        entry_id="35833391_BTCUSDT_7",
        symbol="BTCUSDT",
        kind="TRADE",
        time=1784716200002,
        cash_flow=D("5.697"),
        funding=D(0),
        fee=D("0.57651055"),
        change=D("5.12048945"),
        cash_balance=D("10004.54711225"),
        currency="USDT",
        trade_id="3a6c0f2e-91b4-5d7e-8f20-4c1b9e7d6a55",
        order_id="5f1d9c3e-77a2-4b0f-8d5e-0c6a9b2e4f31",
        order_link_id="mkt-close-0001",
    )


def test_transaction_log_round_trip_of_a_fill_and_a_funding_charge() -> None:
    fill = Execution(
        exec_id="e-1",
        order_id="o-1",
        order_link_id="lnk",
        symbol="BTCUSDT",
        side=Side.BUY,
        exec_type=ExecType.TRADE,
        exec_price=D("104820.1"),
        exec_qty=D("0.010"),
        exec_value=D("1048.201"),
        exec_fee=D("0.57"),
        fee_rate=D("0.00055"),
        exec_time=1784716200002,
        is_maker=False,
        order_type=OrderType.MARKET,
        order_price=D("104820.1"),
        order_qty=D("0.010"),
        leaves_qty=D(0),
        closed_size=D("0.010"),
        exec_pnl=D("-12.5"),
        mark_price=D("104821"),
        index_price=D("104819.5"),
        seq=17,
    )
    short = Position(symbol="BTCUSDT", side=Side.SELL, size=D("0.02"), entry_price=D("104000"))
    closing = ledger_entry_from_rest(transaction_to_wire(trade_entry(7, fill, short, D("9987.43")), BTC))
    assert (closing.kind, closing.cash_flow, closing.fee, closing.change) == (
        "TRADE",
        D("-12.5"),
        D("0.57"),
        D("-13.07"),
    )
    assert closing.trade_id == fill.exec_id and closing.cash_balance == D("9987.43")
    charge = replace(fill, exec_id="f-1", exec_type=ExecType.FUNDING, exec_fee=D("0.03"), exec_pnl=D(0))
    paid = ledger_entry_from_rest(transaction_to_wire(funding_entry(7, charge, short, D("9987.40")), BTC))
    assert (paid.kind, paid.funding, paid.fee, paid.change) == ("SETTLEMENT", D("-0.03"), D(0), D("-0.03"))


# -- refused frames: the reason is what the connection counts --------------------------------------


def book(change: Callable[[dict[str, Any]], None], name: str = "ws_orderbook_delta") -> bytes:
    frame = load_fixture(name)
    change(frame)
    return orjson.dumps(frame)


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(frame: dict[str, Any]) -> None:
        parent = frame
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value

    return change


@pytest.mark.parametrize(
    ("frame", "reason", "words"),
    [
        (book(_set("data", "a", 0, 0, value="1e5")), "number", "bad number in a price: '1e5'"),
        (book(_set("data", "a", 0, 1, value="0.3_1")), "number", "bad number in a size"),
        (book(_set("data", "b", 0, 1, value="-1")), "sign", "negative number in b size"),
        (book(_set("data", "b", 0, 0, value="0")), "range", "b price"),
        (book(_set("data", "b", 0, 1, value="0"), "ws_orderbook_snapshot"), "range", "zero in a snapshot"),
        (book(_set("data", "a", 0, value=["104250.50", "0.311", "x"])), "malformed", "expected \\[price, size\\]"),
        (book(_set("data", "a", 0, value={"p": "1"})), "malformed", "expected \\[price, size\\]"),
        (book(_set("data", "a", 0, value=[104250.5, "0.311"])), "malformed", "expected a number string"),
        (book(_set("data", "b", value="104250.30")), "malformed", "b: expected an array"),
        (book(_set("data", "u", value="18521289")), "malformed", "u: expected an integer"),
        (book(lambda f: f["data"].pop("u")), "malformed", "u: expected an integer"),
        (book(_set("type", value="partial")), "malformed", "bad orderbook type"),
        (book(_set("data", value=[])), "malformed", "data: expected an object"),
        (book(_set("topic", value="orderbook.fifty.BTCUSDT")), "unknown topic", "unknown topic"),
        (book(_set("topic", value="orderbook.50")), "unknown topic", "unknown topic"),
        (book(_set("data", "s", value="ETHUSDT")), "topic", "s 'ETHUSDT' on topic"),
    ],
)
def test_malformed_book_frames_are_refused_with_their_reason(frame: bytes, reason: str, words: str) -> None:
    with pytest.raises(FrameError, match=words) as refused:
        decode_public(frame, 0)
    assert refused.value.reason == reason


def trade(change: Callable[[dict[str, Any]], None]) -> bytes:
    return book(change, "ws_public_trade")


@pytest.mark.parametrize(
    ("frame", "reason", "words"),
    [
        (trade(_set("data", 0, "p", value="abc")), "number", "bad number in p"),
        (trade(_set("data", 0, "v", value="0")), "range", "v: '0' \\(must be positive\\)"),
        (trade(_set("data", 0, "v", value="-0.01")), "sign", "negative number in v"),
        (trade(_set("data", 0, "S", value="Hold")), "malformed", "unknown S"),
        (trade(_set("data", 0, "T", value="17847126OO125")), "number", "bad number in T"),
        (trade(_set("data", 0, "BT", value="false")), "malformed", "BT: expected a boolean"),
        (trade(lambda f: f["data"][0].pop("i")), "malformed", "missing i"),
        (trade(_set("data", 0, value=["20f4", "Buy"])), "malformed", "expected an object"),
        (trade(_set("type", value="delta")), "malformed", "bad publicTrade type"),
        (trade(_set("data", 0, "s", value="ETHUSDT")), "topic", "s 'ETHUSDT' on topic"),
    ],
)
def test_malformed_trade_frames_are_refused_with_their_reason(frame: bytes, reason: str, words: str) -> None:
    with pytest.raises(FrameError, match=words) as refused:
        decode_public(frame, 0)
    assert refused.value.reason == reason


def test_book_and_trade_prices_must_lie_in_the_price_filter() -> None:
    decoder = PublicDecoder({"BTCUSDT": PriceBand(D("0.10"), D("199999.80"))})
    decoder.decode(raw("ws_orderbook_delta"), 0)
    for frame, words in (
        (book(_set("data", "a", 0, 0, value="200000.00")), "a price: '200000.00' \\(outside"),
        (trade(_set("data", 0, "p", value="0.05")), "p: '0.05' \\(outside"),
    ):
        with pytest.raises(FrameError, match=words) as refused:
            decoder.decode(frame, 0)
        assert refused.value.reason == "range"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("change", "1e2", "number"),
        ("cashFlow", " 5.697", "number"),
        ("transactionTime", "-1", "sign"),
        ("id", 7, "malformed"),
        ("type", None, "malformed"),
    ],
)
def test_malformed_transaction_rows_are_refused(key: str, value: Any, reason: str) -> None:
    row = {**load_fixture("rest_transaction_log")["result"]["list"][0], key: value}
    with pytest.raises(FrameError) as refused:
        ledger_entry_from_rest(row)
    assert refused.value.reason == reason
