"""Loopback admin endpoint under /_sim (outside Bybit's paths): faults, prices, funding, steps."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

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
        return web.json_response({
            "symbols": list(sim.engine.markets), "steps": next(iter(sim.engine.markets.values())).step_count,
            "connections": {"public": len(sim.public.peers), "private": len(sim.private.peers), "trade": len(sim.trade.peers)},
            "clock_skew_ms": sim.clock.skew_ms,
        })

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

    async def step(request: web.Request) -> web.Response:
        data = await body(request)
        await sim.step(int(data.get("count", 1)))
        return ok()

    return [
        web.get("/_sim/state", state), web.post("/_sim/faults/{name}", fault), web.post("/_sim/price", price),
        web.post("/_sim/funding", funding), web.post("/_sim/step", step),
    ]


FAULT_PARAMS: dict[str, frozenset[str]] = {
    "drop": frozenset({"kind"}), "stall": frozenset({"topic", "seconds"}), "duplicate": frozenset({"count"}),
    "reorder": frozenset({"count"}), "rest-error": frozenset({"code", "count"}), "clock-skew": frozenset({"ms"}),
    "reject-order": frozenset({"code", "msg", "count"}), "lose-reply": frozenset({"count"}), "wipe-order-cache": frozenset(), "clear": frozenset(),
    "corrupt-rest": frozenset({"path", "field", "count"}),
}
DROP_KINDS = ("public", "private", "trade", "all")


def _check_params(name: str, data: dict[str, Any]) -> int:
    """Refuse unknown names, unknown keys and bad counts (a typo must not silently arm nothing); returns count."""
    allowed = FAULT_PARAMS.get(name)
    if allowed is None:
        raise KeyError(name)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {name}: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed)) or 'none'})")
    count = int(data.get("count", 1))
    if count < 1:
        raise ValueError("count must be at least 1")
    return count


def apply_fault(sim: SimExchange, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """Arm one fault by name; the same names serve the admin endpoint and the CLI."""
    count = _check_params(name, data)
    if name == "drop":
        kind = str(data.get("kind", "all"))
        if kind not in DROP_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DROP_KINDS)}, not {kind!r}")
        return {"dropped": sim.drop_connections(kind)}
    if name == "stall":
        sim.faults.stall(str(data["topic"]), float(data.get("seconds", 5)))
    elif name == "duplicate":
        sim.faults.duplicate_private += count
    elif name == "reorder":
        sim.faults.reorder_private += max(count, 2)
    elif name == "rest-error":
        code = int(data.get("code", 10016))
        if code not in (10000, 10006, 10016):
            raise ValueError("code must be 10000, 10006 or 10016")
        sim.faults.rest_errors.extend([code] * count)
    elif name == "clock-skew":
        sim.clock.skew_ms = int(data.get("ms", 0))
    elif name == "reject-order":
        code = int(data.get("code", 110007))
        sim.faults.order_rejects.extend([(code, str(data.get("msg", "ab not enough for new order")))] * count)
    elif name == "lose-reply":
        sim.faults.lost_replies += count
    elif name == "corrupt-rest":
        sim.faults.corrupt_rows(str(data.get("path", "")), str(data.get("field", "")), count)
    elif name == "wipe-order-cache":
        sim.faults.order_cache_wiped = True
    elif name == "clear":
        sim.faults.clear()
        sim.clock.skew_ms = 0
    else:
        raise KeyError(name)
    return {}
