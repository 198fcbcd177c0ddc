"""Commands over real Redis to a receiver running a bot's local backend on the embedded exchange (loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.bot.test_cycle import PERMISSIVE, started
from tests.core.conftest import sim_of, wait_for
from tests.live.commands_support import PATIENT_S, acks_of, orders_on_exchange, receiving
from tui_bot.domain.enums import Side
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.live import keys
from tui_bot.live.commands import (
    Approve,
    ClosePosition,
    Dismiss,
    PauseEntries,
    ResumeEntries,
    ToggleTightening,
)
from tui_bot.live.commands_sender import CommandSender
from tui_bot.runtime import Runtime

BOT = "tb1"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A bot runtime (id tb1) on its embedded exchange that has run one cycle: its ideas wait for approval."""
    rt = await started(tmp_path, auto_approve_trades=False, **PERMISSIVE)
    assert rt.bot is not None and rt.settings.bot.bot_id == BOT
    await rt.bot.run_cycle("test")
    assert len(rt.bot.pending()) >= 2, "both watchlist symbols should have an idea under permissive gates"
    yield rt
    await rt.close()


@pytest.fixture
async def sender(redis_url: str) -> AsyncIterator[CommandSender]:
    commands = CommandSender(redis_url, "console", timeout_s=PATIENT_S)
    yield commands
    await commands.close()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield raw
    await raw.aclose()


def pending_ideas(rt: Runtime) -> list[Recommendation]:
    assert rt.bot is not None
    return rt.bot.pending()


async def test_an_approval_over_redis_places_the_order_on_the_exchange_and_a_dismissal_is_answered(
    bot: Runtime, sender: CommandSender, redis_url: str
) -> None:
    first, second = pending_ideas(bot)[:2]
    async with receiving(redis_url, BOT, bot.backend):
        reply = await sender.send(BOT, Approve(first.id))
        assert reply.ok and reply.status == "ok", reply
        assert f"{first.symbol} {first.side.value}: executed" in reply.message
        dismissed = await sender.send(BOT, Dismiss(second.id))
        again = await sender.send(BOT, Approve(first.id))
    assert dismissed.ok and "dismissed" in dismissed.message
    assert again.status == "refused" and again.message == "only a pending recommendation can be approved"
    assert bot.bot is not None
    link = bot.bot.recommendations[first.id].order_link_id
    assert link is not None and link.startswith(f"{BOT}-en-")
    assert [o.symbol for o in orders_on_exchange(sim_of(bot), link)] == [first.symbol]
    await wait_for(lambda: first.symbol in bot.engine.state.positions)


async def test_paused_entries_refuse_an_approval_and_tightening_toggles(
    bot: Runtime, sender: CommandSender, redis_url: str
) -> None:
    idea = pending_ideas(bot)[0]
    async with receiving(redis_url, BOT, bot.backend):
        paused = await sender.send(BOT, PauseEntries())
        refused = await sender.send(BOT, Approve(idea.id))
        toggled = await sender.send(BOT, ToggleTightening())
        resumed = await sender.send(BOT, ResumeEntries())
    assert paused.ok and refused.status == "refused" and "entries are paused" in refused.message
    assert toggled.ok and toggled.message == "SL tightening off" and not bot.trading.current.enable_sl_tightening
    assert resumed.ok and not bot.trading.current.pause_entries
    assert orders_on_exchange(sim_of(bot), f"{BOT}-en-") == []


async def test_a_close_command_closes_that_part_of_the_position_and_a_flat_symbol_is_refused(
    bot: Runtime, sender: CommandSender, redis_url: str
) -> None:
    await bot.orders.place("BTCUSDT", Side.BUY, Decimal("0.010"))
    await wait_for(lambda: "BTCUSDT" in bot.engine.state.positions)
    async with receiving(redis_url, BOT, bot.backend):
        half = await sender.send(BOT, ClosePosition("BTCUSDT", 50))
        flat = await sender.send(BOT, ClosePosition("SOLUSDT"))
    assert half.ok and half.message.startswith(f"closing 50 % of BTCUSDT ({BOT}-mx-")
    assert flat.status == "refused" and flat.message == "no SOLUSDT position to close"
    sim = sim_of(bot)
    await wait_for(lambda: sim.engine.accounts[sim.api_key].positions["BTCUSDT"].size == Decimal("0.005"))


async def test_a_command_a_killed_bot_had_read_runs_once_when_it_restarts(
    bot: Runtime, sender: CommandSender, client: aioredis.Redis, redis_url: str
) -> None:
    idea = pending_ideas(bot)[0]
    answer = asyncio.create_task(sender.send(BOT, Approve(idea.id)))
    await client.xgroup_create(keys.commands(BOT), BOT, id="0", mkstream=True)
    taken: list[object] = []
    while not taken:  # the bot reads the entry, then is killed before it runs or acknowledges it
        taken = await client.xreadgroup(BOT, BOT, {keys.commands(BOT): ">"}, count=1, block=100)
    async with receiving(redis_url, BOT, bot.backend):  # the restart
        reply = await answer
    async with receiving(redis_url, BOT, bot.backend):  # and another: nothing pending is run again
        toggled = await sender.send(BOT, ToggleTightening())
    assert reply.ok and "executed" in reply.message and toggled.ok
    assert [a.ok for a in await acks_of(client, BOT)] == [True, True]
    assert bot.bot is not None
    link = bot.bot.recommendations[idea.id].order_link_id
    assert link is not None and [o.order_link_id for o in orders_on_exchange(sim_of(bot), f"{BOT}-en-")] == [link]
    assert await client.xpending(keys.commands(BOT), BOT) == {"pending": 0, "min": None, "max": None, "consumers": []}


async def test_a_command_that_was_running_when_the_bot_died_is_refused_not_run_twice(
    bot: Runtime, sender: CommandSender, client: aioredis.Redis, redis_url: str
) -> None:
    idea = pending_ideas(bot)[0]
    answer = asyncio.create_task(sender.send(BOT, Approve(idea.id)))
    await client.xgroup_create(keys.commands(BOT), BOT, id="0", mkstream=True)
    taken: list[list[object]] = []
    while not taken:
        taken = await client.xreadgroup(BOT, BOT, {keys.commands(BOT): ">"}, count=1, block=100)
    entry_id = taken[0][1][0][0]  # type: ignore[index]
    await client.hset(keys.command_claims(BOT), f"{keys.commands(BOT)} {entry_id}", "1")  # started, then killed
    async with receiving(redis_url, BOT, bot.backend):
        reply = await answer
    assert reply.status == "refused"
    assert reply.message == f"approve was running when bot {BOT} stopped; not run twice (check the account)"
    assert orders_on_exchange(sim_of(bot), f"{BOT}-en-") == []
    assert bot.bot is not None and bot.bot.recommendations[idea.id].status == RecommendationStatus.PENDING
    assert await client.hlen(keys.command_claims(BOT)) == 0
