"""GET /v5/market/recent-trade: the exchange's own tape, newest first, as the publicTrade stream printed it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import assert_error, client_for, ok
from tui_bot.domain.enums import Side
from tui_bot.sim.market import TAPE_KEPT
from tui_bot.sim.server import SimExchange

BTC = "BTCUSDT"


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    client = client_for(manual_sim)
    yield client
    await client.close()


async def recent(rest: SignedRest, **params: Any) -> dict[str, Any]:
    return await rest.get("/v5/market/recent-trade", {"category": "linear", "symbol": BTC, **params}, signed=False)


async def test_recent_trades_are_the_tapes_newest_first_in_bybits_shape(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    market = manual_sim.engine.markets[BTC]
    now = manual_sim.clock.now_ms()
    market.print_trade(Side.SELL, market.bid1_price, Decimal("0.250"), now)
    market.print_trade(Side.BUY, market.ask1_price, Decimal("0.013"), now + 1)
    reply = await recent(mrest, limit=2)
    assert_matches_golden(reply, "rest_recent_trade")
    newest, older = ok(reply)["list"]
    assert (newest["side"], Decimal(newest["price"]), newest["size"], newest["time"]) == (
        "Buy",
        market.ask1_price,
        "0.013",
        str(now + 1),
    )
    assert (older["side"], Decimal(older["price"]), older["size"]) == ("Sell", market.bid1_price, "0.250")
    assert newest["execId"] == market.tape[-1].trade_id and older["execId"] == market.tape[-2].trade_id
    assert ok(reply)["category"] == "linear" and list(newest) == [
        "execId",
        "symbol",
        "price",
        "size",
        "side",
        "time",
        "isBlockTrade",
        "isRPITrade",
    ]


async def test_the_default_is_500_the_most_1000_and_the_tape_keeps_no_more(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    market = manual_sim.engine.markets[BTC]
    now = manual_sim.clock.now_ms()
    for i in range(TAPE_KEPT + 50):
        market.print_trade(Side.BUY, market.ask1_price, Decimal("0.001"), now + i)
    assert len(ok(await recent(mrest))["list"]) == 500
    whole = ok(await recent(mrest, limit=1000))["list"]
    assert len(whole) == TAPE_KEPT == len(market.tape)
    assert [int(t["time"]) for t in whole] == sorted((int(t["time"]) for t in whole), reverse=True)


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"symbol": "NOPEUSDT"}, "symbol invalid"),
        ({"limit": 0}, "limit out of range"),
        ({"limit": 1001}, "limit out of range"),
        ({"limit": "many"}, "limit invalid type"),
    ],
)
async def test_bad_parameters_are_refused(mrest: SignedRest, params: dict[str, Any], pattern: str) -> None:
    assert_error(await recent(mrest, **params), 10001, pattern)


async def test_other_categories_list_nothing(mrest: SignedRest) -> None:
    assert ok(await recent(mrest, category="spot")) == {"category": "spot", "list": []}
