"""Order and position lifecycles over signed REST on a manually stepped exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.sim.rest_helpers import (
    BTC,
    BTC_TICK,
    MAKER,
    START_BALANCE,
    TAKER,
    client_for,
    drive_to,
    executions,
    get_order,
    ok,
    order,
    place,
    position,
    px,
    set_leverage,
    stop_orders,
    usdt,
)
from tui_bot.sim.server import SimExchange
from tui_bot.sim.stepper import settle_funding

QTY = Decimal("0.010")


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    """A signed client on the manually stepped exchange."""
    client = client_for(manual_sim)
    yield client
    await client.close()


def book(sim: SimExchange, symbol: str = BTC) -> Any:
    return sim.engine.markets[symbol]


async def open_long(rest: SignedRest, qty: str = "0.010", **extra: Any) -> tuple[str, Decimal, Decimal]:
    """Market-buy qty; returns (orderId, fill price, fee) of its single fill."""
    order_id = await place(rest, order("Buy", qty=qty, **extra))
    [fill] = await executions(rest, orderId=order_id)
    return order_id, Decimal(fill["execPrice"]), Decimal(fill["execFee"])


async def trading_stop(rest: SignedRest, **fields: str) -> None:
    body = {"category": "linear", "symbol": BTC, "tpslMode": "Full", "positionIdx": 0, **fields}
    assert ok(await rest.post("/v5/position/trading-stop", body)) == {}


# -- limit orders ------------------------------------------------------------------------------------


async def test_limit_rests_then_fills_as_maker(manual_sim: SimExchange, mrest: SignedRest) -> None:
    start = book(manual_sim).last_price
    limit = start - 100
    order_id = await place(mrest, order("Buy", "Limit", "0.010", price=str(limit), orderLinkId="maker-0001"))
    resting = await get_order(mrest, order_id)
    assert (resting["orderStatus"], Decimal(resting["leavesQty"]), resting["avgPrice"]) == ("New", QTY, "")
    await manual_sim.step(3)
    assert (await get_order(mrest, order_id))["orderStatus"] == "New"
    assert await executions(mrest, symbol=BTC) == []

    drive_to(manual_sim, BTC, limit - 200)
    filled = await get_order(mrest, order_id)
    assert filled["orderStatus"] == "Filled"
    assert (Decimal(filled["avgPrice"]), Decimal(filled["cumExecQty"]), Decimal(filled["leavesQty"])) == (limit, QTY, 0)
    [fill] = await executions(mrest, orderId=order_id)
    fee = limit * QTY * MAKER
    assert fill["isMaker"] is True and Decimal(fill["feeRate"]) == MAKER
    assert (Decimal(fill["execPrice"]), Decimal(fill["execQty"]), Decimal(fill["execFee"])) == (limit, QTY, fee)
    assert Decimal(filled["cumExecFee"]) == fee and filled["cumFeeDetail"] == {"USDT": fill["execFee"]}
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["avgPrice"])) == ("Buy", QTY, limit)
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE - fee


async def test_partial_fill_as_taker_then_rest_fills_as_maker(manual_sim: SimExchange, mrest: SignedRest) -> None:
    await set_leverage(mrest, "100")
    market = book(manual_sim)
    ask, top = market.ask1_price, market.ask1_size
    qty = top + QTY
    order_id = await place(mrest, order("Buy", "Limit", str(qty), price=str(ask)))
    partial = await get_order(mrest, order_id)
    assert partial["orderStatus"] == "PartiallyFilled"
    assert (Decimal(partial["cumExecQty"]), Decimal(partial["leavesQty"])) == (top, QTY)
    assert Decimal(partial["avgPrice"]) == ask
    [taker] = await executions(mrest, orderId=order_id)
    assert (taker["isMaker"], Decimal(taker["execQty"]), Decimal(taker["leavesQty"])) == (False, top, QTY)
    assert (Decimal((await position(mrest))["size"])) == top

    drive_to(manual_sim, BTC, ask - 300)
    done = await get_order(mrest, order_id)
    assert (done["orderStatus"], Decimal(done["cumExecQty"]), Decimal(done["leavesQty"])) == ("Filled", qty, 0)
    fills = await executions(mrest, orderId=order_id)
    assert [(f["isMaker"], Decimal(f["execQty"])) for f in fills] == [(True, QTY), (False, top)]
    taker_fee, maker_fee = ask * top * TAKER, ask * QTY * MAKER
    assert [Decimal(f["execFee"]) for f in fills] == [maker_fee, taker_fee]
    assert Decimal(done["cumExecFee"]) == taker_fee + maker_fee
    pos = await position(mrest)
    assert (Decimal(pos["size"]), Decimal(pos["avgPrice"])) == (qty, ask)


async def test_resting_order_touched_exactly_fills_only_the_top_size() -> None:
    calm = SimExchange(seed=7, autostep=False, step_seconds=1e-6, balance=START_BALANCE)
    await calm.start()
    rest = client_for(calm)
    try:
        await set_leverage(rest, "100")
        market = book(calm)
        limit = market.last_price + 100
        qty = Decimal("5.000")
        order_id = await place(rest, order("Sell", "Limit", str(qty), price=str(limit)))
        assert (await get_order(rest, order_id))["orderStatus"] == "New"
        drive_to(calm, BTC, limit + BTC_TICK / 2)
        assert market.bid1_price == limit, "a calm market sits exactly on the order price"
        top = market.bid1_size
        assert top < qty
        row = await get_order(rest, order_id)
        assert (row["orderStatus"], Decimal(row["cumExecQty"]), Decimal(row["leavesQty"])) == (
            "PartiallyFilled",
            top,
            qty - top,
        )
        [fill] = await executions(rest, orderId=order_id)
        assert (fill["isMaker"], Decimal(fill["execPrice"]), Decimal(fill["execQty"])) == (True, limit, top)
        assert Decimal(fill["execFee"]) == limit * top * MAKER
        pos = await position(rest)
        assert (pos["side"], Decimal(pos["size"])) == ("Sell", top)
        drive_to(calm, BTC, limit + 50)
        done = await get_order(rest, order_id)
        assert (done["orderStatus"], Decimal(done["cumExecQty"])) == ("Filled", qty)
        assert Decimal((await position(rest))["size"]) == qty
    finally:
        await rest.close()
        await calm.stop()


async def test_cancel_marks_cancelled_by_user(manual_sim: SimExchange, mrest: SignedRest) -> None:
    price = px(book(manual_sim).last_price * Decimal("0.95"))
    order_id = await place(mrest, order("Buy", "Limit", "0.002", price=price, orderLinkId="cancel-me"))
    ack = ok(await mrest.post("/v5/order/cancel", {"category": "linear", "symbol": BTC, "orderLinkId": "cancel-me"}))
    assert ack == {"orderId": order_id, "orderLinkId": "cancel-me"}
    row = await get_order(mrest, link_id="cancel-me")
    assert (row["orderStatus"], row["cancelType"], Decimal(row["leavesQty"])) == ("Cancelled", "CancelByUser", 0)
    open_rows = ok(await mrest.get("/v5/order/realtime", {"category": "linear", "symbol": BTC}))["list"]
    assert open_rows == []
    drive_to(manual_sim, BTC, Decimal(price) - 500)
    assert (await get_order(mrest, order_id))["orderStatus"] == "Cancelled"
    assert await executions(mrest, symbol=BTC) == []


# -- TP/SL and trailing ----------------------------------------------------------------------------


async def test_take_profit_closes_position_and_deactivates_stop_loss(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    _, entry, open_fee = await open_long(mrest)
    tp, sl = entry + 300, entry - 300
    await trading_stop(mrest, takeProfit=str(tp), stopLoss=str(sl))
    stops = {o["stopOrderType"]: o for o in await stop_orders(mrest)}
    tp_id, sl_id = stops["TakeProfit"]["orderId"], stops["StopLoss"]["orderId"]

    drive_to(manual_sim, BTC, entry + 200)
    assert {o["orderId"] for o in await stop_orders(mrest)} == {tp_id, sl_id}
    drive_to(manual_sim, BTC, entry + 500)

    assert await stop_orders(mrest) == []
    tp_row, sl_row = await get_order(mrest, tp_id), await get_order(mrest, sl_id)
    assert (tp_row["orderStatus"], tp_row["createType"], tp_row["stopOrderType"]) == (
        "Filled",
        "CreateByTakeProfit",
        "TakeProfit",
    )
    assert Decimal(tp_row["cumExecQty"]) == QTY
    assert (sl_row["orderStatus"], sl_row["cancelType"]) == ("Deactivated", "CancelByTpSlTsClear")
    assert Decimal(sl_row["cumExecQty"]) == 0
    [close] = await executions(mrest, orderId=tp_id)
    assert (close["side"], close["createType"], close["stopOrderType"]) == ("Sell", "CreateByTakeProfit", "TakeProfit")
    assert Decimal(close["closedSize"]) == QTY and Decimal(close["execPrice"]) >= tp
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["takeProfit"]), Decimal(pos["stopLoss"])) == ("", 0, 0, 0)
    [pnl] = ok(await mrest.get("/v5/position/closed-pnl", {"category": "linear", "symbol": BTC}))["list"]
    exit_price, close_fee = Decimal(close["execPrice"]), Decimal(close["execFee"])
    assert pnl["orderId"] == tp_id
    assert Decimal(pnl["closedPnl"]) == (exit_price - entry) * QTY - open_fee - close_fee
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE + Decimal(pnl["closedPnl"])


async def test_short_tpsl_directions_and_profit_on_the_way_down(manual_sim: SimExchange, mrest: SignedRest) -> None:
    open_id = await place(mrest, order("Sell"))
    [short] = await executions(mrest, orderId=open_id)
    entry, open_fee = Decimal(short["execPrice"]), Decimal(short["execFee"])
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["avgPrice"])) == ("Sell", QTY, entry)
    await trading_stop(mrest, takeProfit=str(entry - 400), stopLoss=str(entry + 400))
    stops = {o["stopOrderType"]: o for o in await stop_orders(mrest)}
    assert (stops["TakeProfit"]["triggerDirection"], stops["StopLoss"]["triggerDirection"]) == (2, 1)
    assert {o["side"] for o in stops.values()} == {"Buy"}
    drive_to(manual_sim, BTC, entry - 600)
    assert (await position(mrest))["side"] == ""
    [close] = await executions(mrest, orderId=stops["TakeProfit"]["orderId"])
    exit_price, close_fee = Decimal(close["execPrice"]), Decimal(close["execFee"])
    assert exit_price <= entry - 400
    [pnl] = ok(await mrest.get("/v5/position/closed-pnl", {"category": "linear", "symbol": BTC}))["list"]
    expected = (entry - exit_price) * QTY - open_fee - close_fee
    assert pnl["side"] == "Buy" and Decimal(pnl["closedPnl"]) == expected > 0
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE + expected
    sl = await get_order(mrest, stops["StopLoss"]["orderId"])
    assert (sl["orderStatus"], sl["cancelType"]) == ("Deactivated", "CancelByTpSlTsClear")


async def test_trailing_stop_follows_price_up_and_fires_on_pullback(manual_sim: SimExchange, mrest: SignedRest) -> None:
    market = book(manual_sim)
    _, entry, _ = await open_long(mrest)
    await trading_stop(mrest, trailingStop="100")
    [trail] = await stop_orders(mrest)
    assert (trail["stopOrderType"], trail["createType"], trail["triggerDirection"]) == (
        "TrailingStop",
        "CreateByTrailingStop",
        2,
    )
    assert (trail["side"], trail["reduceOnly"], Decimal(trail["qty"])) == ("Sell", True, QTY)
    assert Decimal(trail["triggerPrice"]) == market.last_price - 100
    assert Decimal((await position(mrest))["trailingStop"]) == 100

    high = drive_to(manual_sim, BTC, entry + 400)
    [moved] = await stop_orders(mrest)
    assert Decimal(moved["triggerPrice"]) == high - 100
    drive_to(manual_sim, BTC, high - 60)
    [held] = await stop_orders(mrest)
    assert Decimal(held["triggerPrice"]) == high - 100, "a trailing stop never moves against the position"

    drive_to(manual_sim, BTC, high - 150)
    assert await stop_orders(mrest) == []
    fired = await get_order(mrest, trail["orderId"])
    assert fired["orderStatus"] == "Filled" and Decimal(fired["cumExecQty"]) == QTY
    [close] = await executions(mrest, orderId=trail["orderId"])
    assert (close["createType"], close["stopOrderType"], Decimal(close["closedSize"])) == (
        "CreateByTrailingStop",
        "TrailingStop",
        QTY,
    )
    assert Decimal(close["execPrice"]) > entry
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["trailingStop"])) == ("", 0, 0)


async def test_tpsl_attached_on_create_arms_system_orders(manual_sim: SimExchange, mrest: SignedRest) -> None:
    last = book(manual_sim).last_price
    tp, sl = px(last + 400), px(last - 400)
    order_id, _, _ = await open_long(mrest, orderLinkId="entry-tpsl", takeProfit=tp, stopLoss=sl)
    entry = await get_order(mrest, order_id)
    assert (Decimal(entry["takeProfit"]), Decimal(entry["stopLoss"]), entry["tpslMode"]) == (
        Decimal(tp),
        Decimal(sl),
        "Full",
    )
    stops = {o["stopOrderType"]: o for o in await stop_orders(mrest)}
    assert set(stops) == {"TakeProfit", "StopLoss"}
    assert all(o["parentOrderLinkId"] == "entry-tpsl" and o["orderLinkId"] == "" for o in stops.values())
    assert (stops["TakeProfit"]["triggerDirection"], stops["StopLoss"]["triggerDirection"]) == (1, 2)
    await open_long(mrest, "0.005")
    assert {Decimal(o["qty"]) for o in await stop_orders(mrest)} == {Decimal("0.015")}, (
        "Full TP/SL track the position size"
    )
    drive_to(manual_sim, BTC, Decimal(sl) - 100)
    assert (await position(mrest))["side"] == ""
    assert (await get_order(mrest, stops["StopLoss"]["orderId"]))["orderStatus"] == "Filled"
    tp_row = await get_order(mrest, stops["TakeProfit"]["orderId"])
    assert (tp_row["orderStatus"], tp_row["cancelType"]) == ("Deactivated", "CancelByTpSlTsClear")


async def test_trading_stop_moves_and_removes_legs(manual_sim: SimExchange, mrest: SignedRest) -> None:
    _, entry, _ = await open_long(mrest)
    await trading_stop(mrest, takeProfit=str(entry + 500), stopLoss=str(entry - 500))
    stops = {o["stopOrderType"]: o for o in await stop_orders(mrest)}
    amend = {
        "category": "linear",
        "symbol": BTC,
        "orderId": stops["TakeProfit"]["orderId"],
        "triggerPrice": str(entry + 700),
    }
    ok(await mrest.post("/v5/order/amend", amend))
    assert Decimal((await position(mrest))["takeProfit"]) == entry + 700
    await trading_stop(mrest, stopLoss=str(entry - 300))
    moved = {o["stopOrderType"]: o for o in await stop_orders(mrest)}
    assert moved["StopLoss"]["orderId"] == stops["StopLoss"]["orderId"], "moving a leg amends the same order"
    assert Decimal(moved["StopLoss"]["triggerPrice"]) == entry - 300
    await trading_stop(mrest, takeProfit="0")
    assert [o["stopOrderType"] for o in await stop_orders(mrest)] == ["StopLoss"]
    removed = await get_order(mrest, stops["TakeProfit"]["orderId"])
    assert (removed["orderStatus"], removed["cancelType"]) == ("Deactivated", "CancelByUser")
    pos = await position(mrest)
    assert (Decimal(pos["takeProfit"]), Decimal(pos["stopLoss"])) == (0, entry - 300)


async def test_cancel_all_without_filter_cancels_every_kind(manual_sim: SimExchange, mrest: SignedRest) -> None:
    _, entry, _ = await open_long(mrest)
    await trading_stop(mrest, takeProfit=str(entry + 500), stopLoss=str(entry - 500))
    limit = await place(mrest, order("Buy", "Limit", "0.001", price=str(entry - 900)))
    cond = await place(mrest, order("Buy", triggerPrice=str(entry + 900), triggerDirection=1))
    eth = await place(mrest, order("Buy", "Limit", "0.01", price="3000.00", symbol="ETHUSDT"))
    stops = {o["orderId"] for o in await stop_orders(mrest)}
    result = ok(await mrest.post("/v5/order/cancel-all", {"category": "linear", "symbol": BTC}))
    assert result["success"] == "1"
    assert {o["orderId"] for o in result["list"]} == {limit} | stops
    assert cond in stops and len(stops) == 3
    assert ok(await mrest.get("/v5/order/realtime", {"category": "linear", "symbol": BTC}))["list"] == []
    assert (await get_order(mrest, limit))["orderStatus"] == "Cancelled"
    assert {(await get_order(mrest, o))["orderStatus"] for o in stops} == {"Deactivated"}
    assert (await get_order(mrest, eth, symbol="ETHUSDT"))["orderStatus"] == "New"
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["takeProfit"]), Decimal(pos["stopLoss"])) == ("Buy", 0, 0)


async def test_conditional_order_triggers_or_is_deactivated(manual_sim: SimExchange, mrest: SignedRest) -> None:
    last = book(manual_sim).last_price
    fire = await place(mrest, order("Buy", triggerPrice=px(last + 200), triggerDirection=1, orderLinkId="cond-fire"))
    keep = await place(mrest, order("Buy", triggerPrice=px(last + 900), triggerDirection=1, orderLinkId="cond-cancel"))
    assert {o["orderId"]: o["orderStatus"] for o in await stop_orders(mrest)} == {
        fire: "Untriggered",
        keep: "Untriggered",
    }
    assert (await position(mrest))["side"] == ""
    assert Decimal((await usdt(mrest))["totalOrderIM"]) == 0, "an untriggered conditional order holds no margin"

    drive_to(manual_sim, BTC, last + 300)
    fired = await get_order(mrest, fire)
    assert (fired["orderStatus"], fired["stopOrderType"], Decimal(fired["cumExecQty"])) == ("Filled", "Stop", QTY)
    [fill] = await executions(mrest, orderId=fire)
    assert Decimal(fill["execPrice"]) >= Decimal(px(last + 200)) and fill["stopOrderType"] == "Stop"
    assert Decimal((await position(mrest))["size"]) == QTY

    ok(await mrest.post("/v5/order/cancel", {"category": "linear", "symbol": BTC, "orderLinkId": "cond-cancel"}))
    cancelled = await get_order(mrest, keep)
    assert (cancelled["orderStatus"], cancelled["cancelType"]) == ("Deactivated", "CancelByUser")
    assert await stop_orders(mrest) == []


async def test_triggered_conditional_order_cannot_exceed_the_balance(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    last = book(manual_sim).last_price
    big = await place(mrest, order("Buy", qty="90", triggerPrice=px(last + 50), triggerDirection=1))
    drive_to(manual_sim, BTC, last + 150)
    row = await get_order(mrest, big)
    assert Decimal(row["cumExecQty"]) == 0
    assert (row["orderStatus"], row["rejectReason"]) == ("Cancelled", "EC_Others")
    assert (await position(mrest))["side"] == ""
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE


# -- closing ---------------------------------------------------------------------------------------


async def test_qty_zero_with_reduce_only_and_close_on_trigger_closes_everything(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    await open_long(mrest, "0.013")
    close_id = await place(mrest, order("Sell", qty="0", reduceOnly=True, closeOnTrigger=True))
    row = await get_order(mrest, close_id)
    assert (row["orderStatus"], Decimal(row["qty"]), Decimal(row["cumExecQty"])) == (
        "Filled",
        Decimal("0.013"),
        Decimal("0.013"),
    )
    assert (await position(mrest))["side"] == ""
    resp = await mrest.post("/v5/order/create", order("Sell", qty="0", reduceOnly=True))
    assert resp["retCode"] == 10001 and resp["result"] == {}


async def test_resting_reduce_only_is_cancelled_when_the_position_closes(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    _, entry, _ = await open_long(mrest)
    resting = await place(mrest, order("Sell", "Limit", "0.010", price=str(entry + 800), reduceOnly=True))
    assert (await get_order(mrest, resting))["orderStatus"] == "New"
    await place(mrest, order("Sell", qty="0.010", reduceOnly=True))
    row = await get_order(mrest, resting)
    assert (row["orderStatus"], row["cancelType"], Decimal(row["cumExecQty"])) == ("Cancelled", "CancelByReduceOnly", 0)
    drive_to(manual_sim, BTC, entry + 1000)
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"])) == ("", 0), "a cancelled reduce-only order must not open a short"


async def test_reduce_only_market_close(manual_sim: SimExchange, mrest: SignedRest) -> None:
    _, entry, open_fee = await open_long(mrest, "0.020")
    await manual_sim.step(2)
    close_id = await place(mrest, order("Sell", qty="0.005", reduceOnly=True))
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"]), Decimal(pos["avgPrice"])) == ("Buy", Decimal("0.015"), entry)
    close_id2 = await place(mrest, order("Sell", qty="0.015", reduceOnly=True))
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"])) == ("", 0)
    closes = [*(await executions(mrest, orderId=close_id)), *(await executions(mrest, orderId=close_id2))]
    assert sum(Decimal(c["closedSize"]) for c in closes) == Decimal("0.020")
    gross = sum(((Decimal(c["execPrice"]) - entry) * Decimal(c["execQty"]) for c in closes), Decimal(0))
    fees = sum((Decimal(c["execFee"]) for c in closes), Decimal(0))
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE + gross - fees - open_fee
    pnl = ok(await mrest.get("/v5/position/closed-pnl", {"category": "linear", "symbol": BTC}))["list"]
    assert [p["orderId"] for p in pnl] == [close_id2, close_id]
    assert sum(Decimal(p["openFee"]) for p in pnl) == open_fee
    assert sum(Decimal(p["closedPnl"]) for p in pnl) == gross - fees - open_fee


async def test_reduce_only_larger_than_position_is_trimmed(manual_sim: SimExchange, mrest: SignedRest) -> None:
    await open_long(mrest)
    close_id = await place(mrest, order("Sell", qty="0.050", reduceOnly=True))
    row = await get_order(mrest, close_id)
    assert (row["orderStatus"], Decimal(row["qty"]), Decimal(row["cumExecQty"])) == ("Filled", QTY, QTY)
    assert row["reduceOnly"] is True
    pos = await position(mrest)
    assert (pos["side"], Decimal(pos["size"])) == ("", 0), "a reduce-only order must never open a short"
    [fill] = await executions(mrest, orderId=close_id)
    assert Decimal(fill["execQty"]) == QTY and Decimal(fill["closedSize"]) == QTY


# -- time in force ---------------------------------------------------------------------------------


async def test_post_only_that_would_cross_is_cancelled(manual_sim: SimExchange, mrest: SignedRest) -> None:
    market = book(manual_sim)
    crossing = await place(mrest, order("Buy", "Limit", "0.010", price=str(market.ask1_price), timeInForce="PostOnly"))
    row = await get_order(mrest, crossing)
    assert (row["orderStatus"], row["rejectReason"], row["timeInForce"]) == (
        "Cancelled",
        "EC_PostOnlyWillTakeLiquidity",
        "PostOnly",
    )
    assert Decimal(row["cumExecQty"]) == 0
    assert await executions(mrest, symbol=BTC) == []
    maker = await place(mrest, order("Buy", "Limit", "0.010", price=str(market.bid1_price), timeInForce="PostOnly"))
    assert (await get_order(mrest, maker))["orderStatus"] == "New"


async def test_fok_cancels_without_full_depth_and_fills_with_it(manual_sim: SimExchange, mrest: SignedRest) -> None:
    await set_leverage(mrest, "100")
    market = book(manual_sim)
    ask, top = market.ask1_price, market.ask1_size
    killed = await place(mrest, order("Buy", "Limit", str(top + QTY), price=str(ask), timeInForce="FOK"))
    row = await get_order(mrest, killed)
    assert (row["orderStatus"], row["rejectReason"], Decimal(row["cumExecQty"])) == (
        "Cancelled",
        "EC_CancelForNoFullFill",
        0,
    )
    assert await executions(mrest, symbol=BTC) == []

    filled = await place(mrest, order("Buy", "Limit", str(top + QTY), price=str(ask + BTC_TICK), timeInForce="FOK"))
    row = await get_order(mrest, filled)
    assert (row["orderStatus"], Decimal(row["cumExecQty"])) == ("Filled", top + QTY)
    fills = await executions(mrest, orderId=filled)
    assert sorted((Decimal(f["execPrice"]), Decimal(f["execQty"])) for f in fills) == [
        (ask, top),
        (ask + BTC_TICK, QTY),
    ]


async def test_ioc_takes_what_it_can_and_cancels_the_rest(manual_sim: SimExchange, mrest: SignedRest) -> None:
    await set_leverage(mrest, "100")
    market = book(manual_sim)
    ask, top = market.ask1_price, market.ask1_size
    partial = await place(mrest, order("Buy", "Limit", str(top + QTY), price=str(ask), timeInForce="IOC"))
    row = await get_order(mrest, partial)
    assert (row["orderStatus"], Decimal(row["cumExecQty"]), Decimal(row["leavesQty"])) == ("Cancelled", top, 0)
    [fill] = await executions(mrest, orderId=partial)
    assert (Decimal(fill["execPrice"]), Decimal(fill["execQty"])) == (ask, top)

    nothing = await place(mrest, order("Buy", "Limit", "0.010", price=str(market.bid1_price - 50), timeInForce="IOC"))
    row = await get_order(mrest, nothing)
    assert (row["orderStatus"], row["rejectReason"], Decimal(row["cumExecQty"])) == (
        "Cancelled",
        "EC_NoImmediateQtyToFill",
        0,
    )
    assert Decimal((await position(mrest))["size"]) == top


# -- queries ---------------------------------------------------------------------------------------


async def test_realtime_by_order_link_id_finds_a_closed_order(manual_sim: SimExchange, mrest: SignedRest) -> None:
    last = book(manual_sim).last_price
    order_id, entry, _ = await open_long(mrest, orderLinkId="closed-link-0001")
    row = await get_order(mrest, link_id="closed-link-0001")
    assert (row["orderId"], row["orderStatus"], Decimal(row["avgPrice"])) == (order_id, "Filled", entry)
    assert (row["orderType"], row["timeInForce"], row["createType"]) == ("Market", "IOC", "CreateByUser")
    protective = (last * Decimal("1.03") / BTC_TICK).to_integral_value(ROUND_HALF_UP) * BTC_TICK
    assert Decimal(row["price"]) == protective != entry, "a market order's price is its protective limit, not the fill"
    params = {"category": "linear", "symbol": BTC}
    assert ok(await mrest.get("/v5/order/realtime", params))["list"] == []
    closed = ok(await mrest.get("/v5/order/realtime", {**params, "openOnly": 1}))["list"]
    assert [o["orderId"] for o in closed] == [order_id]


async def test_order_history_lists_closed_orders_newest_first(manual_sim: SimExchange, mrest: SignedRest) -> None:
    filled, _, _ = await open_long(mrest)
    await manual_sim.step(1)
    price = px(book(manual_sim).last_price * Decimal("0.9"))
    cancelled = await place(mrest, order("Buy", "Limit", "0.001", price=price))
    ok(await mrest.post("/v5/order/cancel", {"category": "linear", "symbol": BTC, "orderId": cancelled}))
    resting = await place(mrest, order("Buy", "Limit", "0.001", price=price))
    params = {"category": "linear", "symbol": BTC}
    rows = ok(await mrest.get("/v5/order/history", params))["list"]
    assert [(o["orderId"], o["orderStatus"]) for o in rows] == [
        (resting, "New"),
        (cancelled, "Cancelled"),
        (filled, "Filled"),
    ]
    only = ok(await mrest.get("/v5/order/history", {**params, "orderStatus": "Cancelled"}))["list"]
    assert [o["orderId"] for o in only] == [cancelled]
    page = ok(await mrest.get("/v5/order/history", {**params, "limit": 2}))
    assert [o["orderId"] for o in page["list"]] == [resting, cancelled] and page["nextPageCursor"]
    rest_page = ok(await mrest.get("/v5/order/history", {**params, "limit": 2, "cursor": page["nextPageCursor"]}))
    assert [o["orderId"] for o in rest_page["list"]] == [filled] and rest_page["nextPageCursor"] == ""


async def test_execution_list_paginates_with_cursor(manual_sim: SimExchange, mrest: SignedRest) -> None:
    ids = []
    for _ in range(5):
        ids.append(await place(mrest, order("Buy", qty="0.001")))
        await manual_sim.step(1)
    everything = await executions(mrest, symbol=BTC)
    assert len(everything) == 5 and {e["orderId"] for e in everything} == set(ids)
    seen: list[dict[str, Any]] = []
    cursors = []
    params: dict[str, Any] = {"category": "linear", "symbol": BTC, "limit": 2}
    while True:
        result = ok(await mrest.get("/v5/execution/list", params))
        seen += result["list"]
        cursors.append(result["nextPageCursor"])
        if not result["nextPageCursor"]:
            break
        params["cursor"] = result["nextPageCursor"]
    assert [len(c) > 0 for c in cursors] == [True, True, False]
    assert [e["execId"] for e in seen] == [e["execId"] for e in everything]
    assert len({e["execId"] for e in seen}) == 5
    times = [(int(e["execTime"]), e["seq"]) for e in seen]
    assert times == sorted(times, reverse=True)


async def test_position_list_by_settle_coin_and_by_symbol(manual_sim: SimExchange, mrest: SignedRest) -> None:
    _, entry, _ = await open_long(mrest)
    flat = ok(await mrest.get("/v5/position/list", {"category": "linear", "symbol": "ETHUSDT"}))["list"]
    assert len(flat) == 1
    assert (flat[0]["symbol"], flat[0]["side"], Decimal(flat[0]["size"]), Decimal(flat[0]["avgPrice"])) == (
        "ETHUSDT",
        "",
        0,
        0,
    )
    rows = ok(await mrest.get("/v5/position/list", {"category": "linear", "settleCoin": "USDT"}))["list"]
    assert [(r["symbol"], r["side"], Decimal(r["size"]), Decimal(r["avgPrice"])) for r in rows] == [
        (BTC, "Buy", QTY, entry)
    ]
    await place(mrest, order("Sell", qty="0.010", reduceOnly=True))
    assert ok(await mrest.get("/v5/position/list", {"category": "linear", "settleCoin": "USDT"}))["list"] == []
    row = await position(mrest)
    assert (row["side"], Decimal(row["size"])) == ("", 0)


async def test_funding_settlement_creates_funding_execution(manual_sim: SimExchange, mrest: SignedRest) -> None:
    _, _, open_fee = await open_long(mrest)
    market = book(manual_sim)
    mark, rate = market.mark_price, market.funding_rate
    settle_funding(manual_sim.engine)
    [funding] = await executions(mrest, execType="Funding")
    paid = QTY * mark * rate
    assert (funding["execType"], funding["orderType"], funding["side"]) == ("Funding", "UNKNOWN", "Buy")
    assert (Decimal(funding["execFee"]), Decimal(funding["execQty"]), Decimal(funding["execPrice"])) == (
        paid,
        QTY,
        mark,
    )
    assert Decimal(funding["feeRate"]) == rate
    assert Decimal((await usdt(mrest))["walletBalance"]) == START_BALANCE - open_fee - paid
    pos = await position(mrest)
    assert Decimal(pos["curRealisedPnl"]) == -open_fee - paid
    assert len(await executions(mrest, symbol=BTC, execType="Trade")) == 1


async def test_position_and_wallet_arithmetic(manual_sim: SimExchange, mrest: SignedRest) -> None:
    await set_leverage(mrest, "25")
    _, entry, fee = await open_long(mrest)
    drive_to(manual_sim, BTC, entry + 123)
    pos = await position(mrest)
    mark = Decimal(pos["markPrice"])
    assert mark == book(manual_sim).mark_price
    assert Decimal(pos["positionValue"]) == entry * QTY
    assert Decimal(pos["unrealisedPnl"]) == (mark - entry) * QTY
    assert Decimal(pos["curRealisedPnl"]) == Decimal(pos["cumRealisedPnl"]) == -fee
    break_even = (entry * QTY + fee) / (QTY * (1 - TAKER))
    assert Decimal(pos["breakEvenPrice"]) == break_even.quantize(Decimal("0.01"))
    assert (pos["leverage"], pos["positionIdx"], pos["positionStatus"]) == ("25", 0, "Normal")
    coin = await usdt(mrest)
    assert Decimal(coin["walletBalance"]) == START_BALANCE - fee
    assert Decimal(coin["unrealisedPnl"]) == Decimal(pos["unrealisedPnl"])
    assert Decimal(coin["equity"]) == Decimal(coin["walletBalance"]) + Decimal(coin["unrealisedPnl"])
    assert Decimal(coin["cumRealisedPnl"]) == -fee
    account = ok(await mrest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}))["list"][0]
    assert Decimal(account["totalMarginBalance"]) == Decimal(account["totalWalletBalance"]) + Decimal(
        account["totalPerpUPL"]
    )
    assert Decimal(account["totalAvailableBalance"]) == Decimal(account["totalMarginBalance"]) - Decimal(
        account["totalInitialMargin"]
    )
    assert Decimal(account["totalInitialMargin"]) == Decimal(pos["positionIM"]) > mark * QTY / 25


async def test_order_history_time_window(manual_sim: SimExchange, mrest: SignedRest) -> None:
    filled, _, _ = await open_long(mrest)
    now = manual_sim.clock.now_ms()
    params = {"category": "linear", "symbol": BTC}
    assert [
        o["orderId"] for o in ok(await mrest.get("/v5/order/history", {**params, "startTime": now - 60_000}))["list"]
    ] == [filled]
    assert ok(await mrest.get("/v5/order/history", {**params, "startTime": now + 3_600_000}))["list"] == []
    assert ok(await mrest.get("/v5/order/history", {**params, "endTime": now - 3_600_000}))["list"] == []
    resp = await mrest.get("/v5/order/history", {**params, "startTime": now - 8 * 86_400_000, "endTime": now})
    assert resp["retCode"] == 10001 and "7 days" in resp["retMsg"]


async def test_kline_live_bar_tracks_the_last_price(manual_sim: SimExchange, mrest: SignedRest) -> None:
    params = {"category": "linear", "symbol": BTC, "interval": "1", "limit": 3}
    ok(await mrest.get("/v5/market/kline", params, signed=False))
    target = book(manual_sim).last_price + 250
    drive_to(manual_sim, BTC, target)
    await manual_sim.step(2)
    rows = ok(await mrest.get("/v5/market/kline", params, signed=False))["list"]
    live = [Decimal(v) for v in rows[0][1:]]
    assert live[3] == book(manual_sim).last_price
    assert live[1] >= target, "the live bar's high includes the driven price"
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True)


# -- determinism -----------------------------------------------------------------------------------


async def _scripted_run(seed: int, id_salt: str | None = "fixed") -> dict[str, Any]:
    """Steps and orders applied to a fresh manually stepped exchange; returns what it produced."""
    sim = SimExchange(seed=seed, autostep=False, balance=START_BALANCE, id_salt=id_salt)
    await sim.start()
    rest = client_for(sim)
    try:
        prices = []
        for _ in range(20):
            await sim.step(1)
            prices.append(
                {s: (m.last_price, m.bid1_price, m.ask1_size, m.mark_price) for s, m in sim.engine.markets.items()}
            )
        buy = await place(rest, order("Buy", qty="0.020"))
        await sim.step(5)
        limit_price = sim.engine.markets[BTC].last_price + 50
        limit = await place(rest, order("Sell", "Limit", "0.010", price=str(limit_price)))
        for _ in range(10):
            await sim.step(1)
            prices.append({s: m.last_price for s, m in sim.engine.markets.items()})
        drive_to(sim, BTC, limit_price + 100)
        fills = [(e["orderId"], e["execId"], e["execPrice"], e["execQty"]) for e in await executions(rest, symbol=BTC)]
        return {"prices": prices, "orders": [buy, limit], "fills": fills}
    finally:
        await rest.close()
        await sim.stop()


async def test_same_seed_same_market_ids_and_fills() -> None:
    first, second = await _scripted_run(31), await _scripted_run(31)
    assert first == second
    assert len(first["fills"]) == 2 and len(set(first["orders"])) == 2
    assert {f[0] for f in first["fills"]} == set(first["orders"])
    other = await _scripted_run(32)
    assert other["prices"] != first["prices"]
    assert other["orders"] != first["orders"]


async def test_without_a_fixed_salt_a_restarted_exchange_never_reuses_ids() -> None:
    first, second = await _scripted_run(31, id_salt=None), await _scripted_run(31, id_salt=None)
    assert first["prices"] == second["prices"]
    assert [f[2:] for f in first["fills"]] == [f[2:] for f in second["fills"]]
    assert not {f[1] for f in first["fills"]} & {f[1] for f in second["fills"]}
    assert not set(first["orders"]) & set(second["orders"])
