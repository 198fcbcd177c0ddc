"""The official pybit HTTP client, unchanged but for its endpoint, against the embedded exchange."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from pybit.exceptions import InvalidRequestError
from pybit.unified_trading import HTTP

BTC = "BTCUSDT"
TAKER = Decimal("0.00055")
TICK = Decimal("0.10")
START = Decimal("10000")


@pytest.fixture
def session(threaded_sim: Any) -> HTTP:
    """pybit's HTTP client pointed at the embedded exchange (no retry delays)."""
    exchange = threaded_sim.exchange
    client = HTTP(api_key=exchange.api_key, api_secret=exchange.api_secret, max_retries=1, retry_delay=0)
    client.endpoint = exchange.urls.rest
    return client


def last_price(threaded_sim: Any) -> Decimal:
    """The exchange's current last price of BTCUSDT, read on its own loop."""
    return threaded_sim.call(lambda: threaded_sim.exchange.engine.markets[BTC].last_price)


def on_tick(value: Decimal) -> str:
    """A BTCUSDT price string on the 0.10 grid."""
    return str(((value / TICK).to_integral_value() * TICK).quantize(TICK))


def fills_of(session: HTTP, order_id: str) -> list[dict[str, Any]]:
    """Trade executions of one order."""
    rows = session.get_executions(category="linear", symbol=BTC, orderId=order_id)["result"]["list"]
    assert rows and all(r["orderId"] == order_id and r["execType"] == "Trade" for r in rows)
    return rows


def test_server_time_is_now(session: HTTP) -> None:
    before = int(time.time())
    resp = session.get_server_time()
    after = int(time.time())
    assert resp["retCode"] == 0 and resp["retMsg"] == "OK"
    seconds = int(resp["result"]["timeSecond"])
    assert before - 1 <= seconds <= after + 1
    assert int(resp["result"]["timeNano"]) // 1_000_000_000 == seconds
    assert abs(resp["time"] - seconds * 1000) < 2000


def test_instruments_info_btcusdt_filters(session: HTTP) -> None:
    rows = session.get_instruments_info(category="linear", symbol=BTC)["result"]["list"]
    assert [r["symbol"] for r in rows] == [BTC]
    inst = rows[0]
    assert (inst["contractType"], inst["status"], inst["settleCoin"]) == ("LinearPerpetual", "Trading", "USDT")
    assert inst["priceFilter"]["tickSize"] == "0.10"
    assert Decimal(inst["priceFilter"]["minPrice"]) == Decimal("0.10")
    assert inst["lotSizeFilter"]["qtyStep"] == "0.001"
    assert inst["lotSizeFilter"]["minOrderQty"] == "0.001"
    assert Decimal(inst["lotSizeFilter"]["minNotionalValue"]) == 5
    assert Decimal(inst["lotSizeFilter"]["maxMktOrderQty"]) < Decimal(inst["lotSizeFilter"]["maxOrderQty"])
    assert Decimal(inst["leverageFilter"]["maxLeverage"]) == 100
    every = session.get_instruments_info(category="linear")["result"]["list"]
    assert {r["symbol"] for r in every} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


def test_tickers_best_bid_below_ask(session: HTTP) -> None:
    rows = session.get_tickers(category="linear", symbol=BTC)["result"]["list"]
    assert len(rows) == 1 and rows[0]["symbol"] == BTC
    ticker = rows[0]
    bid, ask = Decimal(ticker["bid1Price"]), Decimal(ticker["ask1Price"])
    assert ask - bid == TICK
    assert Decimal(ticker["bid1Size"]) > 0 and Decimal(ticker["ask1Size"]) > 0
    assert Decimal(ticker["fundingRate"]) == Decimal("0.0001")
    assert abs(Decimal(ticker["lastPrice"]) / Decimal("104250.40") - 1) < Decimal("0.01")


def test_kline_newest_first_seven_strings(session: HTTP) -> None:
    resp = session.get_kline(category="linear", symbol=BTC, interval="1", limit=5)
    assert resp["result"]["symbol"] == BTC
    rows = resp["result"]["list"]
    assert len(rows) == 5
    for row in rows:
        assert len(row) == 7 and all(isinstance(v, str) for v in row)
        _start, opened, high, low, close, volume, turnover = (Decimal(v) for v in row)
        assert low <= min(opened, close) and max(opened, close) <= high
        assert volume >= 0 and turnover >= 0
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert all(a - b == 60_000 for a, b in zip(starts, starts[1:], strict=False))
    assert starts[0] <= time.time() * 1000 < starts[0] + 60_000


