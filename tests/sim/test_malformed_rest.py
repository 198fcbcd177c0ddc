"""Malformed REST requests, one table row each, answered with Bybit's envelope while a well-behaved client is served."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import yarl

from tests.conftest import SignedRest
from tests.sim.rest_helpers import BTC, assert_error, client_for, get_order, ok, order, px
from tests.sim.served import assert_no_traceback, served_exchange

BIG = 2 * 1024 * 1024


@dataclass(frozen=True)
class RestCase:
    """One malformed request: what is sent, and Bybit's answer (retCode and a retMsg pattern)."""

    id: str
    method: str
    path: str
    payload: str | bytes
    code: int
    message: str
    signed: bool = True
    content_type: str = "application/json"


def _body(**fields: Any) -> str:
    return json.dumps(fields)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


CREATE = "/v5/order/create"
HISTORY = "/v5/order/history"
PARAMS = 10001

CASES = [
    # the body as bytes: too large, not UTF-8, not JSON, not an object
    RestCase(
        "body-of-2-MiB",
        "POST",
        CREATE,
        _body(category="linear", pad="x" * BIG),
        PARAMS,
        r"^params error: request body larger than 1048576 bytes$",
    ),
    RestCase(
        "body-not-utf8",
        "POST",
        CREATE,
        b'{"category":"linear","symbol":"\xff\xfe"}',
        PARAMS,
        r"^params error: request body is not valid UTF-8$",
    ),
    RestCase(
        "body-not-json", "POST", CREATE, '{"category":', PARAMS, r"^params error: request body is not valid JSON$"
    ),
    RestCase("body-json-array", "POST", CREATE, "[]", PARAMS, r"^params error: request body must be a JSON object$"),
    RestCase("body-json-null", "POST", CREATE, "null", PARAMS, r"^params error: request body must be a JSON object$"),
    RestCase(
        "body-number-beyond-double", "POST", CREATE, '{"category":"linear","qty":1e400}', PARAMS, r"not valid JSON"
    ),
    RestCase("body-empty", "POST", CREATE, "", PARAMS, r"^params error: category is required$"),
    RestCase(
        "body-form-encoded",
        "POST",
        CREATE,
        "category=linear&symbol=BTCUSDT",
        PARAMS,
        r"not valid JSON",
        content_type="application/x-www-form-urlencoded",
    ),
    RestCase(
        "body-duplicate-key-last-wins",
        "POST",
        CREATE,
        '{"category":"linear","category":"spot","symbol":"BTCUSDT"}',
        PARAMS,
        r"category spot is not supported",
    ),
    # wrong types, missing and out-of-range parameters
    RestCase(
        "qty-as-json-number",
        "POST",
        CREATE,
        _body(**order(qty=0.001)),
        PARAMS,
        r"^params error: qty invalid type, expect string$",
    ),
    RestCase(
        "reduceOnly-as-string",
        "POST",
        CREATE,
        _body(**order(reduceOnly="true")),
        PARAMS,
        r"reduceOnly invalid type, expect bool",
    ),
    RestCase(
        "positionIdx-huge",
        "POST",
        CREATE,
        _body(**order(positionIdx=10**30)),
        PARAMS,
        r"positionIdx invalid type, expect int",
    ),
    RestCase(
        "symbol-as-list",
        "POST",
        CREATE,
        _body(**order(symbol=["BTCUSDT"])),
        PARAMS,
        r"symbol invalid type, expect string",
    ),
    RestCase(
        "side-missing",
        "POST",
        CREATE,
        _body(category="linear", symbol=BTC, orderType="Market", qty="0.01"),
        PARAMS,
        r"^params error: side is required$",
    ),
    RestCase("side-unknown", "POST", CREATE, _body(**order(side="buy")), PARAMS, r"^params error: side invalid$"),
    RestCase("qty-400-digits", "POST", CREATE, _body(**order(qty="9" * 400)), PARAMS, r"exceeds maximum limit"),
    RestCase(
        "price-50-digits",
        "POST",
        CREATE,
        _body(**order(order_type="Limit", price="1" + "0" * 50)),
        PARAMS,
        r"price out of range",
    ),
    RestCase(
        "leverage-huge",
        "POST",
        "/v5/position/set-leverage",
        _body(category="linear", symbol=BTC, buyLeverage="9" * 40, sellLeverage="9" * 40),
        PARAMS,
        r"leverage must be between",
    ),
    RestCase(
        "cancel-without-ids",
        "POST",
        "/v5/order/cancel",
        _body(category="linear", symbol=BTC),
        PARAMS,
        r"orderId or orderLinkId is required",
    ),
    RestCase(
        "limit-zero",
        "GET",
        "/v5/order/realtime",
        "category=linear&limit=0&symbol=BTCUSDT",
        PARAMS,
        r"limit out of range",
    ),
    RestCase(
        "limit-not-a-number",
        "GET",
        "/v5/execution/list",
        "category=linear&limit=abc",
        PARAMS,
        r"limit invalid type, expect int",
    ),
    RestCase("startTime-negative", "GET", HISTORY, "category=linear&startTime=-1", PARAMS, r"startTime out of range"),
    RestCase(
        "kline-start-negative",
        "GET",
        "/v5/market/kline",
        "category=linear&end=-5&interval=1&symbol=BTCUSDT",
        PARAMS,
        r"end out of range",
    ),
    RestCase(
        "category-escaped-garbage",
        "GET",
        "/v5/market/tickers",
        "category=%ZZ",
        PARAMS,
        r"^Illegal category$",
        signed=False,
    ),
    RestCase(
        "no-signature-headers",
        "GET",
        "/v5/position/list",
        "category=linear&symbol=BTCUSDT",
        10003,
        r"API key is invalid",
        signed=False,
    ),
    # bad symbols: malformed text anywhere, and a contract the exchange does not list on the history endpoints
    RestCase(
        "symbol-%ZZ-order-history",
        "GET",
        HISTORY,
        "category=linear&symbol=%ZZ",
        PARAMS,
        r"^params error: symbol invalid$",
    ),
    RestCase(
        "symbol-%ZZ-execution-list",
        "GET",
        "/v5/execution/list",
        "category=linear&symbol=%ZZ",
        PARAMS,
        r"^params error: symbol invalid$",
    ),
    RestCase(
        "symbol-%ZZ-closed-pnl",
        "GET",
        "/v5/position/closed-pnl",
        "category=linear&symbol=%ZZ",
        PARAMS,
        r"^params error: symbol invalid$",
    ),
    RestCase(
        "symbol-%ZZ-instruments",
        "GET",
        "/v5/market/instruments-info",
        "category=linear&symbol=%ZZ",
        PARAMS,
        r"^params error: symbol invalid$",
        signed=False,
    ),
    RestCase(
        "symbol-unlisted-order-history",
        "GET",
        HISTORY,
        "category=linear&symbol=FOOUSDT",
        PARAMS,
        r"^params error: symbol invalid$",
    ),
    RestCase(
        "symbol-lower-case", "POST", CREATE, _body(**order(symbol="btcusdt")), PARAMS, r"^params error: symbol invalid$"
    ),
    RestCase(
        "symbol-trailing-space",
        "GET",
        "/v5/market/orderbook",
        "category=linear&symbol=BTCUSDT%20",
        PARAMS,
        r"^params error: symbol invalid$",
        signed=False,
    ),
    # forged cursors: only a cursor the exchange issued is read
    RestCase(
        "cursor-negative-offset",
        "GET",
        HISTORY,
        f"category=linear&cursor={_cursor('offset=-1')}",
        PARAMS,
        r"^params error: cursor invalid$",
    ),
    RestCase(
        "cursor-padded-offset",
        "GET",
        HISTORY,
        f"category=linear&cursor={_cursor('offset= 1')}",
        PARAMS,
        r"^params error: cursor invalid$",
    ),
    RestCase(
        "cursor-underscored-offset",
        "GET",
        "/v5/execution/list",
        f"category=linear&cursor={_cursor('offset=1_0')}",
        PARAMS,
        r"^params error: cursor invalid$",
    ),
    RestCase(
        "cursor-not-base64",
        "GET",
        "/v5/position/closed-pnl",
        "category=linear&cursor=%ZZ",
        PARAMS,
        r"^params error: cursor invalid$",
    ),
    RestCase(
        "cursor-other-text",
        "GET",
        "/v5/market/instruments-info",
        f"category=linear&cursor={_cursor('page=2')}",
        PARAMS,
        r"^params error: cursor invalid$",
        signed=False,
    ),
]


