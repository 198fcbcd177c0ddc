"""A loopback OpenAI-compatible chat-completions server: records each request, answers from a script."""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from tests.golden import load_fixture

API_KEY = "sk-test-9f8e7d6c5b4a3928-secret"
"""The key the tests put in the environment: it must never reach a log line or a reason."""


@dataclass(frozen=True)
class Reply:
    """One answer: status and JSON body (or raw text), after delay_s; held=True waits for `release` first, and
    hang=True never answers until stop()."""

    status: int = 200
    body: Any = None
    text: str | None = None
    delay_s: float = 0.0
    held: bool = False
    hang: bool = False


@dataclass(frozen=True)
class Seen:
    """One request as the stub received it."""

    headers: CIMultiDict[str]
    body: Any


def completion(content: str) -> dict[str, Any]:
    """The golden chat.completion reply with content as the assistant's message."""
    frame = load_fixture("llm_chat_completion_reply")
    frame["choices"][0]["message"]["content"] = content
    return frame


def last_close(body: Any) -> float:
    """The last close the request's text states."""
    text = body["messages"][1]["content"][0]["text"]
    found = re.search(r"Last close ([0-9.]+)", text)
    assert found, text
    return float(found.group(1))


def trade(side: str, stop_pct: float, target_pct: float, confidence: float = 0.8) -> Callable[[Any], Reply]:
    """A reply to any request: side at its last close, stop and target that far away in percent."""

    def answer(body: Any) -> Reply:
        close = last_close(body)
        idea = {
            "side": side,
            "confidence": confidence,
            "entry": close,
            "stop_loss": round(close * (1 + stop_pct / 100), 6),
            "take_profit": round(close * (1 + target_pct / 100), 6),
            "reasoning": f"{side} from the stub",
        }
        return Reply(body=completion(json.dumps(idea)))

    return answer


@dataclass
class ChatStub:
    """Answers POST /v1/chat/completions with the scripted replies in order, then with `default`."""

    default: Callable[[Any], Reply] = field(default=lambda body: Reply(500, {"error": {"message": "no script"}}))
    seen: list[Seen] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)
    in_flight: int = 0
    most_in_flight: int = 0
    base_url: str = ""
    _runner: web.AppRunner | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def start(self) -> str:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.base_url

    async def wait_in_flight(self, count: int) -> None:
        """Until count requests are waiting for their replies at once (pytest-timeout bounds it)."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: self.in_flight >= count)

    async def stop(self) -> None:
        self._closing.set()
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.seen.append(Seen(CIMultiDict(request.headers), body))
        reply = self.script.popleft() if self.script else self.default(body)
        async with self._arrived:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._arrived.notify_all()
        try:
            if reply.hang:
                await self._closing.wait()
            if reply.held:
                await self.release.wait()
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        finally:
            self.in_flight -= 1
        if reply.text is not None:
            return web.Response(status=reply.status, text=reply.text, content_type="application/json")
        return web.json_response(reply.body, status=reply.status)