def test_set_leverage_then_not_modified(session: HTTP) -> None:
    resp = session.set_leverage(category="linear", symbol=BTC, buyLeverage="5", sellLeverage="5")
    assert resp["retCode"] == 0 and resp["result"] == {}
    with pytest.raises(InvalidRequestError) as err:
        session.set_leverage(category="linear", symbol=BTC, buyLeverage="5", sellLeverage="5")
    assert err.value.status_code == 110043
    assert "leverage not modified" in err.value.message
    pos = session.get_positions(category="linear", symbol=BTC)["result"]["list"][0]
    assert Decimal(pos["leverage"]) == 5


def test_market_buy_tpsl_wallet_close_and_closed_pnl(session: HTTP, threaded_sim: Any) -> None:
    session.set_leverage(category="linear", symbol=BTC, buyLeverage="20", sellLeverage="20")
    ack = session.place_order(
        category="linear", symbol=BTC, side="Buy", orderType="Market", qty="0.010", orderLinkId="pybit-mkt-0001"
    )["result"]
    assert ack["orderLinkId"] == "pybit-mkt-0001" and len(ack["orderId"]) == 36
    [buy] = fills_of(session, ack["orderId"])
    entry, open_fee = Decimal(buy["execPrice"]), Decimal(buy["execFee"])
    assert buy["side"] == "Buy" and Decimal(buy["execQty"]) == Decimal("0.010") and buy["isMaker"] is False
    assert Decimal(buy["feeRate"]) == TAKER
    assert open_fee == entry * Decimal("0.010") * TAKER
    assert Decimal(buy["execValue"]) == entry * Decimal("0.010")

    placed = session.get_open_orders(category="linear", symbol=BTC, orderLinkId="pybit-mkt-0001")["result"]["list"]
    assert [(o["orderStatus"], o["timeInForce"], o["orderType"]) for o in placed] == [("Filled", "IOC", "Market")]
    assert Decimal(placed[0]["avgPrice"]) == entry and Decimal(placed[0]["cumExecQty"]) == Decimal("0.010")

    pos = session.get_positions(category="linear", symbol=BTC)["result"]["list"][0]
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["avgPrice"])) == ("Buy", Decimal("0.010"), entry)
    assert Decimal(pos["leverage"]) == 20
    assert Decimal(pos["curRealisedPnl"]) == -open_fee

    coin = session.get_wallet_balance(accountType="UNIFIED", coin="USDT")["result"]["list"][0]["coin"][0]
    assert coin["coin"] == "USDT"
    assert Decimal(coin["walletBalance"]) == START - open_fee

    tp, sl = on_tick(entry * Decimal("1.2")), on_tick(entry * Decimal("0.8"))
    resp = session.set_trading_stop(
        category="linear", symbol=BTC, takeProfit=tp, stopLoss=sl, tpslMode="Full", positionIdx=0
    )
    assert resp["retCode"] == 0 and resp["result"] == {}
    stops = session.get_open_orders(category="linear", symbol=BTC, orderFilter="StopOrder")["result"]["list"]
    by_kind = {o["stopOrderType"]: o for o in stops}
    assert set(by_kind) == {"TakeProfit", "StopLoss"}
    for kind, price, direction in (("TakeProfit", tp, 1), ("StopLoss", sl, 2)):
        o = by_kind[kind]
        assert o["orderStatus"] == "Untriggered"
        assert o["side"] == "Sell" and o["orderType"] == "Market"
        assert o["reduceOnly"] is True and o["closeOnTrigger"] is True
        assert o["triggerDirection"] == direction
        assert Decimal(o["triggerPrice"]) == Decimal(price)
        assert Decimal(o["qty"]) == Decimal("0.010")
        assert o["orderLinkId"] == ""
    assert by_kind["TakeProfit"]["createType"] == "CreateByTakeProfit"
    assert by_kind["StopLoss"]["createType"] == "CreateByStopLoss"
    pos = session.get_positions(category="linear", symbol=BTC)["result"]["list"][0]
    assert (Decimal(pos["takeProfit"]), Decimal(pos["stopLoss"])) == (Decimal(tp), Decimal(sl))

    close = session.place_order(
        category="linear",
        symbol=BTC,
        side="Sell",
        orderType="Market",
        qty="0.010",
        reduceOnly=True,
        orderLinkId="pybit-close-0001",
    )["result"]
    [sell] = fills_of(session, close["orderId"])
    exit_price, close_fee = Decimal(sell["execPrice"]), Decimal(sell["execFee"])
    assert Decimal(sell["closedSize"]) == Decimal("0.010")
    assert close_fee == exit_price * Decimal("0.010") * TAKER

    flat = session.get_positions(category="linear", symbol=BTC)["result"]["list"][0]
    assert (flat["side"], Decimal(flat["size"])) == ("", 0)
    assert session.get_open_orders(category="linear", symbol=BTC, orderFilter="StopOrder")["result"]["list"] == []

    [record] = session.get_closed_pnl(category="linear", symbol=BTC)["result"]["list"]
    assert record["orderId"] == close["orderId"] and record["side"] == "Sell"
    assert Decimal(record["closedSize"]) == Decimal("0.010")
    assert Decimal(record["avgEntryPrice"]) == entry and Decimal(record["avgExitPrice"]) == exit_price
    assert Decimal(record["openFee"]) == open_fee and Decimal(record["closeFee"]) == close_fee
    expected = (exit_price - entry) * Decimal("0.010") - open_fee - close_fee
    assert Decimal(record["closedPnl"]) == expected
    assert Decimal(record["cumEntryValue"]) == entry * Decimal("0.010")
    assert Decimal(record["cumExitValue"]) == exit_price * Decimal("0.010")

    coin = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["coin"][0]
    assert Decimal(coin["walletBalance"]) == START + expected


