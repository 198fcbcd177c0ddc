"""Absurd or non-strict numbers and frames whose body disagrees with their topic are refused, counted and logged.

Every bad frame is a golden frame with one value changed. Public ones go through a StreamConnection's
handle_frame into an AccountState holding an open position, which must not change; private and REST
ones through their decoders, whose FrameError names the reason the connection counts.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import orjson
import pytest

from tests.golden import load_fixture
from tui_bot.core.health import Health, summary_line
from tui_bot.core.state import AccountState
from tui_bot.domain.enums import Side
from tui_bot.domain.events import Event, FrameRejected, TickerUpdated
from tui_bot.domain.models import Position
from tui_bot.exchange.bybit.frames import FrameError
from tui_bot.exchange.bybit.log_limit import LogLimit
from tui_bot.exchange.bybit.parse import (
    PriceBand,
    PublicDecoder,
    closed_pnl_from_rest,
    decode_private,
    decode_public,
    instrument_from_rest,
    kline_from_rest,
)
from tui_bot.exchange.bybit.ws import StreamConnection

D = Decimal
BTC_BAND = {"BTCUSDT": PriceBand(D("0.10"), D("1999999.80"))}
MARK = D("104255.00")

# (key, bad value, reason): each in the golden ticker delta, refused before it reaches any state.
BAD_TICKER_VALUES: list[tuple[str, Any, str]] = [
    ("markPrice", "1e999999", "number"),
    ("markPrice", "-1", "sign"),
    ("markPrice", "0", "range"),
    ("markPrice", "0.00", "range"),
    ("markPrice", "NaN", "number"),
    ("markPrice", "Infinity", "number"),
    ("markPrice", "1e3", "number"),
    ("markPrice", "+1", "number"),
    ("markPrice", "1.", "number"),
    ("markPrice", ".5", "number"),
    ("markPrice", "0.00_1", "number"),
    ("markPrice", " 0.001 ", "number"),
    ("markPrice", "١٠٤٢٥٥", "number"),
    ("markPrice", "104255.00.1", "number"),
    ("markPrice", 1.5, "malformed"),
    ("markPrice", "2000000", "range"),
    ("lastPrice", "0.05", "range"),
    ("indexPrice", "9" * 40, "range"),
    ("bid1Size", "-0.412", "sign"),
    ("bid1Size", "0,412", "number"),
    ("volume24h", "1e5", "number"),
    ("openInterest", "-1", "sign"),
    ("nextFundingTime", "1784736000000.5", "number"),
    ("nextFundingTime", "+1784736000000", "number"),
    ("fundingRate", "--0.0001", "number"),
]


def ticker_delta(**values: Any) -> bytes:
    """The golden ticker delta with these values set."""
    frame = load_fixture("ws_ticker_delta")
    frame["data"].update(values)
    return orjson.dumps(frame)


def holding_btc() -> AccountState:
    """State with an open BTCUSDT long, marked at MARK from an accepted ticker."""
    state = AccountState()
    state.positions["BTCUSDT"] = Position("BTCUSDT", Side.BUY, D("0.010"), D("104250.40"), leverage=D(10))
    (event,) = decode_public(ticker_delta(markPrice=str(MARK)), 1)
    assert isinstance(event, TickerUpdated)
    state.apply(event)
    assert state.positions["BTCUSDT"].mark_price == MARK
    return state


def public_connection(state: AccountState) -> tuple[StreamConnection, list[Event]]:
    """A public connection decoding with BTCUSDT's price band, applying its events to state."""
    seen: list[Event] = []

    def sink(events: list[Event]) -> None:
        seen.extend(events)
        for event in events:
            state.apply(event)

    decoder = PublicDecoder(BTC_BAND)
    return StreamConnection("public-1", "ws://127.0.0.1:9", decode=decoder.decode, on_events=sink), seen


