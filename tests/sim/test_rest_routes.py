"""Categories the sim lists nothing in answer empty; unknown categories, paths and methods answer Bybit JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden, load_fixture
from tests.sim.rest_helpers import BTC, assert_error, client_for, ok, order
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


OTHER_CATEGORIES: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("/v5/market/instruments-info", {"category": "spot"}, "rest_instruments_info_spot", None),
    ("/v5/market/instruments-info", {"category": "inverse"}, "rest_instruments_info", None),
    ("/v5/market/instruments-info", {"category": "option"}, "rest_instruments_info", None),
    ("/v5/market/tickers", {"category": "spot"}, "rest_tickers", None),
    ("/v5/market/tickers", {"category": "option", "baseCoin": "BTC"}, "rest_tickers", None),
    ("/v5/market/kline", {"category": "spot", "symbol": BTC, "interval": "1"}, "rest_kline", None),
    ("/v5/market/kline", {"category": "inverse", "symbol": "BTCUSD", "interval": "D"}, "rest_kline", None),
    ("/v5/order/realtime", {"category": "spot"}, "rest_order_realtime", "signed"),
    ("/v5/order/realtime", {"category": "option", "baseCoin": "BTC"}, "rest_order_realtime", "signed"),
    ("/v5/order/history", {"category": "inverse"}, "rest_order_realtime", "signed"),
    ("/v5/execution/list", {"category": "spot"}, "rest_execution_list", "signed"),
    ("/v5/position/list", {"category": "inverse"}, "rest_position_list", "signed"),
    ("/v5/position/list", {"category": "option"}, "rest_position_list", "signed"),
    ("/v5/position/closed-pnl", {"category": "inverse"}, "rest_closed_pnl", "signed"),
    ("/v5/account/fee-rate", {"category": "spot", "symbol": BTC}, "rest_fee_rate", "signed"),
]


async def test_other_categories_are_empty_not_errors(mrest: SignedRest) -> None:
    ok(await mrest.post("/v5/order/create", order("Buy", qty="0.010")))
    for path, params, fixture, signed in OTHER_CATEGORIES:
        resp = await mrest.get(path, params, signed=signed is not None)
        result = golden(resp, fixture)
        assert result["list"] == [], (path, params, result)
        if fixture != "rest_fee_rate":
            assert result["category"] == params["category"], (path, params, result)
    linear = ok(await mrest.get("/v5/position/list", {"category": "linear", "symbol": BTC}))["list"]
    assert linear[0]["side"] == "Buy"


async def test_unknown_category_is_bybits_illegal_category(mrest: SignedRest) -> None:
    for path in ("/v5/market/instruments-info", "/v5/market/tickers"):
        assert_error(await mrest.get(path, {"category": "perp"}, signed=False), 10001, r"^Illegal category$")
    for path in ("/v5/order/realtime", "/v5/execution/list", "/v5/position/list", "/v5/position/closed-pnl"):
        assert_error(await mrest.get(path, {"category": "usdt", "symbol": BTC}), 10001, r"^Illegal category$")
    assert_error(await mrest.post("/v5/order/create", order(category="swap")), 10001, r"^Illegal category$")
    assert_error(await mrest.post("/v5/order/create", order(category="spot")), 10001, r"only linear")


async def raw(rest: SignedRest, method: str, path: str) -> tuple[int, str, dict[str, Any]]:
    """Status, content type and JSON body of an unsigned request."""
    async with rest.session.request(method, f"{rest.base}{path}") as http:
        return http.status, http.content_type, await http.json()


async def test_unknown_path_and_wrong_method_answer_bybit_json(mrest: SignedRest) -> None:
    for path in ("/v5/market/nothing", "/v5/account/borrow-history", "/", "/v3/public/time"):
        status, kind, body = await raw(mrest, "GET", path)
        assert (status, kind) == (404, "application/json")
        assert body == {**load_fixture("rest_route_not_found"), "time": body["time"]}
    for method, path, allowed in (
        ("POST", "/v5/market/time", "GET"),
        ("GET", "/v5/order/create", "POST"),
        ("DELETE", "/v5/position/list", "GET"),
        ("PUT", "/v5/position/trading-stop", "POST"),
    ):
        status, kind, body = await raw(mrest, method, path)
        assert (status, kind) == (400, "application/json")
        assert_error(body, 10017, rf"^Route not found\. Send {path} with {allowed}\.$")
    ok(await mrest.get("/v5/market/time", signed=False))
