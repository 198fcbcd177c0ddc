"""The simulator's wire builders must produce exactly the message shapes of the golden frames."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from tests.golden import assert_matches_golden, assert_shape, load_fixture, shape_errors
from tests.golden_models import BTC, NOW, TAKER, golden_closed_pnl, golden_long, golden_market_order, golden_ticker
from tui_bot.domain.enums import (
    CancelType,
    CreateType,
    ExecType,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    StopOrderType,
    TimeInForce,
    TpSlMode,
    TriggerBy,
)
from tui_bot.domain.models import (
    Execution,
    Kline,
    Order,
    Position,
    PublicTrade,
    Wallet,
    WalletCoin,
)
from tui_bot.sim import wire
from tui_bot.sim.intervals import bar_length_ms

D = Decimal
CONN = "cnt5leec0hvan15eukcg-2t"


def _json_ready(value: object) -> object:
    """Fail unless value serialises to JSON; return it unchanged."""
    json.dumps(value)
    return value


def _rest_list(items: list[dict], **extra: object) -> dict:
    """A REST envelope around a one-page list result."""
    return wire.rest_envelope({**extra, "list": items}, time_ms=NOW)


def _limit_order() -> Order:
    return Order(
        order_id="1c2b7e55-3f0d-4a8e-9f61-2d6b1e4a7c10",
        order_link_id="lmt-buy-0002",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("0.020"),
        price=D("104000.0"),
        time_in_force=TimeInForce.GTC,
        status=OrderStatus.PARTIALLY_FILLED,
        created_time=NOW,
        updated_time=NOW + 30333,
        avg_price=D("104000"),
        cum_exec_qty=D("0.010"),
        cum_exec_value=D("1040"),
        cum_exec_fee=D("0.208"),
        take_profit=D("106000"),
        stop_loss=D("102000"),
        tp_trigger_by=TriggerBy.LAST,
        sl_trigger_by=TriggerBy.MARK,
        tpsl_mode=TpSlMode.FULL,
        last_price_on_created=D("104250.4"),
    )


def _execution() -> Execution:
    return Execution(
        exec_id="7e2ae69c-4edf-5800-a352-893d52b446aa",
        order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        order_link_id="mkt-buy-0001",
        symbol="BTCUSDT",
        side=Side.BUY,
        exec_type=ExecType.TRADE,
        exec_price=D("104250.4"),
        exec_qty=D("0.010"),
        exec_value=D("1042.50400"),
        exec_fee=D("0.5733772000"),
        fee_rate=TAKER,
        exec_time=NOW + 2,
        is_maker=False,
        order_type=OrderType.MARKET,
        order_price=D("109462.9"),
        order_qty=D("0.010"),
        leaves_qty=D("0"),
        closed_size=D("0"),
        exec_pnl=D("0"),
        mark_price=D("104255"),
        index_price=D("104262.15"),
        seq=9821347654,
    )


def _flat() -> Position:
    return Position(
        symbol="BTCUSDT",
        mark_price=D("104820"),
        cur_realised_pnl=D("4.54711225"),
        cum_realised_pnl=D("4.54711225"),
        created_time=NOW + 2,
        updated_time=1784716200002,
        seq=9821350001,
    )


def _wallet() -> Wallet:
    coin = WalletCoin(
        coin="USDT",
        wallet_balance=D("9999.4266228"),
        equity=D("9999.4726228"),
        unrealised_pnl=D("0.046"),
        cum_realised_pnl=D("-0.5733772"),
        total_position_im=D("104.82341"),
        total_position_mm=D("5.78546"),
    )
    return Wallet(
        total_equity=D("9999.4726228"),
        total_wallet_balance=D("9999.4266228"),
        total_margin_balance=D("9999.4726228"),
        total_available_balance=D("9894.6492128"),
        total_perp_upl=D("0.046"),
        total_initial_margin=D("104.82341"),
        total_maintenance_margin=D("5.78546"),
        coins=(coin,),
    )


def test_instrument_matches_golden_exactly() -> None:
    frame = _rest_list([wire.instrument_to_wire(BTC)], category="linear", nextPageCursor="")
    assert _json_ready(frame) == load_fixture("rest_instruments_info")


def test_restgolden_ticker() -> None:
    item = wire.ticker_to_wire(golden_ticker(), BTC, ws=False)
    assert_matches_golden(_json_ready(_rest_list([item], category="linear")), "rest_tickers")
    assert "tickDirection" not in item
    assert item["nextFundingTime"] == "1784736000000"
    assert item["fundingIntervalHour"] == "8"
    assert item["basis"] == item["deliveryTime"] == ""


def test_ws_ticker_snapshot_and_delta() -> None:
    prev = wire.ticker_to_wire(golden_ticker(), BTC, ws=True)
    snapshot = wire.public_message("tickers.BTCUSDT", "snapshot", NOW, prev, cs=24987956059)
    assert_matches_golden(_json_ready(snapshot), "ws_ticker_snapshot")
    assert prev["tickDirection"] == "PlusTick"
    delivery = {"deliveryTime", "basisRate", "basis", "basisRateYear", "deliveryFeeRate", "predictedDeliveryPrice"}
    assert not delivery & set(prev), "a perpetual's WS ticker carries no delivery-futures fields"
    assert prev["preOpenPrice"] == prev["curPreListingPhase"] == ""
    new = wire.ticker_to_wire(
        golden_ticker(bid1_price=D("104250.5"), bid1_size=D("0.412"), ask1_price=D("104250.6"), ask1_size=D("2.031")),
        BTC,
        ws=True,
    )
    delta = wire.public_message("tickers.BTCUSDT", "delta", NOW + 100, wire.ticker_delta(prev, new), cs=24987956112)
    assert_matches_golden(_json_ready(delta), "ws_ticker_delta")


def test_ticker_delta_keeps_only_changed_keys() -> None:
    prev = {"symbol": "BTCUSDT", "lastPrice": "1.0", "markPrice": "2.0", "bid1Size": "3"}
    new = {"symbol": "BTCUSDT", "lastPrice": "1.1", "markPrice": "2.0", "bid1Size": "3"}
    assert wire.ticker_delta(prev, new) == {"symbol": "BTCUSDT", "lastPrice": "1.1"}
    assert wire.ticker_delta(new, new) == {"symbol": "BTCUSDT"}


def _kline(confirm: bool = False) -> Kline:
    return Kline(
        symbol="BTCUSDT",
        interval="1",
        start=1784712600000,
        open=D("104230.1"),
        high=D("104260"),
        low=D("104221.7"),
        close=D("104250.4"),
        volume=D("12.418"),
        turnover=D("1294571.03321"),
        confirm=confirm,
    )


def test_kline_rest_and_ws() -> None:
    row = wire.kline_rest_row(_kline(), BTC)
    rest = wire.rest_envelope({"category": "linear", "symbol": "BTCUSDT", "list": [row]}, time_ms=NOW)
    assert_matches_golden(_json_ready(rest), "rest_kline")
    assert row == ["1784712600000", "104230.10", "104260.00", "104221.70", "104250.40", "12.418", "1294571.0332"]
    item = wire.kline_ws(_kline(), BTC, timestamp=1784712623450)
    frame = wire.public_message("kline.1.BTCUSDT", "snapshot", 1784712623456, [item])
    assert_matches_golden(_json_ready(frame), "ws_kline")
    assert item["end"] == 1784712659999 and item["confirm"] is False


@pytest.mark.parametrize(
    ("interval", "start", "expected"),
    [
        ("1", 1784712600000, 60_000),
        ("60", 1784712600000, 3_600_000),
        ("D", 1784678400000, 86_400_000),
        ("W", 1784505600000, 604_800_000),
        ("M", 1782864000000, 31 * 86_400_000),
        ("M", 1769904000000, 28 * 86_400_000),
        ("M", 1832976000000, 29 * 86_400_000),
    ],
)
def test_bar_length_ms(interval: str, start: int, expected: int) -> None:
    assert bar_length_ms(interval, start) == expected


def test_public_trade() -> None:
    trade = PublicTrade(
        trade_id="20f43950-d8dd-5b31-9112-a178eb6023af",
        symbol="BTCUSDT",
        taker_side=Side.BUY,
        price=D("104250.4"),
        size=D("0.01"),
        time=NOW + 2,
        tick_direction="PlusTick",
        seq=9821347654,
    )
    item = wire.public_trade_to_wire(trade, BTC)
    frame = wire.public_message("publicTrade.BTCUSDT", "snapshot", NOW + 3, [item])
    assert_matches_golden(_json_ready(frame), "ws_public_trade")
    assert (item["p"], item["v"]) == ("104250.40", "0.010")


def test_orderbook_snapshot_and_delta() -> None:
    snap = wire.orderbook_to_wire(
        "BTCUSDT", [(D("104250.3"), D("1.25"))], [(D("104250.4"), D("0.873"))], BTC, update_id=18521288, seq=9821347650
    )
    frame = wire.orderbook_message("orderbook.50.BTCUSDT", "snapshot", NOW + 7, snap, NOW + 4, depth=50)
    assert_matches_golden(_json_ready(frame), "ws_orderbook_snapshot")
    assert list(frame) == list(load_fixture("ws_orderbook_snapshot"))
    delta = wire.orderbook_to_wire(
        "BTCUSDT", [(D("104250.3"), D(0))], [(D("104250.5"), D("0.311"))], BTC, update_id=18521289, seq=9821347655
    )
    frame = wire.orderbook_message("orderbook.50.BTCUSDT", "delta", NOW + 27, delta, NOW + 25, depth=50)
    assert_matches_golden(_json_ready(frame), "ws_orderbook_delta")
    assert delta["b"] == [["104250.30", "0"]]


def test_level1_orderbook_puts_ts_before_type() -> None:
    snap = wire.orderbook_to_wire(
        "BTCUSDT", [(D("104250.3"), D("1.25"))], [(D("104250.4"), D("0.873"))], BTC, update_id=18521288, seq=9821347650
    )
    frame = wire.orderbook_message("orderbook.1.BTCUSDT", "snapshot", NOW + 7, snap, NOW + 4, depth=1)
    assert_matches_golden(_json_ready(frame), "ws_orderbook_1_snapshot")
    assert list(frame) == list(load_fixture("ws_orderbook_1_snapshot")) == ["topic", "ts", "type", "data", "cts"]


def test_rest_orderbook() -> None:
    data = wire.orderbook_to_wire(
        "BTCUSDT", [(D("104250.3"), D("1.25"))], [(D("104250.4"), D("0.873"))], BTC, update_id=18521288, seq=9821347650
    )
    result = wire.orderbook_rest(data, ts=NOW, cts=NOW - 5)
    envelope = wire.rest_envelope(result, time_ms=NOW)
    assert envelope == load_fixture("rest_orderbook")
    assert list(result) == ["s", "b", "a", "ts", "u", "seq", "cts"]


def test_rest_recent_trade() -> None:
    trade = PublicTrade(
        "0001-000000000042", "BTCUSDT", Side.BUY, D("104250.4"), D("0.013"), NOW - 5, "PlusTick", 9821347650
    )
    envelope = wire.rest_envelope({"category": "linear", "list": [wire.recent_trade_to_wire(trade, BTC)]}, time_ms=NOW)
    assert envelope == load_fixture("rest_recent_trade")


def test_rest_order_object() -> None:
    item = wire.order_to_wire(_limit_order(), BTC, ws=False)
    frame = _rest_list([item], category="linear", nextPageCursor="")
    assert_matches_golden(_json_ready(frame), "rest_order_realtime")
    assert item["leavesQty"] == "0.010" and item["leavesValue"] == "1040"
    assert item["cumFeeDetail"] == {"USDT": "0.208"}
    assert item["triggerPrice"] == "0" and item["triggerBy"] == ""
    assert item["tpslMode"] == "Full" and item["slTriggerBy"] == "MarkPrice"


def test_ws_order_object() -> None:
    item = wire.order_to_wire(golden_market_order(), BTC, ws=True)
    frame = wire.private_message("order", "5923240c6880ab-c59f", NOW + 3, [item])
    assert_matches_golden(_json_ready(frame), "ws_order")
    assert item["price"] == "109462.90" and item["avgPrice"] == "104250.40"
    assert item["leavesQty"] == "0" and item["stopOrderType"] == ""
    assert item["closedPnl"] == "0" and item["category"] == "linear"


def test_unfilled_order_encoding() -> None:
    order = replace(
        _limit_order(),
        status=OrderStatus.NEW,
        avg_price=D(0),
        cum_exec_qty=D(0),
        cum_exec_value=D(0),
        cum_exec_fee=D(0),
        cancel_type=CancelType.UNKNOWN,
        reject_reason=RejectReason.NO_ERROR,
    )
    item = wire.order_to_wire(order, BTC, ws=False)
    assert item["avgPrice"] == "" and item["cumFeeDetail"] == {}
    assert item["cumExecQty"] == "0" and item["leavesValue"] == "2080"
    assert_shape(item, load_fixture("rest_order_realtime")["result"]["list"][0])


def test_system_take_profit_order() -> None:
    tp = Order(
        order_id="0b1e8f3a-6c2d-4e5f-9a7b-8c9d0e1f2a3b",
        order_link_id="",
        symbol="BTCUSDT",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        qty=D("0.010"),
        price=D(0),
        time_in_force=TimeInForce.IOC,
        status=OrderStatus.UNTRIGGERED,
        created_time=NOW,
        updated_time=NOW,
        create_type=CreateType.BY_TAKE_PROFIT,
        stop_order_type=StopOrderType.TAKE_PROFIT,
        trigger_price=D("106000"),
        trigger_by=TriggerBy.LAST,
        trigger_direction=1,
        tpsl_mode=TpSlMode.FULL,
        reduce_only=True,
        close_on_trigger=True,
        parent_order_link_id="mkt-buy-0001",
    )
    item = wire.order_to_wire(tp, BTC, ws=True)
    assert_matches_golden(wire.private_message("order", "m1", NOW, [item]), "ws_order")
    expected = {
        "stopOrderType": "TakeProfit",
        "triggerPrice": "106000.00",
        "price": "0",
        "triggerBy": "LastPrice",
        "triggerDirection": 1,
        "reduceOnly": True,
        "closeOnTrigger": True,
        "createType": "CreateByTakeProfit",
        "avgPrice": "",
        "orderStatus": "Untriggered",
        "leavesQty": "0.010",
        "cumFeeDetail": {},
    }
    assert {key: item[key] for key in expected} == expected


def test_execution_rest_and_ws() -> None:
    rest_item = wire.execution_to_wire(_execution(), BTC, ws=False)
    frame = _rest_list([rest_item], category="linear", nextPageCursor="")
    assert_matches_golden(_json_ready(frame), "rest_execution_list")
    assert rest_item["execValue"] == "1042.504" and rest_item["execFee"] == "0.5733772"
    ws_item = wire.execution_to_wire(_execution(), BTC, ws=True)
    frame = wire.private_message("execution", "592324803b2785", NOW + 4, [ws_item])
    assert_matches_golden(_json_ready(frame), "ws_execution")
    assert ws_item["execPnl"] == "0" and "execFeeV2" not in ws_item


def test_funding_execution_order_type() -> None:
    funding = replace(_execution(), exec_type=ExecType.FUNDING, order_type=None, create_type=CreateType.BY_USER)
    item = wire.execution_to_wire(funding, BTC, ws=True)
    assert item["orderType"] == "UNKNOWN" and item["execType"] == "Funding"


def test_position_rest_and_ws() -> None:
    rest_item = wire.position_to_wire(golden_long(), BTC, ws=False, taker_fee_rate=TAKER)
    frame = _rest_list([rest_item], category="linear", nextPageCursor="")
    assert_matches_golden(_json_ready(frame), "rest_position_list")
    assert rest_item["avgPrice"] == "104250.40" and rest_item["positionValue"] == "1042.504"
    assert rest_item["unrealisedPnl"] == "0.046"
    assert rest_item["breakEvenPrice"] == "104365.14"
    ws_item = wire.position_to_wire(golden_long(), BTC, ws=True, taker_fee_rate=TAKER)
    frame = wire.private_message("position", "59232430b58efe", NOW + 5, [ws_item])
    assert_matches_golden(_json_ready(frame), "ws_position")
    assert ws_item["entryPrice"] == "104250.40" and "avgPrice" not in ws_item


def test_flat_position_fields() -> None:
    item = wire.position_to_wire(_flat(), BTC, ws=True, taker_fee_rate=TAKER)
    frame = wire.private_message("position", "59232430b58efe", 1784716200003, [item])
    assert_matches_golden(_json_ready(frame), "ws_position_flat")
    expected = {
        "side": "",
        "size": "0",
        "entryPrice": "0",
        "positionValue": "0",
        "breakEvenPrice": "0",
        "liqPrice": "",
        "unrealisedPnl": "0",
        "adlRankIndicator": 0,
        "positionIdx": 0,
        "seq": 9821350001,
    }
    assert {key: item[key] for key in expected} == expected
    rest = wire.position_to_wire(_flat(), BTC, ws=False, taker_fee_rate=TAKER)
    assert rest["avgPrice"] == "0"


def test_short_break_even_is_below_entry() -> None:
    short = replace(golden_long(), side=Side.SELL)
    price = wire.break_even_price(short, TAKER)
    assert price is not None and price < short.entry_price


def test_wallet_rest_and_ws() -> None:
    account = wire.wallet_to_wire(_wallet())
    assert_matches_golden(_json_ready(wire.rest_envelope({"list": [account]}, time_ms=NOW)), "rest_wallet_balance")
    frame = wire.private_message("wallet", "592324d2bce751", NOW + 6, [account])
    assert_matches_golden(_json_ready(frame), "ws_wallet")
    assert account["accountIMRate"] == "0.0105" and account["accountMMRate"] == "0.0006"


def testgolden_closed_pnl() -> None:
    item = wire.closed_pnl_to_wire(golden_closed_pnl(), BTC)
    frame = _rest_list([item], category="linear", nextPageCursor="")
    assert_matches_golden(_json_ready(frame), "rest_closed_pnl")
    assert item["closeFee"] == "0.57651055" and item["fillCount"] == "1"


def test_rest_envelopes() -> None:
    assert wire.rest_envelope({}, time_ms=NOW) == load_fixture("rest_envelope_ok")
    error = wire.rest_envelope({"orderId": "x"}, time_ms=NOW, ret_code=110007, ret_msg="Insufficient available balance")
    assert error == load_fixture("rest_envelope_error")
    time_frame = wire.rest_envelope(wire.market_time_result(NOW), time_ms=NOW)
    assert_matches_golden(time_frame, "rest_market_time")
    assert time_frame["result"] == {"timeSecond": "1784712600", "timeNano": "1784712600123000000"}


def test_order_acks_and_fee_rate() -> None:
    ack = wire.order_ack("9aac161b-8ed6-450d-9cab-c5cc67c21784", "mkt-buy-0001")
    assert wire.rest_envelope(ack, time_ms=NOW) == load_fixture("rest_order_create")
    assert_matches_golden(wire.rest_envelope(ack, time_ms=NOW), "rest_order_cancel")
    cancel_all = wire.cancel_all_result([ack])
    assert_matches_golden(wire.rest_envelope(cancel_all, time_ms=NOW), "rest_cancel_all")
    fee = wire.fee_rate_to_wire("BTCUSDT", taker=TAKER, maker=D("0.0002"))
    assert wire.rest_envelope({"list": [fee]}, time_ms=NOW) == load_fixture("rest_fee_rate")


def test_public_control_responses() -> None:
    conn = "3cd84cb1-9a4e-4f4b-8c7a-2b1d5e6f7a80"
    ok = wire.public_ws_response("subscribe", success=True, ret_msg="", conn_id=conn, req_id="sub-1")
    assert ok == load_fixture("ws_public_subscribe_ok")
    fail = wire.public_ws_response(
        "subscribe", success=False, conn_id=conn, req_id="sub-1", ret_msg="Invalid symbol :[tickers.BTCUSDX]"
    )
    assert fail == load_fixture("ws_public_subscribe_fail")
    unsub = wire.public_ws_response("unsubscribe", success=True, ret_msg="", conn_id=conn, req_id="unsub-1")
    assert unsub == load_fixture("ws_public_unsubscribe_ok")
    pong = wire.public_ws_response(
        "ping", success=True, ret_msg="pong", req_id="ping-1", conn_id="465772b1-7630-4fdc-a492-e003e6f0f260"
    )
    assert pong == load_fixture("ws_public_pong")


def test_private_control_responses() -> None:
    conn = "cejreaspqfh3sjdnldmg-p"
    ok = wire.private_ws_response("auth", success=True, ret_msg="", conn_id=conn, req_id=None)
    assert ok == load_fixture("ws_private_auth_ok")
    fail = wire.private_ws_response("auth", success=False, ret_msg="Params Error", conn_id=conn, req_id=None)
    assert fail == load_fixture("ws_private_auth_fail")
    sub = wire.private_ws_response(
        "subscribe", success=True, ret_msg="", req_id="s1", conn_id="cejreassvfrsfvb9v1a0-2m"
    )
    assert sub == load_fixture("ws_private_subscribe_ok")
    pong = wire.private_pong(conn_id="cfcb4ocsvfriu23r3er0-1b", req_id="p1", time_ms=NOW)
    assert pong == load_fixture("ws_private_pong")
    assert "req_id" not in wire.private_pong(conn_id=conn, req_id=None, time_ms=NOW)


def test_trade_socket_responses() -> None:
    auth = wire.trade_ws_auth_response(ret_code=0, ret_msg="OK", conn_id=CONN, req_id=None)
    assert auth == load_fixture("ws_trade_auth_ok")
    bad = wire.trade_ws_auth_response(ret_code=10004, ret_msg="Invalid sign", conn_id=CONN, req_id=None)
    assert bad == load_fixture("ws_trade_auth_fail")
    assert wire.trade_ws_auth_response(ret_code=0, ret_msg="OK", conn_id=CONN, req_id="a1")["reqId"] == "a1"
    pong = wire.trade_ws_pong(conn_id=CONN, req_id=None, time_ms=NOW)
    assert pong == load_fixture("ws_trade_pong")


def test_trade_socket_order_responses() -> None:
    ack = wire.order_ack("9aac161b-8ed6-450d-9cab-c5cc67c21784", "mkt-buy-0001")
    ok = wire.trade_ws_response(
        "order.create",
        req_id="c-0001",
        ret_code=0,
        ret_msg="OK",
        data=ack,
        conn_id=CONN,
        limit=10,
        limit_status=9,
        reset_ms=NOW + 1,
        time_ms=NOW + 1,
    )
    assert_matches_golden(ok, "ws_trade_order_create_ok")
    assert ok["data"] == ack and ok["header"]["X-Bapi-Limit-Status"] == "9"
    error = wire.trade_ws_response(
        "order.create",
        req_id="c-0002",
        ret_code=110007,
        ret_msg="Insufficient available balance",
        data=ack,
        conn_id=CONN,
        limit=10,
        limit_status=8,
        reset_ms=NOW + 101,
        time_ms=NOW + 101,
    )
    assert_matches_golden(error, "ws_trade_order_error")
    assert error["data"] == {}
    anonymous = wire.trade_ws_response(
        "order.cancel",
        req_id=None,
        ret_code=0,
        ret_msg="OK",
        data=ack,
        conn_id=CONN,
        limit=10,
        limit_status=7,
        reset_ms=NOW,
        time_ms=NOW,
    )
    assert "reqId" not in anonymous


def test_prices_use_tick_precision() -> None:
    assert wire.fmt_price(D("104250.4"), BTC) == "104250.40"
    assert wire.fmt_price(D("104250"), BTC) == "104250.00"
    assert wire.fmt_price(D(0), BTC) == "0"
    assert wire.fmt_qty(D("0.01"), BTC) == "0.010"
    assert wire.fmt_amount(D("0.5733772000")) == "0.5733772"


def test_checker_reports_missing_key() -> None:
    with pytest.raises(AssertionError, match=r"\$\.result\.orderLinkId: missing"):
        assert_matches_golden({**load_fixture("rest_order_create"), "result": {"orderId": "x"}}, "rest_order_create")


def test_checker_reports_extra_key() -> None:
    frame = load_fixture("ws_public_pong") | {"args": []}
    with pytest.raises(AssertionError, match=r"\$\.args: unexpected extra key"):
        assert_matches_golden(frame, "ws_public_pong")


def test_checker_reports_int_vs_string() -> None:
    frame = load_fixture("ws_execution")
    frame["data"][0]["seq"] = "9821347654"
    with pytest.raises(AssertionError, match=r"\$\.data\[0\]\.seq: expected int"):
        assert_matches_golden(frame, "ws_execution")


def test_checker_rejects_bool_for_int_and_non_numeric_strings() -> None:
    assert shape_errors(True, 0) and shape_errors(0, False)
    assert shape_errors("Buy", "104250.40")
    assert not shape_errors("", "104250.40")
    assert not shape_errors("anything", "")
    assert not shape_errors([{"k": "v"}], "", "$.extraFees")
    assert not shape_errors({"phase": "x"}, None, "$.preListingInfo")
    assert not shape_errors({}, {"USDT": "0.1"}, "$.cumFeeDetail")
    assert shape_errors({"USDT": 0.1}, {"USDT": "0.1"}, "$.cumFeeDetail")