async def send(rest: SignedRest, case: RestCase) -> tuple[int, dict[str, Any]]:
    """Send the case's request exactly as written (query unencoded, body bytes as given); (HTTP status, JSON)."""
    signed_text = case.payload.decode("latin-1") if isinstance(case.payload, bytes) else case.payload
    headers = rest.sign_headers(signed_text) if case.signed else {}
    headers["Content-Type"] = case.content_type
    if case.method == "GET":
        url = yarl.URL(f"{rest.base}{case.path}?{case.payload}", encoded=True)
        async with rest.session.get(url, headers=headers) as resp:
            return resp.status, await resp.json()
    body = case.payload if isinstance(case.payload, bytes) else case.payload.encode()
    async with rest.session.post(f"{rest.base}{case.path}", data=body, headers=headers) as resp:
        return resp.status, await resp.json()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_malformed_request_gets_bybits_error(case: RestCase, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good):
        rest = client_for(sim)
        status, reply = await send(rest, case)
        assert status == 200, reply
        assert_error(reply, case.code, case.message)
        ok(await rest.get("/v5/position/list", {"category": "linear", "symbol": BTC}))  # the same client goes on
        await rest.close()
        assert not sim.engine.accounts[sim.api_key].orders, "a malformed request left an order behind"
        await good.assert_served()
    assert_no_traceback(caplog)


