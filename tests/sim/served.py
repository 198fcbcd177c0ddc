"""A well-behaved client kept running beside a misbehaving one, and the checks that it was served throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from websockets.asyncio.client import ClientConnection

from tests.conftest import SignedRest
from tests.sim.rest_helpers import client_for
from tests.sim.ws_helpers import open_ws, subscribe_with_snapshot, urls
from tui_bot.sim.server import SimExchange

TICKER = "tickers.BTCUSDT"
POLL_SECONDS = 0.05


@dataclass
class WellBehavedClient:
    """A subscribed public ticker stream and a signed REST call every POLL_SECONDS, each answer recorded."""

    sim: SimExchange
    stream: ClientConnection
    rest: SignedRest
    ticker_cs: list[int] = field(default_factory=list)
    rest_codes: list[int] = field(default_factory=list)
    stream_error: BaseException | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._read_stream()), asyncio.create_task(self._poll_rest())]

    async def _read_stream(self) -> None:
        try:
            while True:
                frame = await self.stream.recv()
                message = json.loads(frame)
                if message.get("topic") == TICKER:
                    self.ticker_cs.append(message["cs"])
        except Exception as err:  # the stream ending is what the check reports
            self.stream_error = err

    async def _poll_rest(self) -> None:
        while True:
            reply = await self.rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
            self.rest_codes.append(reply["retCode"])
            await asyncio.sleep(POLL_SECONDS)

    async def assert_served(self) -> None:
        """Every answer so far was a success, the stream is open, and both still answer after the misbehaviour."""
        calls, frames = len(self.rest_codes), len(self.ticker_cs)
        for _ in range(200):
            if len(self.rest_codes) > calls and len(self.ticker_cs) > frames or self.stream_error is not None:
                break
            await asyncio.sleep(0.01)
        assert self.stream_error is None, f"the well-behaved stream ended: {self.stream_error!r}"
        assert len(self.ticker_cs) > frames, "the well-behaved stream got no frame after the misbehaviour"
        assert len(self.rest_codes) > calls, "the well-behaved REST client got no answer after the misbehaviour"
        assert set(self.rest_codes) == {0}, f"the well-behaved REST client was refused: {self.rest_codes}"
        assert self.ticker_cs == sorted(set(self.ticker_cs)), "ticker cs went backwards for the well-behaved stream"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def well_behaved_client(sim: SimExchange) -> AsyncIterator[WellBehavedClient]:
    """A WellBehavedClient streaming and polling for the duration of the block."""
    rest = client_for(sim)
    try:
        async with open_ws(urls(sim).public_ws) as stream:
            ack, snapshot = await subscribe_with_snapshot(stream, TICKER)
            assert ack["success"] is True and snapshot["type"] == "snapshot"
            client = WellBehavedClient(sim, stream, rest, ticker_cs=[snapshot["cs"]])
            client.start()
            try:
                yield client
            finally:
                await client.stop()
    finally:
        await rest.close()


@asynccontextmanager
async def served_exchange() -> AsyncIterator[tuple[SimExchange, WellBehavedClient]]:
    """A running exchange (20 ms steps, a big balance) with a well-behaved client already being served."""
    async with (
        SimExchange(seed=7, step_seconds=0.02, balance=Decimal("100000")) as sim,
        well_behaved_client(sim) as good,
    ):
        yield sim, good


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """No log record carries a traceback or is an error: bad input is answered, never crashed on."""
    bad = [r for r in caplog.records if r.exc_info or r.exc_text or r.levelno >= logging.ERROR]
    assert not bad, "\n".join(f"{r.name} {r.levelname}: {r.getMessage()}" for r in bad)