def test_limit_order_place_amend_cancel(session: HTTP, threaded_sim: Any) -> None:
    far = last_price(threaded_sim) * Decimal("0.9")
    ack = session.place_order(
        category="linear",
        symbol=BTC,
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=on_tick(far),
        orderLinkId="pybit-lmt-0001",
    )["result"]
    resting = session.get_open_orders(category="linear", symbol=BTC, orderFilter="Order")["result"]["list"]
    assert [o["orderId"] for o in resting] == [ack["orderId"]]
    assert (resting[0]["orderStatus"], resting[0]["timeInForce"]) == ("New", "GTC")
    assert Decimal(resting[0]["price"]) == Decimal(on_tick(far))

    new_price = on_tick(far * Decimal("0.99"))
    amended = session.amend_order(category="linear", symbol=BTC, orderId=ack["orderId"], price=new_price, qty="0.002")
    assert amended["result"] == {"orderId": ack["orderId"], "orderLinkId": "pybit-lmt-0001"}
    row = session.get_open_orders(category="linear", symbol=BTC, orderLinkId="pybit-lmt-0001")["result"]["list"][0]
    assert (Decimal(row["price"]), Decimal(row["qty"]), row["orderStatus"]) == (
        Decimal(new_price),
        Decimal("0.002"),
        "New",
    )
    assert Decimal(row["leavesQty"]) == Decimal("0.002")

    cancelled = session.cancel_order(category="linear", symbol=BTC, orderLinkId="pybit-lmt-0001")
    assert cancelled["result"] == {"orderId": ack["orderId"], "orderLinkId": "pybit-lmt-0001"}
    row = session.get_open_orders(category="linear", symbol=BTC, orderId=ack["orderId"])["result"]["list"][0]
    assert (row["orderStatus"], row["cancelType"]) == ("Cancelled", "CancelByUser")
    assert Decimal(row["cumExecQty"]) == 0
    assert session.get_open_orders(category="linear", symbol=BTC)["result"]["list"] == []
    history = session.get_order_history(category="linear", symbol=BTC)["result"]["list"]
    assert [o["orderId"] for o in history] == [ack["orderId"]]
    assert session.get_executions(category="linear", symbol=BTC)["result"]["list"] == []
    coin = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["coin"][0]
    assert Decimal(coin["walletBalance"]) == START


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda s: s.place_order(category="linear", symbol=BTC, side="Buy", orderType="Market", qty="0.0015"), 10001),
        (
            lambda s: s.place_order(
                category="linear", symbol=BTC, side="Sell", orderType="Market", qty="0.010", reduceOnly=True
            ),
            110017,
        ),
        (lambda s: s.place_order(category="linear", symbol=BTC, side="Buy", orderType="Market", qty="90"), 110007),
        (
            lambda s: s.cancel_order(category="linear", symbol=BTC, orderId="00000000-0000-4000-8000-000000000000"),
            110001,
        ),
        (lambda s: s.set_leverage(category="linear", symbol=BTC, buyLeverage="10", sellLeverage="10"), 110043),
    ],
    ids=["qty-step", "reduce-only-flat", "insufficient", "cancel-unknown", "leverage-unchanged"],
)
def test_errors_raise_invalid_request_error(session: HTTP, call: Any, code: int) -> None:
    with pytest.raises(InvalidRequestError) as err:
        call(session)
    assert err.value.status_code == code
    assert err.value.message