async def test_a_rejected_amend_leaves_the_order_as_it_was(caplog: pytest.LogCaptureFixture) -> None:
    """A take-profit beyond the price band is refused before anything changes; the order still amends and cancels."""
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good):
        rest = client_for(sim)
        price = px(sim.engine.markets[BTC].last_price * Decimal("0.9"))
        order_id = ok(await rest.post(CREATE, order("Buy", "Limit", "0.001", price=price)))["orderId"]
        before = await get_order(rest, order_id)
        amend = {"category": "linear", "symbol": BTC, "orderId": order_id}
        assert_error(
            await rest.post("/v5/order/amend", {**amend, "takeProfit": "9" * 30}), PARAMS, r"takeProfit out of range"
        )
        assert await get_order(rest, order_id) == before
        ok(await rest.post("/v5/order/amend", {**amend, "qty": "0.002"}))
        ok(await rest.post("/v5/order/cancel", amend))
        await rest.close()
        await good.assert_served()
    assert_no_traceback(caplog)


async def test_a_malformed_http_request_line_is_answered_400_and_logged_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A request line aiohttp cannot parse gets HTTP 400 and one warning line, never a traceback."""
    caplog.set_level(logging.WARNING)
    async with served_exchange() as (sim, good):
        reader, writer = await asyncio.open_connection(sim.host, sim.port)
        writer.write(b"GET /v5/market/time?x= 1 HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        assert status_line.split()[1] == b"400", status_line
        await good.assert_served()
    assert_no_traceback(caplog)
    lines = [r.getMessage() for r in caplog.records if r.name == "tui_bot.sim.http"]
    assert lines == [
        "Error handling request from 127.0.0.1: HTTP 400 Bad status line: Expected HTTP/, RTSP/ or ICE/: "
        "b'GET /v5/market/time?x= 1 HTTP/1.1' ^"
    ], lines