@pytest.mark.parametrize(
    ("key", "value", "reason"), BAD_TICKER_VALUES, ids=[f"{k}={v!r}" for k, v, _ in BAD_TICKER_VALUES]
)
def test_bad_ticker_value_is_refused_counted_and_never_applied(
    key: str, value: Any, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = holding_btc()
    ticker_before = dict(state.tickers["BTCUSDT"].raw)
    conn, seen = public_connection(state)
    raw = ticker_delta(**{key: value})
    with caplog.at_level(logging.WARNING):
        conn.handle_frame(raw, 2)
    assert conn.stats.decode_errors == 1 and conn.stats.rejected == {reason: 1}
    (rejected,) = seen
    assert isinstance(rejected, FrameRejected) and rejected.text == raw.decode() and key in rejected.error
    assert state.positions["BTCUSDT"].mark_price == MARK and state.tickers["BTCUSDT"].raw == ticker_before
    assert f"rejected frame ({rejected.error}): {raw.decode()}" in caplog.text


def test_the_next_good_tick_is_applied_after_refused_ones() -> None:
    state = holding_btc()
    conn, _ = public_connection(state)
    for raw in (ticker_delta(markPrice="1e999999"), ticker_delta(markPrice="-1"), ticker_delta(symbol="ETHUSDT")):
        conn.handle_frame(raw, 2)
    conn.handle_frame(ticker_delta(markPrice="104300.00"), 3)
    assert conn.stats.rejected == {"number": 1, "sign": 1, "topic": 1} and conn.stats.decode_errors == 3
    assert state.positions["BTCUSDT"].mark_price == D("104300.00")
    assert state.positions["BTCUSDT"].unrealised_pnl == (D("104300.00") - D("104250.40")) * D("0.010")


def test_prices_outside_the_band_are_refused_only_when_the_band_is_known() -> None:
    with pytest.raises(FrameError, match=r"outside the price filter \[0.10, 1999999.80\]") as refused:
        PublicDecoder(BTC_BAND).decode(ticker_delta(markPrice="2000000"), 0)
    assert refused.value.reason == "range"
    (event,) = decode_public(ticker_delta(markPrice="2000000"), 0)
    assert isinstance(event, TickerUpdated) and event.fields["mark_price"] == D("2000000")
    with pytest.raises(FrameError, match=r"bad number in lastPrice: .0. \(must be positive\)"):
        decode_public(ticker_delta(lastPrice="0"), 0)
    (edge,) = PublicDecoder(BTC_BAND).decode(ticker_delta(markPrice="0.10", lastPrice="1999999.80"), 0)
    assert isinstance(edge, TickerUpdated) and edge.fields["last_price"] == D("1999999.80")


def test_prices_a_float_cannot_tell_from_the_edge_are_decided_exactly() -> None:
    """Both round to the float of maxPrice 1999999.80; only the one below it is inside."""
    inside, outside = "1999999.79999999999999", "1999999.80000000000001"
    assert float(inside) == float(outside) == float("1999999.80")
    decoder = PublicDecoder({"BTCUSDT": PriceBand(D("0.10"), D("1999999.80"))})
    (event,) = decoder.decode(ticker_delta(markPrice=inside), 0)
    assert isinstance(event, TickerUpdated) and event.fields["mark_price"] == D(inside)
    with pytest.raises(FrameError, match="outside the price filter"):
        decoder.decode(ticker_delta(markPrice=outside), 0)


def test_a_ticker_body_naming_another_symbol_is_refused() -> None:
    state = holding_btc()
    conn, _ = public_connection(state)
    conn.handle_frame(ticker_delta(symbol="ETHUSDT", markPrice="3412.55"), 2)
    assert conn.stats.rejected == {"topic": 1}
    assert set(state.tickers) == {"BTCUSDT"} and state.positions["BTCUSDT"].mark_price == MARK


@pytest.mark.parametrize(
    ("fixture", "path", "value"),
    [
        ("ws_kline", ("data", 0, "interval"), "5"),
        ("ws_public_trade", ("data", 0, "s"), "ETHUSDT"),
        ("ws_orderbook_delta", ("data", "s"), "ETHUSDT"),
        ("ws_orderbook_snapshot", ("data", "s"), "BTCUSDX"),
    ],
)
def test_public_bodies_must_agree_with_their_topic(fixture: str, path: tuple[Any, ...], value: str) -> None:
    frame = load_fixture(fixture)
    decode_public(json.dumps(frame), 0)
    parent = frame
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    with pytest.raises(FrameError, match=f"{path[-1]} '{value}' on topic {frame['topic']}") as refused:
        decode_public(json.dumps(frame), 0)
    assert refused.value.reason == "topic"


def test_unknown_topics_are_counted_by_reason() -> None:
    conn = StreamConnection("private", "ws://127.0.0.1:9", decode=decode_private, on_events=lambda events: None)
    for topic in ("greeks", "dcp", "greeks"):
        conn.handle_frame(json.dumps({"id": "x", "topic": topic, "creationTime": 1, "data": []}), 1)
    assert conn.stats.rejected == {"unknown topic": 3}
    assert conn.stats.rejected_line() == "unknown topic 3"


def test_reject_logs_are_rate_limited_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    conn, _ = public_connection(holding_btc())
    conn.log_limit = LogLimit(every_s=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            conn.handle_frame(ticker_delta(markPrice="-1"), 2)
        conn.handle_frame(ticker_delta(markPrice="1e3"), 2)
        now[0] += 10.0
        conn.handle_frame(ticker_delta(markPrice="-2"), 2)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and conn.stats.rejected == {"sign": 6, "number": 1}
    assert "'-1'" in lines[0] and "'1e3'" in lines[1]
    assert "(and 4 more like it since the last line)" in lines[2] and "'-2'" in lines[2]


def test_health_shows_refusals_per_reason() -> None:
    conn, _ = public_connection(holding_btc())
    for raw in (
        ticker_delta(markPrice="-1"),
        ticker_delta(markPrice="0"),
        ticker_delta(markPrice="0.0"),
        ticker_delta(bid1Size="1e2"),
    ):
        conn.handle_frame(raw, 2)
    assert conn.stats.rejected_line() == "range 2, sign 1, number 1"
    assert "public-1=connecting(" in (line := summary_line({"public-1": conn.stats}, Health().snapshot(), "sim"))
    assert "bad=4(range 2, sign 1, number 1)" in line


# ---- private topics: sign rules per field, the grammar everywhere -----------------------------


def private_frame(name: str, **values: Any) -> str:
    """A golden private frame with these values in its first item."""
    frame = load_fixture(name)
    frame["data"][0].update(values)
    return json.dumps(frame)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ws_order", {"closedPnl": "-1.5", "cumExecFee": "-0.0104", "cumFeeDetail": {"USDT": "-0.0104"}}),
        ("ws_execution", {"execFee": "-0.0104", "feeRate": "-0.0001", "execPnl": "-3.2"}),
        ("ws_position", {"curRealisedPnl": "-0.5733772", "cumRealisedPnl": "-12", "liqPrice": "", "takeProfit": "0"}),
        ("ws_wallet", {"totalPerpUPL": "-0.046", "totalEquity": "-5", "totalAvailableBalance": "-1"}),
    ],
)
def test_negatives_are_accepted_where_bybit_sends_them(name: str, values: dict[str, Any]) -> None:
    (event,) = decode_private(private_frame(name, **values), 0)
    assert event is not None


