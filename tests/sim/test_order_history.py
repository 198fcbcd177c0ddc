"""Order history by id: the final state of Filled, Cancelled and Deactivated (TP/SL sibling) orders, as Bybit has it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import BTC, client_for, drive_to, ok, order, place, px, stop_orders
from tui_bot.sim.server import SimExchange

SEVEN_DAYS_MS = 7 * 86_400_000


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    client = client_for(manual_sim)
    yield client
    await client.close()


async def by_id(
    rest: SignedRest, order_id: str, *, clock: SimExchange | None = None, **window: int
) -> list[dict[str, Any]]:
    """/v5/order/history for one orderId (optionally in a startTime/endTime window), checked against the golden frame;
    signed at the exchange's clock when one is given (a skewed clock rejects local timestamps)."""
    params = {"category": "linear", "symbol": BTC, "orderId": order_id, **window}
    sign = {"timestamp": clock.clock.now_ms()} if clock is not None else {}
    resp = await rest.get("/v5/order/history", params, **sign)
    assert_matches_golden(resp, "rest_order_realtime")
    return ok(resp)["list"]


async def test_history_by_id_gives_the_final_state_of_filled_cancelled_and_deactivated_orders(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    last = manual_sim.engine.markets[BTC].last_price
    entry = await place(mrest, order("Buy", takeProfit=px(last * Decimal("1.02")), stopLoss=px(last * Decimal("0.98"))))
    legs = {o["stopOrderType"]: o["orderId"] for o in await stop_orders(mrest)}
    resting = await place(mrest, order("Buy", "Limit", "0.001", price=px(last * Decimal("0.9"))))
    ok(await mrest.post("/v5/order/cancel", {"category": "linear", "symbol": BTC, "orderId": resting}))
    drive_to(manual_sim, BTC, last * Decimal("1.03"))  # the TP fires, the SL is cleared with the position

    [filled] = await by_id(mrest, entry)
    assert (filled["orderStatus"], Decimal(filled["cumExecQty"])) == ("Filled", Decimal("0.010"))
    assert Decimal(filled["avgPrice"]) > 0
    [cancelled] = await by_id(mrest, resting)
    assert (cancelled["orderStatus"], cancelled["cancelType"], Decimal(cancelled["cumExecQty"])) == (
        "Cancelled",
        "CancelByUser",
        0,
    )
    assert cancelled["avgPrice"] == ""
    [take_profit] = await by_id(mrest, legs["TakeProfit"])
    assert (take_profit["orderStatus"], take_profit["createType"], Decimal(take_profit["cumExecQty"])) == (
        "Filled",
        "CreateByTakeProfit",
        Decimal("0.010"),
    )
    [sibling] = await by_id(mrest, legs["StopLoss"])
    assert (sibling["orderStatus"], sibling["cancelType"], sibling["stopOrderType"]) == (
        "Deactivated",
        "CancelByTpSlTsClear",
        "StopLoss",
    )
    assert (Decimal(sibling["cumExecQty"]), sibling["avgPrice"]) == (0, "")


async def test_history_by_id_finds_an_order_older_than_seven_days_inside_its_own_window(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    entry = await place(mrest, order("Buy"))
    created = int((await by_id(mrest, entry))[0]["createdTime"])
    manual_sim.clock.skew_ms = SEVEN_DAYS_MS + 60_000  # eight days on
    assert await by_id(mrest, entry, clock=manual_sim) == [], "by default history covers the last seven days only"
    window = {"startTime": created, "endTime": created + SEVEN_DAYS_MS}
    [row] = await by_id(mrest, entry, clock=manual_sim, **window)
    assert (row["orderId"], row["orderStatus"]) == (entry, "Filled")
