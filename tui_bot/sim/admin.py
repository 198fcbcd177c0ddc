"""Loopback admin endpoint under /_sim (outside Bybit's paths): faults, prices, funding, liquidations, steps."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tui_bot.sim.errors import SimError
from tui_bot.sim.fault_params import (
    BookGap,
    ClockSkew,
    CorruptRest,
    Counted,
    Drop,
    RejectOrder,
    RestError,
    Stall,
    fault_params,
)
from tui_bot.sim.liquidation import liquidate_symbol
from tui_bot.sim.stepper import settle_funding

if TYPE_CHECKING:
    from tui_bot.sim.server import SimExchange


def admin_routes(sim: SimExchange) -> list[web.RouteDef]:
    """Routes that drive the embedded exchange's fault controls and market."""

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return data

    def ok(**extra: Any) -> web.Response:
        return web.json_response({"ok": True, **extra})

    async def state(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "symbols": list(sim.engine.markets),
                "steps": next(iter(sim.engine.markets.values())).step_count,
                "connections": {
                    "public": len(sim.public.peers),
                    "private": len(sim.private.peers),
                    "trade": len(sim.trade.peers),
                },
                "clock_skew_ms": sim.clock.skew_ms,
            }
        )

    async def fault(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        data = await body(request)
        try:
            return ok(**apply_fault(sim, name, data))
        except (KeyError, ValueError, TypeError, InvalidOperation) as err:
            raise web.HTTPBadRequest(text=f"bad fault request: {err}") from None

    async def price(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            market = sim.engine.markets[str(data["symbol"])]
            market.set_price(Decimal(str(data["price"])), sim.clock.now_ms())
        except (KeyError, InvalidOperation) as err:
            raise web.HTTPBadRequest(text=f"bad price request: {err}") from None
        sim.step_once()
        return ok(last_price=str(market.last_price))

    async def funding(request: web.Request) -> web.Response:
        settle_funding(sim.engine)
        return ok()

    async def liquidate(request: web.Request) -> web.Response:
        data = await body(request)
        try:
            price = None if data.get("price") is None else Decimal(str(data["price"]))
            orders = liquidate_symbol(sim.engine, str(data["symbol"]), price)
        except (KeyError, ValueError, InvalidOperation, SimError) as err:
            raise web.HTTPBadRequest(text=f"bad liquidate request: {err}") from None
        return ok(orderIds=[order.order_id for order in orders])

    async def step(request: web.Request) -> web.Response:
        data = await body(request)
        await sim.step(int(data.get("count", 1)))
        return ok()

    return [
        web.get("/_sim/state", state),
        web.post("/_sim/faults/{name}", fault),
        web.post("/_sim/price", price),
        web.post("/_sim/funding", funding),
        web.post("/_sim/liquidate", liquidate),
        web.post("/_sim/step", step),
    ]


def apply_fault(sim: SimExchange, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Arm one fault by name; the same names and parameters serve the admin endpoint and the CLI."""
    params = fault_params(name, data)
    if isinstance(params, Drop):
        return {"dropped": sim.drop_connections(params.kind)}
    if isinstance(params, Stall):
        sim.faults.stall(params.topic, params.seconds)
    elif isinstance(params, RestError):
        sim.faults.rest_errors.extend([params.code] * params.count)
    elif isinstance(params, ClockSkew):
        sim.clock.skew_ms = params.ms
    elif isinstance(params, RejectOrder):
        sim.faults.order_rejects.extend([(params.code, params.msg)] * params.count)
    elif isinstance(params, CorruptRest):
        sim.faults.corrupt_rows(params.path, params.field, params.count)
    elif isinstance(params, BookGap):
        sim.faults.book_gaps[params.topic] = sim.faults.book_gaps.get(params.topic, 0) + params.count
    elif isinstance(params, Counted):
        _arm_counted(sim, name, params.count)
    elif name == "wipe-order-cache":
        sim.faults.order_cache_wiped = True
    elif name == "clear":
        sim.faults.clear()
        sim.clock.skew_ms = 0
    return {}


def _arm_counted(sim: SimExchange, name: str, count: int) -> None:
    """The faults that only take a count: duplicate, reorder (at least 2) and lose-reply."""
    if name == "duplicate":
        sim.faults.duplicate_private += count
    elif name == "reorder":
        sim.faults.reorder_private += max(count, 2)
    else:
        sim.faults.lost_replies += count
