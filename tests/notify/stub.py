"""A loopback HTTP server standing in for Telegram's Bot API, a Discord webhook and a JSON webhook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAHsecretTOKENpart-xyz_0123456789"
"""A bot token shaped like Telegram's: it must never reach a log line."""
HOOK_SECRET = "hooksecret-9f8e7d6c5b4a"
"""The secret path part of the stub's webhook URLs."""


@dataclass(frozen=True)
class Reply:
    """How the stub answers one request: status, JSON body (None: empty), extra headers, a delay first."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the stub saw it."""

    path: str
    body: Any
    at: float
    status: int


class StubServer:
    """Records every POST; answers from `script` (per path prefix, in order) and then with 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, deque[Reply]] = {}
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self.base = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        self._closing.set()  # a delayed reply ends now
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def telegram_base(self) -> str:
        return f"{self.base}/tg"

    def hook_url(self, name: str) -> str:
        return f"{self.base}/{name}/{HOOK_SECRET}"

    def script(self, prefix: str, *replies: Reply) -> None:
        """Answer the next requests whose path starts with prefix with these replies, in order."""
        self.scripts.setdefault(prefix, deque()).extend(replies)

    def bodies(self, prefix: str) -> list[Any]:
        """Every request's body, answered or refused."""
        return [r.body for r in self.received if r.path.startswith(prefix)]

    def delivered(self, prefix: str) -> list[Any]:
        """The bodies the stub accepted (2xx): what reached the chat or the webhook's owner."""
        return [r.body for r in self.received if r.path.startswith(prefix) and 200 <= r.status < 300]

    def times(self, prefix: str) -> list[float]:
        return [r.at for r in self.received if r.path.startswith(prefix)]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until predicate holds after some request arrived (fails after timeout)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"stub never saw what was expected; got {[r.path for r in self.received]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        reply = self._next_reply(request.path)
        self.received.append(Received(request.path, body, time.monotonic(), reply.status))
        self._changed.set()
        if reply.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), reply.delay_s)
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    def _next_reply(self, path: str) -> Reply:
        for prefix, replies in self.scripts.items():
            if path.startswith(prefix) and replies:
                return replies.popleft()
        if path.startswith("/tg/"):
            return Reply(200, {"ok": True, "result": {"message_id": 1}})
        return Reply(204 if path.startswith("/discord/") else 200)
