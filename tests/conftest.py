"""Shared fixtures: a running embedded exchange on loopback, a signed raw REST client, a PostgreSQL server."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import textual._wait
import textual.app
import textual.pilot

from tests.pg_server import PgServer, postgres_bindir
from tests.redis_server import RedisServer, redis_binary
from tui_bot.exchange.bybit.signing import rest_signature
from tui_bot.sim.server import SimExchange

IDLE_WAIT_MAX_S = 0.25
"""The longest the Pilot waits for the process to go idle after a key or a pause (Textual's is 1 s). It measures
idle as this process's CPU time standing still for 20 ms, which a console with the embedded exchange or a listener
streaming in the same process never does: every key then cost 2 s and every pause 1 s, whatever the test awaited
(a test waits for what it needs with wait_for, never on the idle heuristic)."""


async def _wait_for_idle(min_sleep: float = textual._wait.SLEEP_GRANULARITY, max_sleep: float = 1.0) -> None:
    await textual._wait.wait_for_idle(min_sleep, min(max_sleep, IDLE_WAIT_MAX_S))


textual.app.wait_for_idle = _wait_for_idle  # type: ignore[attr-defined]
textual.pilot.wait_for_idle = _wait_for_idle  # type: ignore[attr-defined]


def console_script(name: str = "tui-bot") -> Path:
    """The installed console script next to this interpreter (the venv the suite runs in)."""
    return Path(sys.executable).with_name(name)


class SignedRest:
    """A minimal signed REST client for raw-wire tests (real HMAC, real sockets)."""

    def __init__(self, base: str, api_key: str, api_secret: str) -> None:
        self.base, self.api_key, self.api_secret = base, api_key, api_secret
        self.session = aiohttp.ClientSession()
        self.last_headers: dict[str, str] = {}

    def sign_headers(
        self,
        payload: str,
        *,
        timestamp: int | None = None,
        recv_window: int = 5000,
        secret: str | None = None,
        api_key: str | None = None,
    ) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time() * 1000))
        key = api_key if api_key is not None else self.api_key
        sign = rest_signature(secret or self.api_secret, ts, key, recv_window, payload)
        return {
            "X-BAPI-API-KEY": key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": str(recv_window),
            "X-BAPI-SIGN": sign,
            "X-BAPI-SIGN-TYPE": "2",
            "Content-Type": "application/json",
        }

    async def get(
        self, path: str, params: dict[str, Any] | None = None, *, signed: bool = True, **sign: Any
    ) -> dict[str, Any]:
        query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
        headers = self.sign_headers(query, **sign) if signed else {}
        async with self.session.get(f"{self.base}{path}" + (f"?{query}" if query else ""), headers=headers) as resp:
            self.last_headers = dict(resp.headers)
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def post(self, path: str, body: dict[str, Any] | str, **sign: Any) -> dict[str, Any]:
        payload = body if isinstance(body, str) else json.dumps(body)
        async with self.session.post(
            f"{self.base}{path}", data=payload, headers=self.sign_headers(payload, **sign)
        ) as resp:
            self.last_headers = dict(resp.headers)
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def close(self) -> None:
        await self.session.close()


@pytest.fixture
async def sim() -> AsyncIterator[SimExchange]:
    """An auto-stepping exchange (20 ms steps to keep tests quick)."""
    exchange = SimExchange(seed=7, step_seconds=0.02, balance=Decimal("10000"))
    await exchange.start()
    yield exchange
    await exchange.stop()


@pytest.fixture
async def manual_sim() -> AsyncIterator[SimExchange]:
    """An exchange whose market moves only when the test calls step()."""
    exchange = SimExchange(seed=7, autostep=False, balance=Decimal("10000"))
    await exchange.start()
    yield exchange
    await exchange.stop()


@pytest.fixture
async def rest(sim: SimExchange) -> AsyncIterator[SignedRest]:
    assert sim.urls is not None
    client = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    yield client
    await client.close()


class ThreadedSim:
    """An embedded exchange running its own event loop in a thread, for synchronous clients like pybit."""

    def __init__(self, **options: Any) -> None:
        import asyncio
        import threading

        self._ready = threading.Event()
        self._options = options
        self.loop = asyncio.new_event_loop()
        self.exchange: SimExchange | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("embedded exchange did not start")

    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self.loop)
        self.exchange = SimExchange(**self._options)
        self.loop.run_until_complete(self.exchange.start())
        self._ready.set()
        self.loop.run_forever()

    def call(self, fn: Any, *args: Any) -> Any:
        """Run fn(*args) on the exchange's loop (a coroutine function is awaited) and return its result."""
        import asyncio

        async def runner() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(10)

    def stop(self) -> None:
        import asyncio

        assert self.exchange is not None
        asyncio.run_coroutine_threadsafe(self.exchange.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def threaded_sim() -> Any:
    """A running exchange in a background thread (50 ms steps, the default latency) for pybit's synchronous clients."""
    import logging

    from tui_bot.config import SimSettings

    logging.getLogger("pybit").setLevel(logging.WARNING)
    runner = ThreadedSim(seed=7, step_seconds=0.05, latency_ms=SimSettings().latency_ms)
    yield runner
    runner.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the session (skipped only when PostgreSQL is not installed, never in CI)."""
    bindir = postgres_bindir()
    if bindir is None:
        if os.environ.get("PG_TESTS_REQUIRED"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found, and PG_TESTS_REQUIRED is set")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    server = PgServer(bindir)
    try:
        server.init()
        server.start()
        yield server
        server.stop("immediate")
    finally:
        server.remove()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway Redis server for the session (skipped only when redis-server is not installed, never in CI)."""
    binary = redis_binary()
    if binary is None:
        if os.environ.get("REDIS_TESTS_REQUIRED"):
            pytest.fail("redis-server not found, and REDIS_TESTS_REQUIRED is set")
        pytest.skip("redis-server not found")
    server = RedisServer(binary)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an empty Redis (the session's server, flushed before the test)."""
    redis_server.flush()
    return redis_server.url
