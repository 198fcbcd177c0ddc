"""What common clients ask on start: account info, API key info, coin info (signed loopback REST)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import assert_error, client_for, extra_client, ok
from tui_bot.sim.server import SimExchange


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    """A signed client on the manually stepped exchange."""
    client = client_for(manual_sim)
    yield client
    await client.close()


def golden(resp: dict[str, Any], fixture: str) -> dict[str, Any]:
    """Assert success and the fixture's shape; return the result."""
    result = ok(resp)
    assert_matches_golden(resp, fixture)
    return result


async def test_account_info(mrest: SignedRest, manual_sim: SimExchange) -> None:
    info = golden(await mrest.get("/v5/account/info"), "rest_account_info")
    assert (info["unifiedMarginStatus"], info["marginMode"]) == (6, "REGULAR_MARGIN")
    account = manual_sim.engine.accounts[mrest.api_key]
    assert info["updatedTime"] == str(account.created_time)


async def test_api_key_info_is_the_callers_own_key(mrest: SignedRest, manual_sim: SimExchange) -> None:
    mine = golden(await mrest.get("/v5/user/query-api"), "rest_api_key_info")
    assert mine["apiKey"] == mrest.api_key and mine["secret"] == ""
    assert mine["readOnly"] == 0 and mine["ips"] == ["*"] and (mine["uta"], mine["isMaster"]) == (1, True)
    assert mine["permissions"]["ContractTrade"] == ["Order", "Position"]
    assert "Withdraw" not in mine["permissions"]["Wallet"]
    assert mine["deadlineDay"] == 90
    other = extra_client(manual_sim, "SECONDKEY0000001")
    try:
        theirs = golden(await other.get("/v5/user/query-api"), "rest_api_key_info")
    finally:
        await other.close()
    assert theirs["apiKey"] == "SECONDKEY0000001" and theirs["userID"] != mine["userID"]
    assert mrest.api_secret not in str(mine) and other.api_secret not in str(theirs)


async def test_coin_info(mrest: SignedRest) -> None:
    every = golden(await mrest.get("/v5/asset/coin/query-info"), "rest_coin_info")
    assert [row["coin"] for row in every["rows"]] == ["USDT"]
    assert {c["chainType"] for c in every["rows"][0]["chains"]} == {"ERC20", "TRC20"}
    assert golden(await mrest.get("/v5/asset/coin/query-info", {"coin": "USDT"}), "rest_coin_info") == every
    assert golden(await mrest.get("/v5/asset/coin/query-info", {"coin": "BTC"}), "rest_coin_info")["rows"] == []


async def test_new_private_routes_need_a_signature(mrest: SignedRest) -> None:
    for path in ("/v5/account/transaction-log", "/v5/account/info", "/v5/user/query-api", "/v5/asset/coin/query-info"):
        assert_error(await mrest.get(path, secret="wrong"), 10004, r"^Error sign, .*origin_string\[\*\*\*\]$")
        assert_error(await mrest.get(path, api_key="NOBODY000000000001"), 10003, r"api key is invalid")
