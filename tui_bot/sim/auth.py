"""Signature and timestamp checks for REST requests and WebSocket auth, as Bybit applies them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tui_bot.domain.wire_decimal import parse_wire_int
from tui_bot.exchange.bybit.signing import rest_signature, signatures_match, ws_auth_signature
from tui_bot.sim.account import Account
from tui_bot.sim.errors import Codes, SimError

DEFAULT_RECV_WINDOW = 5000


def check_timestamp(timestamp: Any, recv_window: Any, server_ms: int) -> tuple[int, int]:
    """Parse timestamp/recvWindow (plain ASCII digits) and enforce server-recv <= ts < server+1000 (10002)."""
    try:
        ts = parse_wire_int(str(timestamp))
        window = parse_wire_int(str(recv_window)) if recv_window not in (None, "") else DEFAULT_RECV_WINDOW
    except ValueError:
        raise SimError(Codes.PARAMS, "params error: X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid") from None
    if not (server_ms - window <= ts < server_ms + 1000):
        raise SimError(
            Codes.RECV_WINDOW,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{ts}],server_timestamp[{server_ms}],recv_window[{window}]",
        )
    return ts, window


def bad_sign_message(payload: str) -> str:
    """Bybit's 10004 text: the signed string with its timestamp + API key + recv_window head masked as ***."""
    return f"Error sign, please check your signature generation algorithm: origin_string[***{payload}]"


def verify_rest(accounts: dict[str, Account], headers: Mapping[str, str], payload: str, server_ms: int) -> Account:
    """Authenticate a signed REST request (headers matched case-insensitively); raises 10003 / 10004 / 10002."""
    key = headers.get("X-BAPI-API-KEY", "")
    account = accounts.get(key)
    if account is None:
        raise SimError(Codes.INVALID_KEY, "API key is invalid.")
    timestamp = headers.get("X-BAPI-TIMESTAMP", "")
    recv_window = headers.get("X-BAPI-RECV-WINDOW", "")
    given = headers.get("X-BAPI-SIGN", "")
    expected = rest_signature(account.api_secret, timestamp, key, recv_window, payload)
    if not given or not signatures_match(expected, given.lower()):
        raise SimError(Codes.BAD_SIGN, bad_sign_message(payload))
    check_timestamp(timestamp, recv_window, server_ms)
    return account


def verify_ws_auth(accounts: dict[str, Account], args: Any, server_ms: int) -> tuple[Account | None, int, str]:
    """Check op:auth args [key, expires, signature]; returns (account, code, message)."""
    if not isinstance(args, list) or len(args) != 3:
        return None, Codes.PARAMS, "Params Error"
    key, expires, signature = args
    try:
        expires_ms = parse_wire_int(str(expires)) if not isinstance(expires, bool) else -1
    except ValueError:
        return None, Codes.PARAMS, "Params Error"
    if expires_ms <= server_ms:
        return None, Codes.PARAMS, "Params Error"
    account = accounts.get(key) if isinstance(key, str) else None
    if account is None:
        return None, Codes.INVALID_KEY, "Request not authorized"
    expected = ws_auth_signature(account.api_secret, expires)
    if not isinstance(signature, str) or not signatures_match(expected, signature.lower()):
        return None, Codes.BAD_SIGN, "Request not authorized"
    return account, 0, ""
