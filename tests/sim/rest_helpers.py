"""Shared helpers for the REST-side sim tests: clients, order bodies, envelope checks, price driving."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tui_bot.sim.server import SimExchange

BTC = "BTCUSDT"
ETH = "ETHUSDT"
SOL = "SOLUSDT"
BTC_TICK = Decimal("0.10")
TAKER = Decimal("0.00055")
MAKER = Decimal("0.0002")
START_BALANCE = Decimal("10000")


def client_for(sim: SimExchange) -> SignedRest:
    """A signed raw REST client for the exchange's built-in account."""
    assert sim.urls is not None
    return SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)


def extra_client(sim: SimExchange, api_key: str, balance: Decimal = START_BALANCE) -> SignedRest:
    """A second account (own key, own rate-limit budget) and a client signed for it."""
    assert sim.urls is not None
    secret = f"{api_key}-SECRET"
    sim.engine.add_account(api_key, secret, balance)
    return SignedRest(sim.urls.rest, api_key, secret)


def ok(resp: dict[str, Any]) -> dict[str, Any]:
    """Assert a success envelope and return its result."""
    assert resp["retCode"] == 0, resp
    assert resp["retMsg"] == "OK", resp
    assert isinstance(resp["time"], int)
    return resp["result"]


def assert_error(resp: dict[str, Any], code: int, pattern: str) -> None:
    """Assert an error envelope: the code, a retMsg matching pattern, result {} and the golden keys."""
    assert resp["retCode"] == code, resp
    assert re.search(pattern, resp["retMsg"], re.IGNORECASE), f"retMsg {resp['retMsg']!r} !~ {pattern!r}"
    assert resp["result"] == {}, resp
    assert resp["retExtInfo"] == {}, resp
    assert_matches_golden(resp, "rest_envelope_error")


def order(
    side: str = "Buy", order_type: str = "Market", qty: str = "0.010", *, symbol: str = BTC, **extra: Any
) -> dict[str, Any]:
    """An order/create body for a linear contract."""
    return {"category": "linear", "symbol": symbol, "side": side, "orderType": order_type, "qty": qty, **extra}


def on_tick(value: Decimal, tick: Decimal = BTC_TICK) -> Decimal:
    """Round value down to the tick grid."""
    return (value / tick).to_integral_value() * tick


def px(value: Decimal, tick: Decimal = BTC_TICK) -> str:
    """A price string on the tick grid."""
    return str(on_tick(value, tick).quantize(tick))


def drive_to(sim: SimExchange, symbol: str, price: Decimal | str) -> Decimal:
    """Move the market to price and run one exchange step (fills, triggers); returns the new last price."""
    market = sim.engine.markets[symbol]
    market.set_price(Decimal(price), sim.clock.now_ms())
    sim.step_once()
    return market.last_price


async def place(rest: SignedRest, body: dict[str, Any]) -> str:
    """Create an order that must be accepted; returns its orderId."""
    result = ok(await rest.post("/v5/order/create", body))
    assert result["orderLinkId"] == body.get("orderLinkId", "")
    return result["orderId"]


async def get_order(rest: SignedRest, order_id: str = "", link_id: str = "", symbol: str = BTC) -> dict[str, Any]:
    """The one order named by orderId or orderLinkId, read through /v5/order/realtime."""
    params = {"category": "linear", "symbol": symbol}
    params.update({"orderId": order_id} if order_id else {"orderLinkId": link_id})
    rows = ok(await rest.get("/v5/order/realtime", params))["list"]
    assert len(rows) == 1, rows
    return rows[0]


async def stop_orders(rest: SignedRest, symbol: str = BTC) -> list[dict[str, Any]]:
    """Open conditional orders (TP/SL, trailing, plain conditionals) of a symbol."""
    params = {"category": "linear", "symbol": symbol, "orderFilter": "StopOrder"}
    return ok(await rest.get("/v5/order/realtime", params))["list"]


async def executions(rest: SignedRest, **params: Any) -> list[dict[str, Any]]:
    """Execution rows (newest first) matching params."""
    return ok(await rest.get("/v5/execution/list", {"category": "linear", **params}))["list"]


async def position(rest: SignedRest, symbol: str = BTC) -> dict[str, Any]:
    """The position row of one symbol (a row is returned even when flat)."""
    rows = ok(await rest.get("/v5/position/list", {"category": "linear", "symbol": symbol}))["list"]
    assert len(rows) == 1, rows
    return rows[0]


async def usdt(rest: SignedRest) -> dict[str, Any]:
    """The USDT coin row of the unified wallet."""
    result = ok(await rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"}))
    coins = {c["coin"]: c for c in result["list"][0]["coin"]}
    return coins["USDT"]


async def set_leverage(rest: SignedRest, leverage: str, symbol: str = BTC) -> None:
    """Set one-way leverage (must change the value)."""
    body = {"category": "linear", "symbol": symbol, "buyLeverage": leverage, "sellLeverage": leverage}
    ok(await rest.post("/v5/position/set-leverage", body))


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Poll predicate every 10 ms until it holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.01)
