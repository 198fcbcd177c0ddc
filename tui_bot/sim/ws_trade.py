"""Trade stream: auth, then order.create / order.amend / order.cancel with reqId echo and header block."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tui_bot.sim import wire
from tui_bot.sim.account import Account
from tui_bot.sim.auth import check_timestamp, verify_ws_auth
from tui_bot.sim.connection import Peer
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError
from tui_bot.sim.faults import Faults
from tui_bot.sim.order_amend import amend_order
from tui_bot.sim.order_entry import cancel_order, create_order
from tui_bot.sim.ratelimit import RateLimiter
from tui_bot.sim.ws_request import WsRequest

log = logging.getLogger(__name__)

OPS: dict[str, tuple[str, Callable[[ExchangeEngine, Account, dict[str, Any]], dict[str, Any]]]] = {
    "order.create": ("/v5/order/create", create_order),
    "order.amend": ("/v5/order/amend", amend_order),
    "order.cancel": ("/v5/order/cancel", cancel_order),
}


class TradeHub:
    """Authenticated order-entry peers."""

    def __init__(self, engine: ExchangeEngine, faults: Faults, limiter: RateLimiter) -> None:
        self.engine = engine
        self.faults = faults
        self.limiter = limiter
        self.peers: set[Peer] = set()
        self._req_ids: dict[Peer, set[str]] = {}

    def drop(self, peer: Peer) -> None:
        self.peers.discard(peer)
        self._req_ids.pop(peer, None)

    def handle(self, peer: Peer, request: WsRequest) -> None:
        """Answer one request from a trade peer: ping, auth or one order op (10404 for any other op)."""
        op, req_id = request.op, request.req_id
        now = self.engine.clock.now_ms()
        if op == "ping":
            peer.send(wire.trade_ws_pong(conn_id=peer.conn_id, req_id=req_id, time_ms=now))
        elif op == "auth":
            self._auth(peer, request.args, req_id, now)
        elif op in OPS:
            self._order_op(peer, request, now)
        else:
            self._reply(peer, op, req_id, 10404, f"unsupported op: {op}", {}, None, now)

    def _auth(self, peer: Peer, args: Any, req_id: str | None, now: int) -> None:
        if peer.api_key is not None:
            peer.send(
                wire.trade_ws_auth_response(ret_code=20001, ret_msg="Repeat auth", conn_id=peer.conn_id, req_id=req_id)
            )
            return
        account, code, message = verify_ws_auth(self.engine.accounts, args, now)
        if account is not None:
            peer.api_key = account.api_key
        peer.send(
            wire.trade_ws_auth_response(ret_code=code, ret_msg=message or "OK", conn_id=peer.conn_id, req_id=req_id)
        )

    def _order_op(self, peer: Peer, request: WsRequest, now: int) -> None:
        op, req_id = request.op, request.req_id
        endpoint, action = OPS[op]
        status = None
        try:
            if peer.api_key is None:
                raise SimError(Codes.INVALID_KEY, "Request not authorized")
            self._check_req_id(peer, req_id)
            header = request.header or {}
            if "X-BAPI-TIMESTAMP" not in header:
                raise SimError(Codes.PARAMS, "params error: X-BAPI-TIMESTAMP is required in header")
            check_timestamp(header["X-BAPI-TIMESTAMP"], header.get("X-BAPI-RECV-WINDOW"), now)
            args = request.args
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
                raise SimError(Codes.PARAMS, "params error: args must hold exactly one request object")
            status = self.limiter.hit(peer.api_key, endpoint, now)
            if not status.allowed:
                raise SimError(Codes.RATE_LIMIT, "Too many visits. Exceeded the API Rate Limit.")
            reject = self.faults.next_order_reject() if op == "order.create" else None
            if reject is not None:
                raise SimError(*reject)
            data = action(self.engine, self.engine.accounts[peer.api_key], args[0])
            if op in ("order.create", "order.amend") and self.faults.lose_reply():
                return
            self._reply(peer, op, req_id, 0, "OK", data, status, now)
        except SimError as err:
            self._reply(peer, op, req_id, err.code, err.msg, {}, status, now)
        except Exception:
            log.exception("trade op %s failed", op)
            self._reply(peer, op, req_id, Codes.SERVER_ERROR, "System error. Please try again later.", {}, status, now)

    def _check_req_id(self, peer: Peer, req_id: str | None) -> None:
        if req_id is None:
            return
        if len(req_id) > 36:
            raise SimError(Codes.PARAMS, "params error: reqId too long, max 36 characters")
        seen = self._req_ids.setdefault(peer, set())
        if req_id in seen:
            raise SimError(20006, "reqId is duplicate")
        seen.add(req_id)

    def _reply(
        self,
        peer: Peer,
        op: str,
        req_id: str | None,
        code: int,
        message: str,
        data: dict[str, Any],
        status: Any,
        now: int,
    ) -> None:
        limit, remaining, reset = (status.limit, status.remaining, status.reset_ms) if status else (10, 10, now)
        peer.send(
            wire.trade_ws_response(
                op,
                req_id=req_id,
                ret_code=code,
                ret_msg=message,
                data=data,
                conn_id=peer.conn_id,
                limit=limit,
                limit_status=remaining,
                reset_ms=reset,
                time_ms=now,
            )
        )
