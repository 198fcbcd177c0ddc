"""The client decoder against the golden frames, and round trips through the embedded exchange's serializers."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import pytest

from tests.golden import load_fixture
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
from tui_bot.domain.events import (
    ExecutionReceived,
    KlineUpdated,
    OrderUpdated,
    PositionUpdated,
    TickerUpdated,
    WalletUpdated,
)
from tui_bot.domain.live_ticker import LiveTicker, TickerFields
from tui_bot.domain.models import (
    ClosedPnl,
    Execution,
    Kline,
    Order,
    Position,
    PublicTrade,
    Ticker,
    Wallet,
    WalletCoin,
)
from tui_bot.exchange.bybit.frames import Control, FrameError
from tui_bot.exchange.bybit.parse import (
    closed_pnl_from_rest,
    decode_private,
    decode_public,
    decode_trade,
    execution_from_rest,
    instrument_from_rest,
    kline_from_rest,
    order_from_rest,
    position_from_rest,
    recent_trade_from_rest,
    ticker_from_rest,
    wallet_from_rest,
)
from tui_bot.sim import wire
from tui_bot.sim.ticker_stream import TickerEncoder

D = Decimal
RECEIVED = 1_784_712_600_200_000_000


def raw(name: str) -> str:
    """A golden frame as the socket would deliver it (compact JSON text)."""
    return json.dumps(load_fixture(name))


def rest_item(name: str) -> dict[str, Any]:
    """The first list item of a REST golden response."""
    return load_fixture(name)["result"]["list"][0]


def one(events: object, kind: type) -> Any:
    """The single event of a decoded frame, checked for type."""
    assert isinstance(events, list) and len(events) == 1
    assert isinstance(events[0], kind)
    return events[0]


# ---- public stream ---------------------------------------------------------------------------


def test_ticker_snapshot_decodes_every_ticker_attribute() -> None:
    event = one(decode_public(raw("ws_ticker_snapshot"), RECEIVED), TickerUpdated)
    assert (event.symbol, event.snapshot) == ("BTCUSDT", True)
    assert (event.exchange_ts, event.received_ns) == (1784712600123, RECEIVED)
    f = event.fields
    assert f["last_price"] == D("104250.40") and f["mark_price"] == D("104255")
    assert f["index_price"] == D("104262.15") and f["prev_price_24h"] == D("103010.2")
    assert f["price_24h_pcnt"] == D("0.01204") and f["high_price_24h"] == D("104880")
    assert f["low_price_24h"] == D("102650.1") and f["prev_price_1h"] == D("104101.3")
    assert f["open_interest"] == D("52314.118")
    assert f["open_interest_value"] == D("5454007887.58")
    assert f["turnover_24h"] == D("3107433385.4398") and f["volume_24h"] == D("29741.134")
    assert f["funding_rate"] == D("0.0001") and f["next_funding_time"] == 1784736000000
    assert f["bid1_price"] == D("104250.3") and f["bid1_size"] == D("1.25")
    assert f["ask1_price"] == D("104250.4") and f["ask1_size"] == D("0.873")
    assert f["tick_direction"] == "PlusTick"
    assert set(f) == {name for name in Ticker.__slots__ if name not in ("symbol", "ts")}
    assert all(isinstance(v, Decimal) for k, v in f.items() if k not in ("next_funding_time", "tick_direction"))


def test_ticker_delta_carries_only_changed_fields() -> None:
    event = one(decode_public(raw("ws_ticker_delta"), RECEIVED), TickerUpdated)
    assert (event.symbol, event.snapshot, event.exchange_ts) == ("BTCUSDT", False, 1784712600223)
    assert event.fields == {
        "bid1_price": D("104250.50"),
        "bid1_size": D("0.412"),
        "ask1_price": D("104250.60"),
        "ask1_size": D("2.031"),
    }


def test_ticker_skips_empty_and_unknown_keys() -> None:
    frame = {
        "topic": "tickers.ETHUSDT",
        "type": "delta",
        "ts": 5,
        "cs": 1,
        "data": {"symbol": "ETHUSDT", "fundingRate": "", "basis": "1", "lastPrice": "3412.55"},
    }
    event = one(decode_public(orjson.dumps(frame), 0), TickerUpdated)
    assert (event.symbol, event.fields) == ("ETHUSDT", {"last_price": D("3412.55")})


@pytest.mark.parametrize("value", ["abc", "NaN", "-Infinity", "sNaN", 1.5, True, ["1"], {"a": "1"}])
def test_ticker_rejects_bad_numbers(value: object) -> None:
    frame = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 5, "data": {"symbol": "BTCUSDT", "markPrice": value}}
    with pytest.raises(FrameError, match="markPrice"):
        decode_public(orjson.dumps(frame), 0)


def test_ticker_values_stay_wire_strings_until_read() -> None:
    event = one(decode_public(raw("ws_ticker_delta"), RECEIVED), TickerUpdated)
    assert isinstance(event.fields, TickerFields)
    assert event.fields.raw == {
        "bid1Price": "104250.50",
        "bid1Size": "0.412",
        "ask1Price": "104250.60",
        "ask1Size": "2.031",
    }
    assert event.fields.get("bid1_price") == D("104250.50") and event.fields.get("mark_price") is None
    assert "bid1_price" in event.fields and "mark_price" not in event.fields and "bid1Price" not in event.fields
    assert event == TickerUpdated(
        symbol="BTCUSDT", snapshot=False, fields=event.fields, exchange_ts=1784712600223, received_ns=RECEIVED
    )


def test_ticker_integer_values_take_the_exact_check() -> None:
    """A JSON integer is off the string screen; the per-value check accepts it (refused values: test_strict_numbers)."""
    frame = {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "ts": 5,
        "data": {"symbol": "BTCUSDT", "markPrice": 104255, "tickDirection": "PlusTick"},
    }
    event = one(decode_public(orjson.dumps(frame), 0), TickerUpdated)
    ticker = LiveTicker(event.symbol, event.fields)
    assert (ticker.mark_price, ticker.tick_direction) == (D("104255"), "PlusTick")


@pytest.mark.parametrize("data", [{"tickDirection": 5}, {"nextFundingTime": "1.5"}, {"turnover24h": 7}])
def test_ticker_rejects_bad_values_the_screen_sends_to_the_exact_check(data: dict[str, object]) -> None:
    frame = {"topic": "tickers.BTCUSDT", "type": "delta", "ts": 5, "data": {"symbol": "BTCUSDT", **data}}
    with pytest.raises(FrameError, match=next(iter(data))):
        decode_public(orjson.dumps(frame), 0)


def test_kline_decodes_one_candle_per_item() -> None:
    event = one(decode_public(raw("ws_kline"), RECEIVED), KlineUpdated)
    assert event.exchange_ts == 1784712623450
    assert event.kline == Kline(
        symbol="BTCUSDT",
        interval="1",
        start=1784712600000,
        open=D("104230.10"),
        high=D("104260.00"),
        low=D("104221.70"),
        close=D("104250.40"),
        volume=D("12.418"),
        turnover=D("1294571.0332"),
        confirm=False,
    )


def test_kline_without_item_timestamp_uses_envelope_ts() -> None:
    frame = load_fixture("ws_kline")
    first = dict(frame["data"][0])
    del first["timestamp"]
    second = {**first, "start": 1784712660000, "confirm": True}
    frame["data"] = [first, second]
    events = decode_public(json.dumps(frame), 0)
    assert isinstance(events, list) and all(isinstance(e, KlineUpdated) for e in events)
    klines = [e for e in events if isinstance(e, KlineUpdated)]
    assert [e.exchange_ts for e in klines] == [1784712623456, 1784712623456]
    assert [(e.kline.start, e.kline.confirm) for e in klines] == [(1784712600000, False), (1784712660000, True)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ws_public_subscribe_ok",
            Control(
                op="subscribe", success=True, message="", req_id="sub-1", conn_id="3cd84cb1-9a4e-4f4b-8c7a-2b1d5e6f7a80"
            ),
        ),
        (
            "ws_public_subscribe_fail",
            Control(
                op="subscribe",
                success=False,
                message="Invalid symbol :[tickers.BTCUSDX]",
                req_id="sub-1",
                conn_id="3cd84cb1-9a4e-4f4b-8c7a-2b1d5e6f7a80",
            ),
        ),
        (
            "ws_public_unsubscribe_ok",
            Control(op="unsubscribe", success=True, req_id="unsub-1", conn_id="3cd84cb1-9a4e-4f4b-8c7a-2b1d5e6f7a80"),
        ),
        (
            "ws_public_pong",
            Control(
                op="ping", success=True, message="pong", req_id="ping-1", conn_id="465772b1-7630-4fdc-a492-e003e6f0f260"
            ),
        ),
    ],
)
def test_public_control_replies(name: str, expected: Control) -> None:
    assert decode_public(raw(name), RECEIVED) == expected


def test_public_unknown_topic_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="unknown topic: liquidation.BTCUSDT"):
        decode_public('{"topic":"liquidation.BTCUSDT","ts":1,"data":{}}', 0)


# ---- private stream --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ws_private_auth_ok", Control(op="auth", success=True, conn_id="cejreaspqfh3sjdnldmg-p")),
        (
            "ws_private_auth_fail",
            Control(op="auth", success=False, message="Params Error", conn_id="cejreaspqfh3sjdnldmg-p"),
        ),
        (
            "ws_private_subscribe_ok",
            Control(op="subscribe", success=True, req_id="s1", conn_id="cejreassvfrsfvb9v1a0-2m"),
        ),
        (
            "ws_private_pong",
            Control(
                op="pong",
                success=True,
                req_id="p1",
                conn_id="cfcb4ocsvfriu23r3er0-1b",
                data={"server_ms": 1784712600123},
            ),
        ),
    ],
)
def test_private_control_replies(name: str, expected: Control) -> None:
    assert decode_private(raw(name), RECEIVED) == expected


def test_order_item_decodes_every_model_field() -> None:
    event = one(decode_private(raw("ws_order"), RECEIVED), OrderUpdated)
    assert (event.exchange_ts, event.received_ns) == (1784712600126, RECEIVED)
    assert event.order == Order(
        order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        order_link_id="mkt-buy-0001",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=D("0.010"),
        price=D("109462.90"),
        time_in_force=TimeInForce.IOC,
        status=OrderStatus.FILLED,
        created_time=1784712600123,
        updated_time=1784712600125,
        create_type=CreateType.BY_USER,
        cancel_type=CancelType.UNKNOWN,
        reject_reason=RejectReason.NO_ERROR,
        avg_price=D("104250.40"),
        cum_exec_qty=D("0.010"),
        cum_exec_value=D("1042.504"),
        cum_exec_fee=D("0.5733772"),
        closed_pnl=D(0),
        stop_order_type=StopOrderType.NONE,
        trigger_price=D(0),
        trigger_by=None,
        trigger_direction=0,
        take_profit=D(0),
        stop_loss=D(0),
        tp_trigger_by=None,
        sl_trigger_by=None,
        tpsl_mode=None,
        tp_limit_price=D(0),
        sl_limit_price=D(0),
        reduce_only=False,
        close_on_trigger=False,
        position_idx=0,
        parent_order_link_id="",
        last_price_on_created=D("104250.40"),
    )
    assert isinstance(event.order.created_time, int)


def _order_frame(**changes: object) -> str:
    frame = load_fixture("ws_order")
    frame["data"][0].update(changes)
    return json.dumps(frame)


def _decoded_order(**changes: object) -> Order:
    return one(decode_private(_order_frame(**changes), 0), OrderUpdated).order


def test_order_unset_values_and_descriptive_enums() -> None:
    order = _decoded_order(
        price="",
        avgPrice="",
        triggerPrice="0.00",
        stopOrderType="UNKNOWN",
        triggerBy="UNKNOWN",
        tpslMode="",
        createType="CreateByAdminClosing",
        cancelType="CancelByPrepareLiq",
        rejectReason="EC_ReachMaxTradeNum",
    )
    assert order.price == 0 and order.avg_price == 0 and order.trigger_price == 0
    assert order.stop_order_type is StopOrderType.NONE and order.trigger_by is None
    assert order.tpsl_mode is None and order.create_type is CreateType.BY_USER
    assert order.cancel_type is CancelType.UNKNOWN and order.reject_reason is RejectReason.OTHERS


def test_conditional_order_fields() -> None:
    order = _decoded_order(
        orderStatus="Untriggered",
        stopOrderType="StopLoss",
        triggerPrice="102000.00",
        triggerBy="MarkPrice",
        triggerDirection=2,
        createType="CreateByStopLoss",
        reduceOnly=True,
        closeOnTrigger=True,
        tpslMode="Full",
        orderLinkId="",
        parentOrderLinkId="mkt-buy-0001",
    )
    assert order.status is OrderStatus.UNTRIGGERED and order.is_conditional
    assert order.stop_order_type is StopOrderType.STOP_LOSS
    assert (order.trigger_price, order.trigger_by) == (D("102000"), TriggerBy.MARK)
    assert (order.trigger_direction, order.create_type) == (2, CreateType.BY_STOP_LOSS)
    assert order.reduce_only and order.close_on_trigger and order.tpsl_mode is TpSlMode.FULL
    assert order.parent_order_link_id == "mkt-buy-0001"
    assert _decoded_order(stopOrderType="MmRateClose").stop_order_type is StopOrderType.STOP


def test_order_fee_prefers_cum_fee_detail_over_deprecated_field() -> None:
    assert _decoded_order(cumExecFee="9", cumFeeDetail={"USDT": "0.25"}).cum_exec_fee == D("0.25")
    assert _decoded_order(cumExecFee="0.4", cumFeeDetail={}).cum_exec_fee == D("0.4")


def test_rpi_time_in_force_reads_as_post_only() -> None:
    assert _decoded_order(timeInForce="RPI").time_in_force is TimeInForce.POST_ONLY


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("orderStatus", "Exploded"),
        ("side", ""),
        ("orderType", "Iceberg"),
        ("timeInForce", "GTD"),
        ("qty", "1,0"),
        ("createdTime", "yesterday"),
        ("reduceOnly", "false"),
        ("positionIdx", 0.5),
        ("price", "NaN"),
        ("avgPrice", "Infinity"),
        ("cumExecQty", 0.01),
        ("cumFeeDetail", {"USDT": "x"}),
    ],
)
def test_order_with_unusable_state_field_is_a_frame_error(key: str, value: object) -> None:
    with pytest.raises(FrameError, match=key):
        decode_private(_order_frame(**{key: value}), 0)


def test_order_missing_id_is_a_frame_error() -> None:
    frame = load_fixture("ws_order")
    del frame["data"][0]["orderId"]
    with pytest.raises(FrameError, match="missing orderId"):
        decode_private(json.dumps(frame), 0)


def test_items_of_other_categories_are_skipped() -> None:
    frame = load_fixture("ws_order")
    spot = {**frame["data"][0], "category": "spot", "orderStatus": "PartiallyFilledCanceled"}
    frame["data"] = [spot, frame["data"][0], {**spot, "category": "option"}]
    events = decode_private(json.dumps(frame), 0)
    assert isinstance(events, list) and [type(e) for e in events] == [OrderUpdated]


def test_categorised_topic_decodes_like_all_in_one() -> None:
    frame = load_fixture("ws_order")
    frame["topic"] = "order.linear"
    assert decode_private(json.dumps(frame), 0) == decode_private(raw("ws_order"), 0)


def test_execution_item() -> None:
    event = one(decode_private(raw("ws_execution"), RECEIVED), ExecutionReceived)
    assert event.exchange_ts == 1784712600127
    assert event.execution == Execution(
        exec_id="7e2ae69c-4edf-5800-a352-893d52b446aa",
        order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        order_link_id="mkt-buy-0001",
        symbol="BTCUSDT",
        side=Side.BUY,
        exec_type=ExecType.TRADE,
        exec_price=D("104250.40"),
        exec_qty=D("0.010"),
        exec_value=D("1042.504"),
        exec_fee=D("0.5733772"),
        fee_rate=D("0.00055"),
        exec_time=1784712600125,
        is_maker=False,
        order_type=OrderType.MARKET,
        order_price=D("109462.90"),
        order_qty=D("0.010"),
        leaves_qty=D(0),
        closed_size=D(0),
        exec_pnl=D(0),
        mark_price=D("104255.00"),
        index_price=D("104262.15"),
        seq=9821347654,
        create_type=CreateType.BY_USER,
        stop_order_type=StopOrderType.NONE,
    )


def test_funding_execution_has_no_order_type() -> None:
    frame = load_fixture("ws_execution")
    frame["data"][0].update(execType="Funding", orderType="UNKNOWN", orderId="", isMaker=True)
    execution = one(decode_private(json.dumps(frame), 0), ExecutionReceived).execution
    assert (execution.exec_type, execution.order_type, execution.is_maker) == (ExecType.FUNDING, None, True)
    frame["data"][0].update(orderType="Market")
    assert one(decode_private(json.dumps(frame), 0), ExecutionReceived).execution.order_type is None


def test_position_item() -> None:
    event = one(decode_private(raw("ws_position"), RECEIVED), PositionUpdated)
    assert event.exchange_ts == 1784712600128
    assert event.position == Position(
        symbol="BTCUSDT",
        side=Side.BUY,
        size=D("0.010"),
        entry_price=D("104250.40"),
        leverage=D(10),
        mark_price=D("104255.00"),
        liq_price=D("94351.70"),
        take_profit=D(0),
        stop_loss=D(0),
        trailing_stop=D(0),
        position_im=D("104.82341"),
        position_mm=D("5.78546"),
        cur_realised_pnl=D("-0.5733772"),
        cum_realised_pnl=D("-0.5733772"),
        session_avg_price=D(0),
        created_time=1784712600125,
        updated_time=1784712600125,
        open_time=1784712600125,
        seq=9821347654,
    )


def test_flat_position_item() -> None:
    position = one(decode_private(raw("ws_position_flat"), 0), PositionUpdated).position
    assert position.side is None and position.size == 0 and position.entry_price == 0
    assert position.liq_price is None and position.open_time == 0
    assert position.cur_realised_pnl == D("4.54711225") and position.seq == 9821350001
    assert position.unrealised_pnl == 0


@pytest.mark.parametrize("liq", ["", "0", "0.00"])
def test_unset_liq_price_is_none(liq: str) -> None:
    frame = load_fixture("ws_position")
    frame["data"][0]["liqPrice"] = liq
    assert one(decode_private(json.dumps(frame), 0), PositionUpdated).position.liq_price is None


def test_wallet_item() -> None:
    event = one(decode_private(raw("ws_wallet"), RECEIVED), WalletUpdated)
    assert event.exchange_ts == 1784712600129
    assert event.wallet == Wallet(
        total_equity=D("9999.4726228"),
        total_wallet_balance=D("9999.4266228"),
        total_margin_balance=D("9999.4726228"),
        total_available_balance=D("9894.6492128"),
        total_perp_upl=D("0.046"),
        total_initial_margin=D("104.82341"),
        total_maintenance_margin=D("5.78546"),
        account_type="UNIFIED",
        coins=(
            WalletCoin(
                coin="USDT",
                wallet_balance=D("9999.4266228"),
                equity=D("9999.4726228"),
                unrealised_pnl=D("0.046"),
                cum_realised_pnl=D("-0.5733772"),
                total_order_im=D(0),
                total_position_im=D("104.82341"),
                total_position_mm=D("5.78546"),
                locked=D(0),
            ),
        ),
    )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"id":"x","topic":"order","creationTime":1,"data":{}}', "expected an array"),
        ('{"id":"x","topic":"order","creationTime":1}', "expected an array"),
        ('{"id":"x","topic":"greeks","creationTime":1,"data":[]}', "unknown topic: greeks"),
        ('{"id":"x","topic":"wallet","creationTime":"1","data":[]}', "creationTime"),
        ('{"id":"x","creationTime":1,"data":[]}', "missing topic"),
        ('{"op":"auth","conn_id":"c"}', "missing success"),
        ('{"op":"pong","args":[],"conn_id":"c"}', "pong without args"),
    ],
)
def test_private_envelope_errors(frame: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_private(frame, 0)


# ---- trade stream ----------------------------------------------------------------------------

HEADER_OK = {
    "X-Bapi-Limit": "10",
    "X-Bapi-Limit-Status": "9",
    "X-Bapi-Limit-Reset-Timestamp": "1784712600124",
    "Traceid": "8c9a1d2e3f4b5a697887766554433221",
    "Timenow": "1784712600124",
}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ws_trade_auth_ok", Control(op="auth", success=True, message="OK", conn_id="cnt5leec0hvan15eukcg-2t")),
        (
            "ws_trade_auth_fail",
            Control(
                op="auth", success=False, message="Invalid sign", conn_id="cnt5leec0hvan15eukcg-2t", ret_code=10004
            ),
        ),
        (
            "ws_trade_order_create_ok",
            Control(
                op="order.create",
                success=True,
                message="OK",
                req_id="c-0001",
                conn_id="cnt5leec0hvan15eukcg-2t",
                header=HEADER_OK,
                data={"orderId": "9aac161b-8ed6-450d-9cab-c5cc67c21784", "orderLinkId": "mkt-buy-0001"},
            ),
        ),
        (
            "ws_trade_pong",
            Control(
                op="pong",
                success=True,
                message="OK",
                conn_id="cnt5leec0hvan15eukcg-2t",
                data={"server_ms": 1784712600123},
            ),
        ),
    ],
)
def test_trade_replies(name: str, expected: Control) -> None:
    assert decode_trade(raw(name)) == expected


def test_trade_order_error() -> None:
    control = decode_trade(raw("ws_trade_order_error"))
    assert (control.op, control.success, control.ret_code) == ("order.create", False, 110007)
    assert (control.message, control.req_id) == ("Insufficient available balance", "c-0002")
    assert control.data == {} and control.header["X-Bapi-Limit-Status"] == "8"


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"retCode":0,"retMsg":"OK","connId":"c"}', "missing op"),
        ('{"op":"auth","retCode":"0"}', "retCode"),
        ('{"op":"auth","retCode":0,"header":[1]}', "header"),
        ('{"op":"auth","retCode":0,"connId":7}', "connId"),
    ],
)
def test_trade_errors(frame: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_trade(frame)


@pytest.mark.parametrize("text", ["", "{", "[1,2]", "null", '"order"', b"\xff\xfe{}", "\ud800"])
def test_non_objects_are_frame_errors(text: str | bytes) -> None:
    for decode in (lambda t: decode_public(t, 0), lambda t: decode_private(t, 0), decode_trade):
        with pytest.raises(FrameError):
            decode(text)


# ---- REST list items -------------------------------------------------------------------------


def test_rest_order_item() -> None:
    order = order_from_rest(rest_item("rest_order_realtime"))
    assert (order.status, order.order_type, order.time_in_force) == (
        OrderStatus.PARTIALLY_FILLED,
        OrderType.LIMIT,
        TimeInForce.GTC,
    )
    assert (order.qty, order.price, order.cum_exec_qty) == (D("0.02"), D("104000"), D("0.01"))
    assert order.leaves_qty == D("0.010") and order.cum_exec_fee == D("0.208")
    assert (order.take_profit, order.stop_loss) == (D("106000"), D("102000"))
    assert (order.tp_trigger_by, order.sl_trigger_by) == (TriggerBy.LAST, TriggerBy.MARK)
    assert order.tpsl_mode is TpSlMode.FULL and order.trigger_by is None
    assert order.closed_pnl == 0 and order.updated_time == 1784712630456


def test_rest_execution_item() -> None:
    execution = execution_from_rest(rest_item("rest_execution_list"))
    assert execution.exec_id == "7e2ae69c-4edf-5800-a352-893d52b446aa"
    assert (execution.exec_price, execution.exec_qty, execution.exec_fee) == (D("104250.4"), D("0.01"), D("0.5733772"))
    assert execution.exec_pnl == 0 and execution.seq == 9821347654
    assert execution.exec_time == 1784712600125 and execution.is_maker is False


def test_rest_position_item_reads_avg_price() -> None:
    position = position_from_rest(rest_item("rest_position_list"))
    assert (position.side, position.size, position.entry_price) == (Side.BUY, D("0.010"), D("104250.40"))
    assert (position.take_profit, position.stop_loss, position.liq_price) == (D("106000"), D(0), D("94351.7"))
    assert position.unrealised_pnl == (D("104255") - D("104250.4")) * D("0.01")


def test_rest_wallet_item() -> None:
    wallet = wallet_from_rest(rest_item("rest_wallet_balance"))
    assert wallet.total_equity == D("9999.4726228") and wallet.total_perp_upl == D("0.046")
    assert [c.coin for c in wallet.coins] == ["USDT"]
    assert wallet.coins[0].wallet_balance == D("9999.4266228")


def test_rest_instrument_item() -> None:
    assert instrument_from_rest(rest_item("rest_instruments_info")) == BTC


def test_rest_ticker_item() -> None:
    ticker = ticker_from_rest(rest_item("rest_tickers"), ts=1784712600123)
    assert ticker == _sent_ticker(tick_direction="ZeroPlusTick")  # REST sends none: the model's default


def test_rest_kline_row() -> None:
    row = load_fixture("rest_kline")["result"]["list"][0]
    assert kline_from_rest("BTCUSDT", "1", row) == Kline(
        symbol="BTCUSDT",
        interval="1",
        start=1784712600000,
        open=D("104230.1"),
        high=D("104260"),
        low=D("104221.7"),
        close=D("104250.4"),
        volume=D("12.418"),
        turnover=D("1294571.0332"),
    )
    with pytest.raises(FrameError, match="kline row"):
        kline_from_rest("BTCUSDT", "1", row[:6])


def test_rest_recent_trade_row() -> None:
    row = load_fixture("rest_recent_trade")["result"]["list"][0]
    assert recent_trade_from_rest("BTCUSDT", row) == PublicTrade(
        trade_id="0001-000000000042",
        symbol="BTCUSDT",
        taker_side=Side.BUY,
        price=D("104250.40"),
        size=D("0.013"),
        time=1784712600118,
        tick_direction="",
        seq=0,
    )
    with pytest.raises(FrameError, match="recent-trade"):
        recent_trade_from_rest("ETHUSDT", row)
    with pytest.raises(FrameError):
        recent_trade_from_rest("BTCUSDT", {**row, "price": "1e3"})


def test_rest_closed_pnl_item() -> None:
    assert closed_pnl_from_rest(rest_item("rest_closed_pnl")) == golden_closed_pnl()


# ---- round trips through the embedded exchange's serializers ---------------------------------


def _orders() -> list[Order]:
    market = replace(golden_market_order(), closed_pnl=D("-1.25"))
    stop = Order(
        order_id="2b3c",
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
        create_type=CreateType.BY_STOP_LOSS,
        stop_order_type=StopOrderType.STOP_LOSS,
        trigger_price=D("102000.0"),
        trigger_by=TriggerBy.MARK,
        trigger_direction=2,
        tpsl_mode=TpSlMode.FULL,
        reduce_only=True,
        close_on_trigger=True,
        parent_order_link_id="mkt-buy-0001",
        last_price_on_created=D("104250.4"),
    )
    limit = Order(
        order_id="1c2b",
        order_link_id="lmt-sell-3",
        symbol="BTCUSDT",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=D("0.020"),
        price=D("105000.0"),
        time_in_force=TimeInForce.POST_ONLY,
        status=OrderStatus.CANCELLED,
        created_time=NOW,
        updated_time=NOW + 9,
        cancel_type=CancelType.BY_USER,
        reject_reason=RejectReason.POST_ONLY_WILL_TAKE,
        take_profit=D("99000"),
        stop_loss=D("106000"),
        tp_trigger_by=TriggerBy.LAST,
        sl_trigger_by=TriggerBy.INDEX,
        tp_limit_price=D("99010"),
        sl_limit_price=D("105990"),
        tpsl_mode=TpSlMode.PARTIAL,
    )
    return [market, stop, limit]


def _private(topic: str, items: list[dict[str, object]]) -> str:
    return orjson.dumps(wire.private_message(topic, "id-1", NOW + 5, items)).decode()


@pytest.mark.parametrize("order", _orders(), ids=lambda o: o.order_id)
def test_order_round_trip(order: Order) -> None:
    events = decode_private(_private("order", [wire.order_to_wire(order, BTC, ws=True)]), RECEIVED)
    event = one(events, OrderUpdated)
    assert event.order == order and event.exchange_ts == NOW + 5
    rest = order_from_rest(json.loads(json.dumps(wire.order_to_wire(order, BTC, ws=False))))
    assert rest == replace(order, closed_pnl=D(0))


def _executions() -> list[Execution]:
    fill = Execution(
        exec_id="e-1",
        order_id="o-1",
        order_link_id="lnk",
        symbol="BTCUSDT",
        side=Side.SELL,
        exec_type=ExecType.TRADE,
        exec_price=D("104820.1"),
        exec_qty=D("0.010"),
        exec_value=D("1048.201"),
        exec_fee=D("0.2096402"),
        fee_rate=D("0.0002"),
        exec_time=NOW + 7,
        is_maker=True,
        order_type=OrderType.LIMIT,
        order_price=D("104820.1"),
        order_qty=D("0.010"),
        leaves_qty=D(0),
        closed_size=D("0.010"),
        exec_pnl=D("5.697"),
        mark_price=D("104821"),
        index_price=D("104819.5"),
        seq=17,
        create_type=CreateType.BY_TAKE_PROFIT,
        stop_order_type=StopOrderType.TAKE_PROFIT,
    )
    funding = replace(
        fill,
        exec_id="e-2",
        exec_type=ExecType.FUNDING,
        order_type=None,
        is_maker=False,
        exec_pnl=D(0),
        closed_size=D(0),
        create_type=CreateType.BY_USER,
        stop_order_type=StopOrderType.NONE,
    )
    return [fill, funding]


@pytest.mark.parametrize("execution", _executions(), ids=lambda e: e.exec_id)
def test_execution_round_trip(execution: Execution) -> None:
    frame = _private("execution", [wire.execution_to_wire(execution, BTC, ws=True)])
    assert one(decode_private(frame, 0), ExecutionReceived).execution == execution
    rest = execution_from_rest(wire.execution_to_wire(execution, BTC, ws=False))
    assert rest == replace(execution, exec_pnl=D(0))


def _positions() -> list[Position]:
    long = replace(
        golden_long(),
        stop_loss=D("102000"),
        trailing_stop=D("500"),
        session_avg_price=D("104250.4"),
        created_time=NOW,
    )
    short = replace(long, side=Side.SELL, liq_price=None, leverage=D("25.5"), seq=3)
    flat = Position(
        symbol="ETHUSDT",
        mark_price=D("3412.5"),
        cur_realised_pnl=D("4.5"),
        cum_realised_pnl=D("4.5"),
        created_time=NOW,
        updated_time=NOW + 9,
        seq=4,
    )
    return [long, short, flat]


@pytest.mark.parametrize("position", _positions(), ids=lambda p: f"{p.symbol}-{p.side}")
def test_position_round_trip(position: Position) -> None:
    item = wire.position_to_wire(position, BTC, ws=True, taker_fee_rate=TAKER)
    assert one(decode_private(_private("position", [item]), 0), PositionUpdated).position == position
    rest = wire.position_to_wire(position, BTC, ws=False, taker_fee_rate=TAKER)
    assert position_from_rest(rest) == position


def test_wallet_round_trip() -> None:
    wallet = Wallet(
        total_equity=D("10012.5"),
        total_wallet_balance=D("10000.25"),
        total_margin_balance=D("10012.5"),
        total_available_balance=D("9800.125"),
        total_perp_upl=D("12.25"),
        total_initial_margin=D("200.5"),
        total_maintenance_margin=D("11.875"),
        coins=(
            WalletCoin(
                coin="USDT",
                wallet_balance=D("10000.25"),
                equity=D("10012.5"),
                unrealised_pnl=D("12.25"),
                cum_realised_pnl=D("-3.5"),
                total_order_im=D("20.5"),
                total_position_im=D("180"),
                total_position_mm=D("11.875"),
                locked=D("1.5"),
            ),
        ),
    )
    frame = _private("wallet", [wire.wallet_to_wire(wallet)])
    assert one(decode_private(frame, 0), WalletUpdated).wallet == wallet
    assert wallet_from_rest(wire.wallet_to_wire(wallet)) == wallet


def _sent_ticker(**changes: Any) -> Ticker:
    """The golden ticker with the values the wire rounds (turnover and open-interest value) at its precision."""
    return golden_ticker(**{"open_interest_value": D("5454007887.58"), "turnover_24h": D("3107433385.4398"), **changes})


def _public(topic: str, type_: str, ts: int, data: object) -> str:
    return orjson.dumps(wire.public_message(topic, type_, ts, data, cs=1)).decode()


def test_ticker_snapshot_and_deltas_round_trip() -> None:
    encoder = TickerEncoder(BTC)
    steps = [
        _sent_ticker(),
        _sent_ticker(bid1_price=D("104250.5"), ask1_size=D("2.031")),
        _sent_ticker(
            last_price=D("104300.1"),
            tick_direction="MinusTick",
            volume_24h=D("29742"),
            funding_rate=D("-0.00012"),
            next_funding_time=1784764800000,
            open_interest=D("52000"),
            open_interest_value=D("5400000000.5"),
        ),
    ]
    state: Ticker | None = None
    for index, ticker in enumerate(steps):
        kind = "snapshot" if index == 0 else "delta"
        event = one(
            decode_public(_public("tickers.BTCUSDT", kind, NOW + index, encoder.update(ticker)), 0), TickerUpdated
        )
        assert (event.snapshot, event.exchange_ts) == (index == 0, NOW + index)
        state = Ticker(symbol=event.symbol, **event.fields) if state is None else replace(state, **event.fields)
        assert state == replace(ticker, ts=0)
    rest = wire.ticker_to_wire(steps[-1], BTC, ws=False)
    assert ticker_from_rest(rest, ts=NOW) == replace(steps[-1], tick_direction="ZeroPlusTick")


@pytest.mark.parametrize("confirm", [False, True])
def test_kline_round_trip(confirm: bool) -> None:
    kline = Kline(
        symbol="BTCUSDT",
        interval="15",
        start=1784712600000,
        open=D("104230.1"),
        high=D("104260"),
        low=D("104221.7"),
        close=D("104250.4"),
        volume=D("12.418"),
        turnover=D("1294571.0332"),
        confirm=confirm,
    )
    item = wire.kline_ws(kline, BTC, timestamp=NOW + 3)
    event = one(decode_public(_public("kline.15.BTCUSDT", "snapshot", NOW, [item]), 0), KlineUpdated)
    assert event.kline == kline and event.exchange_ts == NOW + 3
    row = wire.kline_rest_row(kline, BTC)
    assert kline_from_rest("BTCUSDT", "15", row, confirm=confirm) == kline


def test_instrument_and_closed_pnl_round_trip() -> None:
    eth = replace(
        BTC,
        symbol="ETHUSDT",
        base_coin="ETH",
        tick_size=D("0.01"),
        min_price=D("0.01"),
        max_price=D("199999.98"),
        qty_step=D("0.01"),
        min_qty=D("0.01"),
        max_qty=D("7240"),
        max_market_qty=D("724"),
        max_leverage=D("50"),
        leverage_step=D("0.5"),
        symbol_id=2,
    )
    assert instrument_from_rest(wire.instrument_to_wire(eth)) == eth
    closed = ClosedPnl(
        symbol="BTCUSDT",
        order_id="c-1",
        side=Side.BUY,
        qty=D("0.020"),
        order_price=D("109000"),
        order_type=OrderType.LIMIT,
        closed_size=D("0.020"),
        cum_entry_value=D("2000.5"),
        avg_entry_price=D("100025"),
        cum_exit_value=D("1990.25"),
        avg_exit_price=D("99512.5"),
        closed_pnl=D("-11.3"),
        fill_count=3,
        leverage=D(5),
        open_fee=D("0.4"),
        close_fee=D("0.65"),
        created_time=NOW,
        updated_time=NOW + 1,
        exec_type=ExecType.BUST_TRADE,
    )
    assert closed_pnl_from_rest(wire.closed_pnl_to_wire(closed, BTC)) == closed
