"""The corrupt-rest fault: one row of the next responses of a REST list gets a garbage field, then the list is clean."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import SignedRest
from tests.sim.ws_helpers import admin_post, market_order, urls
from tui_bot.cli import main as cli_main
from tui_bot.sim.server import SimExchange

POSITIONS = {"category": "linear", "settleCoin": "USDT"}


async def test_corrupt_rest_mangles_the_first_row_of_the_next_non_empty_responses(
    sim: SimExchange, rest: SignedRest
) -> None:
    status, text = await admin_post(sim, "/faults/corrupt-rest", {"path": "/v5/position/list", "count": 2})
    assert status == 200, text
    assert (await rest.get("/v5/position/list", POSITIONS))["result"]["list"] == [], "an empty list leaves it armed"
    for symbol, qty in (("BTCUSDT", "0.010"), ("ETHUSDT", "0.10")):
        assert (await rest.post("/v5/order/create", market_order(symbol=symbol, qty=qty)))["retCode"] == 0
    seen = []
    for _ in range(3):
        reply = await rest.get("/v5/position/list", POSITIONS)
        assert reply["retCode"] == 0
        seen.append([row["avgPrice"] == "abc" for row in reply["result"]["list"]])
    assert seen == [[True, False], [True, False], [False, False]]
    assert sim.faults.corrupt_rest == {}


async def test_corrupt_rest_takes_another_field_and_the_cli_arms_it(
    sim: SimExchange, rest: SignedRest, capsys: pytest.CaptureFixture[str]
) -> None:
    wallet = {"accountType": "UNIFIED"}
    status, text = await admin_post(
        sim, "/faults/corrupt-rest", {"path": "/v5/account/wallet-balance", "field": "totalAvailableBalance"}
    )
    assert status == 200, text
    row = (await rest.get("/v5/account/wallet-balance", wallet))["result"]["list"][0]
    assert row["totalAvailableBalance"] == "abc" and row["totalEquity"] != "abc"
    admin = urls(sim).admin
    assert (
        await asyncio.to_thread(
            cli_main, ["fault", "corrupt-rest", "path=/v5/execution/list", "count=3", "--admin", admin]
        )
        == 0
    )
    assert sim.faults.corrupt_rest == {"/v5/execution/list": ("execPrice", 3)}
    assert await asyncio.to_thread(cli_main, ["fault", "clear", "--admin", admin]) == 0
    assert sim.faults.corrupt_rest == {}
    capsys.readouterr()


async def test_corrupt_rest_refuses_a_path_it_cannot_corrupt(sim: SimExchange) -> None:
    status, text = await admin_post(sim, "/faults/corrupt-rest", {"path": "/v5/order/create"})
    assert status == 400 and "path: must be one of /v5/position/list" in text
    status, text = await admin_post(sim, "/faults/corrupt-rest", {"path": "/v5/position/list", "feild": "x"})
    assert status == 400 and "feild" in text
    assert sim.faults.corrupt_rest == {}