@pytest.mark.parametrize(
    ("name", "key", "value", "reason"),
    [
        ("ws_order", "qty", "-0.010", "sign"),
        ("ws_order", "price", "1e5", "number"),
        ("ws_order", "avgPrice", "NaN", "number"),
        ("ws_order", "createdTime", "1784712600125.0", "number"),
        ("ws_order", "createdTime", " 1784712600125", "number"),
        ("ws_order", "cumFeeDetail", {"USDT": "0.00_1"}, "number"),
        ("ws_execution", "execQty", "-0.010", "sign"),
        ("ws_execution", "execPrice", "Infinity", "number"),
        ("ws_execution", "markPrice", "-104255", "sign"),
        ("ws_execution", "execValue", "+1042.504", "number"),
        ("ws_position", "size", "-0.010", "sign"),
        ("ws_position", "markPrice", "1e999999", "number"),
        ("ws_position", "liqPrice", "-5", "sign"),
        ("ws_position", "entryPrice", ".5", "number"),
        ("ws_wallet", "totalInitialMargin", "-1", "sign"),
        ("ws_wallet", "totalEquity", "9999.", "number"),
    ],
)
def test_private_values_break_the_grammar_or_sign_rule(name: str, key: str, value: Any, reason: str) -> None:
    with pytest.raises(FrameError, match=key) as refused:
        decode_private(private_frame(name, **{key: value}), 0)
    assert refused.value.reason == reason


def test_rest_filters_and_candles_must_be_positive() -> None:
    item = load_fixture("rest_instruments_info")["result"]["list"][0]
    assert instrument_from_rest(item).tick_size == D("0.10")
    for key, value, reason in (
        ("tickSize", "0", "range"),
        ("minPrice", "-0.10", "sign"),
        ("maxPrice", "2e6", "number"),
    ):
        bad = {**item, "priceFilter": {**item["priceFilter"], key: value}}
        with pytest.raises(FrameError, match=key) as refused:
            instrument_from_rest(bad)
        assert refused.value.reason == reason
    row = load_fixture("rest_kline")["result"]["list"][0]
    with pytest.raises(FrameError, match="open") as refused:
        kline_from_rest("BTCUSDT", "1", ["0", *row[1:]][:1] + ["0"] + row[2:])
    assert refused.value.reason == "range"


def test_rest_closed_pnl_keeps_its_sign_and_refuses_non_strict_sizes() -> None:
    item = load_fixture("rest_closed_pnl")["result"]["list"][0]
    assert closed_pnl_from_rest({**item, "closedPnl": "-2.5", "openFee": "-0.01"}).closed_pnl == D("-2.5")
    with pytest.raises(FrameError, match="qty") as refused:
        closed_pnl_from_rest({**item, "qty": "1e1"})
    assert refused.value.reason == "number"
