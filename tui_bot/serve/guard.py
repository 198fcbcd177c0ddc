"""Who may use the served console: the secret token on every request, the server's own Origin on every WebSocket."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlencode, urlsplit

from aiohttp import hdrs, web

log = logging.getLogger(__name__)

TOKEN_ENV = "TUI_BOT_SERVE_TOKEN"
TOKEN_QUERY = "token"
MIN_TOKEN_LENGTH = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")  # unreserved in a URL: the token travels in the first URL
_DEFAULT_PORTS = {"http": 80, "https": 443}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TokenError(ValueError):
    """The token from the environment is unusable; the message names the variable and what it takes."""


def new_token() -> str:
    """A fresh secret token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_from_env(environ: Mapping[str, str]) -> str | None:
    """TUI_BOT_SERVE_TOKEN when set (checked), else None."""
    token = environ.get(TOKEN_ENV)
    if token is None:
        return None
    if len(token) < MIN_TOKEN_LENGTH or not _TOKEN_CHARS.fullmatch(token):
        raise TokenError(
            f"{TOKEN_ENV}: expected at least {MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 . _ ~ - "
            "(it goes into a URL); unset it to have one generated"
        )
    return token


def origin_of(url: str) -> str:
    """The Origin a browser sends for pages under url: scheme://host[:port], the scheme's default port left out."""
    parts = urlsplit(url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{shown}:{port}"


class Guard:
    """aiohttp middleware: a request without the token gets 401; a WebSocket upgrade from another Origin gets 403.

    The token comes in the query once (the printed URL); the page answers with a cookie (HttpOnly, SameSite=Strict)
    and a redirect to the same page without the token, so it leaves the address bar and the browser's history.
    """

    def __init__(self, token: str, public_url: Callable[[], str], cookie: Callable[[], str]) -> None:
        self._token = token.encode()
        self._public_url = public_url
        self._cookie = cookie

    def _token_ok(self, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(offered.encode(), self._token)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse, redirect or pass on request."""
        from_query = request.query.get(TOKEN_QUERY)
        if not (self._token_ok(from_query) or self._token_ok(request.cookies.get(self._cookie()))):
            raise _refused(request, web.HTTPUnauthorized, "token missing or wrong: open the URL tui-bot serve printed")
        if _is_websocket(request):
            own, origin = origin_of(self._public_url()), request.headers.get(hdrs.ORIGIN)
            if origin != own:
                raise _refused(request, web.HTTPForbidden, f"WebSocket from origin {origin!r} refused (not {own})")
        elif from_query is not None and request.method == hdrs.METH_GET:
            raise self._redirect_without_token(request)
        return await handler(request)

    def _redirect_without_token(self, request: web.Request) -> web.HTTPSeeOther:
        """303 to the same path and query minus the token, setting the cookie that stands for it."""
        rest = urlencode([(k, v) for k, v in request.query.items() if k != TOKEN_QUERY])
        response = web.HTTPSeeOther(request.path + (f"?{rest}" if rest else ""))
        secure = urlsplit(self._public_url()).scheme == "https"
        response.set_cookie(
            self._cookie(), self._token.decode(), httponly=True, samesite="Strict", secure=secure, path="/"
        )
        return response


def _is_websocket(request: web.Request) -> bool:
    """A WebSocket upgrade, or any request to the route that would make one."""
    upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    return upgrade or request.match_info.route.name == "websocket"


def _refused(request: web.Request, kind: type[web.HTTPException], why: str) -> web.HTTPException:
    """The refusal, logged with the path only (the query may hold a wrong or right token)."""
    log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, why)
    return kind(text=f"{kind.status_code}: {why}\n")
