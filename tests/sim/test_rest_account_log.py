"""The transaction log over signed loopback REST: one row per fill and funding, balances that chain, Bybit's paging."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import (
    BTC,
    ETH,
    START_BALANCE,
    assert_error,
    client_for,
    drive_to,
    executions,
    ok,
    order,
    usdt,
)
from tui_bot.sim.server import SimExchange
from tui_bot.sim.stepper import settle_funding

LOG = "/v5/account/transaction-log"
DAY_MS = 86_400_000


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    """A signed client on the manually stepped exchange."""
    client = client_for(manual_sim)
    yield client
    await client.close()


async def log_rows(rest: SignedRest, **params: Any) -> list[dict[str, Any]]:
    """Every log row the query matches, following nextPageCursor to the end."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        resp = await rest.get(LOG, {"accountType": "UNIFIED", **params, **({"cursor": cursor} if cursor else {})})
        assert_matches_golden(resp, "rest_transaction_log")
        result = ok(resp)
        rows += result["list"]
        cursor = result["nextPageCursor"]
        if not cursor:
            return rows


async def trade_short_fund_and_close(rest: SignedRest, sim: SimExchange) -> None:
    """Sell 0.010 BTC, settle funding, move the market, buy back 0.004 then 0.006, and buy 0.1 ETH."""
    ok(await rest.post("/v5/order/create", order("Sell", qty="0.010", orderLinkId="log-open")))
    settle_funding(sim.engine)
    drive_to(sim, BTC, sim.engine.markets[BTC].last_price - 300)
    ok(await rest.post("/v5/order/create", order("Buy", qty="0.004", reduceOnly=True, orderLinkId="log-part")))
    ok(await rest.post("/v5/order/create", order("Buy", qty="0.006", reduceOnly=True, orderLinkId="log-rest")))
    ok(await rest.post("/v5/order/create", order("Buy", qty="0.10", symbol=ETH, orderLinkId="log-eth")))


async def test_rows_follow_fills_and_funding(mrest: SignedRest, manual_sim: SimExchange) -> None:
    await trade_short_fund_and_close(mrest, manual_sim)
    rows = await log_rows(mrest, category="linear", currency="USDT")
    assert [(r["type"], r["symbol"], r["side"], r["size"]) for r in rows] == [
        ("TRADE", ETH, "Buy", "0.10"),
        ("TRADE", BTC, "Buy", "0"),
        ("TRADE", BTC, "Buy", "-0.006"),
        ("SETTLEMENT", BTC, "Sell", "-0.010"),
        ("TRADE", BTC, "Sell", "-0.010"),
    ]
    balance = START_BALANCE
    for row in reversed(rows):
        funding = Decimal(row["funding"] or 0)
        change = Decimal(row["cashFlow"]) + funding - Decimal(row["fee"])
        assert Decimal(row["change"]) == change
        balance += change
        assert Decimal(row["cashBalance"]) == balance
    assert balance == Decimal((await usdt(mrest))["walletBalance"])

    fills = {e["execId"]: e for e in await executions(mrest, symbol=BTC)}
    for row in rows:
        fill = fills.get(row["tradeId"]) if row["symbol"] == BTC else None
        if fill is not None and row["type"] == "TRADE":
            assert (row["orderId"], row["orderLinkId"], row["qty"]) == (
                fill["orderId"],
                fill["orderLinkId"],
                fill["execQty"],
            )
            assert (Decimal(row["fee"]), row["feeRate"], row["tradePrice"]) == (
                Decimal(fill["execFee"]),
                fill["feeRate"],
                fill["execPrice"],
            )
    funding = rows[3]
    paid = fills[funding["tradeId"]]
    assert paid["execType"] == "Funding" and Decimal(funding["funding"]) == -Decimal(paid["execFee"])
    assert Decimal(funding["feeRate"]) == -Decimal(paid["feeRate"]) and funding["fee"] == "0.00000000"
    [pnl_part, pnl_rest] = sorted(
        ok(await mrest.get("/v5/position/closed-pnl", {"category": "linear", "symbol": BTC}))["list"],
        key=lambda c: Decimal(c["closedSize"]),
    )
    for row, record in ((rows[2], pnl_part), (rows[1], pnl_rest)):
        gross = Decimal(record["closedPnl"]) + Decimal(record["openFee"]) + Decimal(record["closeFee"])
        assert Decimal(row["cashFlow"]) == gross > 0
    assert rows[4]["cashFlow"] == "0" and rows[0]["cashFlow"] == "0"


async def test_filters_and_paging(mrest: SignedRest, manual_sim: SimExchange) -> None:
    await trade_short_fund_and_close(mrest, manual_sim)
    every = await log_rows(mrest)
    assert len(every) == 5 and every == await log_rows(mrest, limit=1) == await log_rows(mrest, limit=2)
    first = ok(await mrest.get(LOG, {"limit": 2}))
    assert len(first["list"]) == 2 and first["nextPageCursor"]
    assert [r["type"] for r in await log_rows(mrest, type="SETTLEMENT")] == ["SETTLEMENT"]
    assert {r["symbol"] for r in await log_rows(mrest, baseCoin="ETH")} == {ETH}
    for params in (
        {"category": "spot"},
        {"category": "inverse"},
        {"currency": "USDC"},
        {"transSubType": "movePosition"},
    ):
        assert await log_rows(mrest, **params) == []
    for params, pattern in (
        ({"category": "futures"}, r"^Illegal category$"),
        ({"accountType": "CONTRACT"}, r"UNIFIED"),
        ({"limit": 51}, r"limit"),
        ({"limit": 0}, r"limit"),
        ({"cursor": "nope"}, r"cursor"),
        ({"startTime": 1, "endTime": 7 * DAY_MS + 2}, r"7 days"),
    ):
        assert_error(await mrest.get(LOG, params), 10001, pattern)


async def test_window_defaults_to_24_hours(mrest: SignedRest, manual_sim: SimExchange) -> None:
    ok(await mrest.post("/v5/order/create", order("Buy", qty="0.001")))
    [row] = await log_rows(mrest)
    traded = int(row["transactionTime"])
    manual_sim.clock.skew_ms = DAY_MS + 60_000
    now = manual_sim.clock.now_ms()
    later = ok(await mrest.get(LOG, {"accountType": "UNIFIED"}, timestamp=now))
    assert later["list"] == []
    since = ok(await mrest.get(LOG, {"startTime": traded - 1}, timestamp=now))["list"]
    assert [r["transactionTime"] for r in since] == [str(traded)]
    until = ok(await mrest.get(LOG, {"endTime": traded + DAY_MS}, timestamp=now))["list"]
    assert [r["id"] for r in until] == [row["id"]]
    week = ok(await mrest.get(LOG, {"startTime": traded - 5 * DAY_MS, "endTime": now}, timestamp=now))["list"]
    assert [r["id"] for r in week] == [row["id"]]
    before = ok(await mrest.get(LOG, {"endTime": traded - 1}, timestamp=now))["list"]
    assert before == []
