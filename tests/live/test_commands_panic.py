"""Panic over Redis: every bot is told, and the account ends flat even when a bot does not answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import custom_venue, wait_for
from tests.live.commands_support import open_sizes, receiving
from tui_bot.domain.enums import Side
from tui_bot.live.commands_sender import CommandSender
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange

Start = Callable[[str], Awaitable[Runtime]]


@pytest.fixture
async def start(tmp_path: Path, sim: SimExchange, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    """Start runtimes with a given bot id on the one shared exchange (all closed at the end)."""
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    started: list[Runtime] = []

    async def runtime(bot_id: str) -> Runtime:
        settings = custom_venue(sim)
        settings.bot.bot_id = bot_id
        rt = await start_runtime(settings, tmp_path / f"{bot_id}.db", trading_bot=False, protect=False)
        started.append(rt)
        return rt

    yield runtime
    for rt in started:
        await rt.close()


async def holding(rt: Runtime, *symbols: str) -> None:
    """rt opens a small long in each symbol, and waits until it sees them."""
    for symbol, qty in zip(symbols, ("0.010", "0.10"), strict=False):
        await rt.orders.place(symbol, Side.BUY, Decimal(qty))
    await wait_for(lambda: all(s in rt.engine.state.positions for s in symbols))


async def test_panic_with_one_silent_bot_still_flattens_the_account_and_names_it(
    start: Start, sim: SimExchange, redis_url: str
) -> None:
    answering, console = await start("a1"), await start("con")
    await holding(console, "BTCUSDT", "ETHUSDT")
    await wait_for(lambda: len(answering.engine.state.positions) == 2)
    sender = CommandSender(redis_url, "console", timeout_s=1.0)
    async with receiving(redis_url, "a1", answering.backend):
        report = await sender.panic(["a1", "b2"], own=console.backend)  # b2 runs no receiver
    await sender.close()
    assert [(r.bot, r.status) for r in report.replies] == [("a1", "ok")]
    assert report.replies[0].message == "panic: orders cancelled, 2 positions closing"
    assert report.silent == ("b2",) and report.closed_here is not None
    assert "no answer from b2" in report.line()
    await wait_for(lambda: open_sizes(sim) == {})


async def test_panic_nobody_answers_is_closed_by_the_sender_itself(
    start: Start, sim: SimExchange, redis_url: str
) -> None:
    console = await start("con")
    await holding(console, "BTCUSDT", "ETHUSDT")
    sender = CommandSender(redis_url, "console", timeout_s=0.3)
    report = await sender.panic(["b2", "b3"], own=console.backend)
    await sender.close()
    assert report.replies == () and report.silent == ("b2", "b3")
    assert report.line() == "panic: no answer from b2, b3; closed 2 positions here"
    await wait_for(lambda: open_sizes(sim) == {})


async def test_panic_reaches_every_registered_bot_through_the_all_bots_stream(
    start: Start, sim: SimExchange, redis_url: str
) -> None:
    first, second = await start("a1"), await start("a2")
    await holding(first, "BTCUSDT")
    await wait_for(lambda: "BTCUSDT" in second.engine.state.positions)
    sender = CommandSender(redis_url, "console", timeout_s=20.0)
    async with receiving(redis_url, "a1", first.backend), receiving(redis_url, "a2", second.backend):
        report = await sender.panic()  # the bots registered themselves when they started
    await sender.close()
    assert sorted(r.bot for r in report.replies) == ["a1", "a2"] and all(r.ok for r in report.replies)
    assert report.silent == () and report.closed_here is None
    await wait_for(lambda: open_sizes(sim) == {})


async def test_panic_without_redis_still_closes_through_the_sender_and_says_no_bot_was_told(
    start: Start, sim: SimExchange
) -> None:
    console = await start("con")
    await holding(console, "BTCUSDT")
    sender = CommandSender("redis://127.0.0.1:1/0", "console", timeout_s=0.3)  # nothing listens on port 1
    report = await sender.panic(own=console.backend)
    await sender.close()
    assert report.line().startswith("panic: no bot told: Redis failed (")
    assert report.line().endswith("; closed 1 positions here")
    await wait_for(lambda: open_sizes(sim) == {})
