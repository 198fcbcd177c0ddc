"""REST v5 routes: Bybit's envelope, signed private endpoints, rate-limit headers and faults."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from tui_bot.domain.enums import OrderStatus
from tui_bot.sim import (
    order_amend,
    order_entry,
    orderbook,
    position_ops,
    queries,
    queries_user,
    recent_trades,
    wire,
)
from tui_bot.sim.account import Account
from tui_bot.sim.auth import verify_rest
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError
from tui_bot.sim.faults import REST_FAULT_MESSAGES, Faults
from tui_bot.sim.ratelimit import RateLimiter

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1 << 20  # aiohttp stops reading a body past this (client_max_size)
_LOSABLE = frozenset({"/v5/order/create", "/v5/order/amend"})  # replies the lost_replies fault may drop
HTTP_TOO_MANY = 429
"""A rest_errors fault of 429 answers HTTP 429 (Bybit: system overload, retry) instead of a retCode."""

PublicHandler = Callable[[ExchangeEngine, dict[str, Any]], dict[str, Any]]
PrivateHandler = Callable[[ExchangeEngine, Account, dict[str, Any]], dict[str, Any]]

PUBLIC_GET: dict[str, PublicHandler] = {
    "/v5/market/time": queries.server_time,
    "/v5/market/instruments-info": queries.instruments_info,
    "/v5/market/tickers": queries.tickers,
    "/v5/market/kline": queries.kline,
    "/v5/market/orderbook": orderbook.orderbook,
    "/v5/market/recent-trade": recent_trades.recent_trade,
}
PRIVATE_GET: dict[str, PrivateHandler] = {
    "/v5/order/realtime": queries.open_orders,
    "/v5/order/history": queries.order_history,
    "/v5/execution/list": queries.executions,
    "/v5/position/list": queries.positions,
    "/v5/position/closed-pnl": queries.closed_pnl,
    "/v5/account/wallet-balance": queries.wallet_balance,
    "/v5/account/fee-rate": queries.fee_rate,
    "/v5/account/transaction-log": queries_user.transaction_log,
    "/v5/account/info": queries_user.account_info,
    "/v5/user/query-api": queries_user.api_key_info,
    "/v5/asset/coin/query-info": queries_user.coin_info,
}
PRIVATE_POST: dict[str, PrivateHandler] = {
    "/v5/order/create": order_entry.create_order,
    "/v5/order/amend": order_amend.amend_order,
    "/v5/order/cancel": order_entry.cancel_order,
    "/v5/order/cancel-all": order_entry.cancel_all,
    "/v5/position/set-leverage": position_ops.set_leverage,
    "/v5/position/trading-stop": position_ops.trading_stop,
}


class RestApi:
    """Turns HTTP requests into engine calls and engine results into Bybit responses."""

    def __init__(self, engine: ExchangeEngine, faults: Faults, limiter: RateLimiter) -> None:
        self.engine = engine
        self.faults = faults
        self.limiter = limiter

    def routes(self) -> list[web.RouteDef]:
        defs = [web.get(path, self.handle) for path in (*PUBLIC_GET, *PRIVATE_GET)]
        defs += [web.post(path, self.handle) for path in PRIVATE_POST]
        return defs

    def _respond(
        self,
        result: dict[str, Any],
        code: int = 0,
        msg: str = "OK",
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> web.Response:
        body = wire.rest_envelope(
            result if code == 0 else {}, time_ms=self.engine.clock.now_ms(), ret_code=code, ret_msg=msg
        )
        return web.Response(body=orjson.dumps(body), content_type="application/json", headers=headers, status=status)

    @web.middleware
    async def route_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """An unserved path (HTTP 404) or method (HTTP 400) answers Bybit's envelope with 10017, not aiohttp's text."""
        try:
            return await handler(request)
        except web.HTTPMethodNotAllowed as err:
            allowed = " or ".join(sorted(err.allowed_methods - {"HEAD"}))
            return self._respond(
                {}, Codes.ROUTE_NOT_FOUND, f"Route not found. Send {request.path} with {allowed}.", status=400
            )
        except web.HTTPNotFound:
            return self._respond({}, Codes.ROUTE_NOT_FOUND, "Route not found.", status=404)

    async def handle(self, request: web.Request) -> web.Response:
        path = request.path
        headers: dict[str, str] = {}
        try:
            fault = self.faults.next_rest_error()
            if fault is not None:
                return self._fault(fault)
            if path in PUBLIC_GET:
                return self._respond(PUBLIC_GET[path](self.engine, dict(request.query)))
            payload = request.rel_url.raw_query_string if request.method == "GET" else await _body_text(request)
            account = verify_rest(self.engine.accounts, request.headers, payload, self.engine.clock.now_ms())
            status = self.limiter.hit(account.api_key, path, self.engine.clock.now_ms())
            headers = status.headers()
            if not status.allowed:
                raise SimError(Codes.RATE_LIMIT, "Too many visits. Exceeded the API Rate Limit.")
            if request.method == "GET":
                result = PRIVATE_GET[path](self.engine, account, dict(request.query))
                if path == "/v5/order/realtime" and self.faults.order_cache_wiped:
                    result["list"] = [row for row in result["list"] if OrderStatus(row["orderStatus"]).is_open]
                self.faults.corrupt(path, result)
                return self._respond(result, headers=headers)
            body = _parse_body(payload)
            if path == "/v5/order/create":
                reject = self.faults.next_order_reject()
                if reject is not None:
                    raise SimError(*reject)
            result = PRIVATE_POST[path](self.engine, account, body)
            if path in _LOSABLE and self.faults.lose_reply() and request.transport is not None:
                request.transport.abort()
            return self._respond(result, headers=headers)
        except SimError as err:
            return self._respond({}, err.code, err.msg, headers)
        except Exception:
            log.exception("REST %s %s failed", request.method, path)
            return self._respond({}, Codes.SERVER_ERROR, REST_FAULT_MESSAGES[Codes.SERVER_ERROR], headers)

    def _fault(self, code: int) -> web.Response:
        """The armed fault's answer: a retCode (10006 with its limit headers), or HTTP 429 when the code is 429."""
        now = self.engine.clock.now_ms()
        headers = (
            {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(now + 1000)}
            if code in (Codes.RATE_LIMIT, HTTP_TOO_MANY)
            else None
        )
        status = HTTP_TOO_MANY if code == HTTP_TOO_MANY else 200  # 429: an HTTP-level refusal, as under overload
        return self._respond(
            {}, code, REST_FAULT_MESSAGES.get(code, "System error. Please try again later."), headers, status
        )


async def _body_text(request: web.Request) -> str:
    """The POST body as text; one larger than the exchange reads or not UTF-8 is a 10001, before any signature check."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise SimError(Codes.PARAMS, f"params error: request body larger than {MAX_BODY_BYTES} bytes") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SimError(Codes.PARAMS, "params error: request body is not valid UTF-8") from None


def _parse_body(payload: str) -> dict[str, Any]:
    """A POST body must be a JSON object."""
    try:
        body = orjson.loads(payload) if payload else {}
    except orjson.JSONDecodeError:
        raise SimError(Codes.PARAMS, "params error: request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SimError(Codes.PARAMS, "params error: request body must be a JSON object")
    return body
