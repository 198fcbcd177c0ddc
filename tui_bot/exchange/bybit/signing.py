"""HMAC-SHA256 signatures for Bybit v5 REST requests and WebSocket auth."""

from __future__ import annotations

import hashlib
import hmac


def hmac_hex(secret: str, message: str) -> str:
    """Lowercase hex HMAC-SHA256 of message under secret."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def rest_signature(secret: str, timestamp: str | int, api_key: str, recv_window: str | int, payload: str) -> str:
    """Sign timestamp+apiKey+recvWindow+payload (raw query string for GET, raw body for POST)."""
    return hmac_hex(secret, f"{timestamp}{api_key}{recv_window}{payload}")


def ws_auth_signature(secret: str, expires: str | int) -> str:
    """Sign the WebSocket auth string 'GET/realtime' + expires."""
    return hmac_hex(secret, f"GET/realtime{expires}")


def signatures_match(expected: str, given: str) -> bool:
    """Constant-time comparison of two hex signatures."""
    return hmac.compare_digest(expected.encode(), given.encode())
