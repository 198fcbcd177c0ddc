"""What goes wrong around commands: malformed and stale entries, nobody listening, Redis away or restarted."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.core.conftest import fast_settings, wait_for
from tests.live.commands_support import PATIENT_S, acks_of, raw_entry, receiving
from tests.redis_server import RedisServer
from tui_bot.domain.metrics import wall_ms
from tui_bot.live import keys
from tui_bot.live.commands import Panic, PauseEntries, ToggleTightening
from tui_bot.live.commands_sender import CommandSender
from tui_bot.runtime import Runtime, start_runtime

BOT = "tb1"


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime (id tb1, no trading bot) on its embedded exchange."""
    rt = await start_runtime(fast_settings(), tmp_path / "core.db", trading_bot=False, protect=False)
    yield rt
    await rt.close()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield raw
    await raw.aclose()


async def test_malformed_and_stale_entries_are_refused_in_one_line_and_the_receiver_goes_on(
    core: Runtime, client: aioredis.Redis, redis_url: str
) -> None:
    stale = {"v": 1, "sender": "console", "sent_ms": wall_ms() - 60_000, "ttl_ms": 30_000}
    sender = CommandSender(redis_url, "console", timeout_s=PATIENT_S)
    async with receiving(redis_url, BOT, core.backend) as receiver:
        garbage = await client.xadd(keys.commands(BOT), raw_entry("approve it"))
        late = await client.xadd(keys.commands(BOT), raw_entry({**stale, "command": {"type": "pause_entries"}}))
        foreign = await client.xadd(keys.ALL_BOTS_COMMANDS, {"order": "sell everything"})
        reply = await sender.send(BOT, ToggleTightening())
        await wait_for(lambda: receiver.handled == 4)
    await sender.close()
    assert reply.ok and reply.message == "SL tightening off"
    answers = {(a.stream, a.entry): (a.ok, a.message) for a in await acks_of(client, BOT)}
    garbage, late, foreign = (
        (keys.commands(BOT), garbage),
        (keys.commands(BOT), late),
        (keys.ALL_BOTS_COMMANDS, foreign),
    )
    assert answers[garbage] == (False, "command is not JSON (Expecting value: line 1 column 1 (char 0))")
    assert answers[foreign] == (False, "no 'command' field (fields: order)")
    ok, message = answers[late]
    assert not ok and message.startswith("stale: pause_entries sent 60.") and message.endswith("(TTL 30 s); not run")
    assert not core.trading.current.pause_entries


async def test_a_command_nobody_receives_times_out_and_says_so(redis_url: str) -> None:
    sender = CommandSender(redis_url, "console", timeout_s=0.3)
    reply = await sender.send("ghost", Panic())
    await sender.close()
    assert (reply.status, reply.line()) == ("no_answer", "no answer from bot ghost in 0.3 s")


async def test_a_command_redis_refuses_is_unsent_in_one_line() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    sender = CommandSender(f"redis://127.0.0.1:{port}/0", "console", timeout_s=0.3)
    reply = await sender.send("tb1", PauseEntries())
    await sender.close()
    assert reply.status == "unsent" and reply.message.startswith("pause_entries for bot tb1 not sent: Redis failed (")
    assert "\n" not in reply.message


async def test_the_bot_keeps_its_heartbeat_alive_registers_and_drops_it_when_stopped(
    core: Runtime, client: aioredis.Redis, redis_url: str
) -> None:
    async with receiving(redis_url, BOT, core.backend):
        while not await client.exists(keys.bot_heartbeat(BOT)):
            await asyncio.sleep(0.02)
        beat = int(await client.get(keys.bot_heartbeat(BOT)))
        assert abs(beat - wall_ms()) < 60_000 and 0 < await client.pttl(keys.bot_heartbeat(BOT)) <= 2_000
        assert await client.sismember(keys.BOTS, BOT)
    assert not await client.exists(keys.bot_heartbeat(BOT))


async def test_a_receiver_answers_again_after_redis_restarted_under_it(
    core: Runtime, redis_server: RedisServer, redis_url: str
) -> None:
    sender = CommandSender(redis_url, "console", timeout_s=PATIENT_S)
    async with receiving(redis_url, BOT, core.backend):
        first = await sender.send(BOT, ToggleTightening())
        redis_server.restart()  # every key is gone: streams, groups, acks
        second = await sender.send(BOT, ToggleTightening())
    await sender.close()
    assert (first.message, second.message) == ("SL tightening off", "SL tightening on")


async def test_a_new_bot_runs_no_panic_sent_before_it_joined_but_what_was_sent_to_it_alone(
    core: Runtime, client: aioredis.Redis, redis_url: str
) -> None:
    fresh = {"v": 1, "sender": "console", "sent_ms": wall_ms(), "ttl_ms": 30_000}
    await client.xadd(keys.ALL_BOTS_COMMANDS, raw_entry({**fresh, "command": {"type": "panic"}}))
    early = await client.xadd(keys.commands(BOT), raw_entry({**fresh, "command": {"type": "pause_entries"}}))
    sender = CommandSender(redis_url, "console", timeout_s=PATIENT_S)
    async with receiving(redis_url, BOT, core.backend):
        replies = [await sender.send(BOT, ToggleTightening()) for _ in range(2)]  # the second after any first batch
    await sender.close()
    assert [r.message for r in replies] == ["SL tightening off", "SL tightening on"]
    answered = [(a.stream, a.entry, a.ok) for a in await acks_of(client, BOT)]
    assert answered[0] == (keys.commands(BOT), early, True) and len(answered) == 3
    assert {stream for stream, _, _ in answered} == {keys.commands(BOT)}
    assert core.trading.current.pause_entries