def test_duplicate_order_link_id_and_wrong_key(session: HTTP, threaded_sim: Any) -> None:
    price = on_tick(last_price(threaded_sim) * Decimal("0.9"))
    session.place_order(
        category="linear",
        symbol=BTC,
        side="Buy",
        orderType="Limit",
        qty="0.001",
        price=price,
        orderLinkId="pybit-dup-0001",
    )
    with pytest.raises(InvalidRequestError) as dup:
        session.place_order(
            category="linear",
            symbol=BTC,
            side="Buy",
            orderType="Limit",
            qty="0.001",
            price=price,
            orderLinkId="pybit-dup-0001",
        )
    assert dup.value.status_code == 110072
    stranger = HTTP(api_key="NOT-A-KEY", api_secret="nope", max_retries=1, retry_delay=0)
    stranger.endpoint = threaded_sim.exchange.urls.rest
    with pytest.raises(InvalidRequestError) as bad_key:
        stranger.get_wallet_balance(accountType="UNIFIED")
    assert bad_key.value.status_code == 10003


def test_account_key_and_coin_info(session: HTTP, threaded_sim: Any) -> None:
    info = session.get_account_info()["result"]
    assert (info["unifiedMarginStatus"], info["marginMode"], info["isMasterTrader"]) == (6, "REGULAR_MARGIN", False)
    key = session.get_api_key_information()["result"]
    assert key["apiKey"] == threaded_sim.exchange.api_key and key["readOnly"] == 0
    assert key["permissions"]["ContractTrade"] == ["Order", "Position"] and key["uta"] == 1
    [usdt] = session.get_coin_info(coin="USDT")["result"]["rows"]
    assert usdt["coin"] == "USDT" and {c["chain"] for c in usdt["chains"]} == {"ETH", "TRX"}
    assert session.get_positions(category="inverse")["result"] == {
        "category": "inverse",
        "list": [],
        "nextPageCursor": "",
    }
    assert session.get_tickers(category="spot")["result"] == {"category": "spot", "list": []}


def test_transaction_log_after_a_round_trip(session: HTTP) -> None:
    opened = session.place_order(category="linear", symbol=BTC, side="Buy", orderType="Market", qty="0.010")["result"]
    closed = session.place_order(
        category="linear", symbol=BTC, side="Sell", orderType="Market", qty="0.010", reduceOnly=True
    )["result"]
    rows = session.get_transaction_log(accountType="UNIFIED", category="linear", currency="USDT")["result"]["list"]
    assert [(r["type"], r["side"], r["orderId"]) for r in rows] == [
        ("TRADE", "Sell", closed["orderId"]),
        ("TRADE", "Buy", opened["orderId"]),
    ]
    assert Decimal(rows[1]["cashFlow"]) == 0 and rows[0]["size"] == "0"
    fees = [Decimal(e["execFee"]) for e in session.get_executions(category="linear", symbol=BTC)["result"]["list"]]
    assert sorted(Decimal(r["fee"]) for r in rows) == sorted(fees)
    coin = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]["coin"][0]
    assert (
        Decimal(rows[0]["cashBalance"])
        == Decimal(coin["walletBalance"])
        == START + sum(Decimal(r["change"]) for r in rows)
    )
