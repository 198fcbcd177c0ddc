"""`tui-bot bot --bot-id ID --redis URL`: one trading bot, headless, taking its commands over Redis until stopped.

The bot runs the core in its process under its own id (its own store, public streams and orders) on the account as
the listener publishes it in Redis (start_headless: no private stream of its own; entries paused while the listener
is gone), and a CommandReceiver on its backend: approvals, pause/resume, closes and panic reach it from
any console.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import ValidationError

from tui_bot.cli_types import redis_url
from tui_bot.config import BotSettings, Settings
from tui_bot.domain.validation import reason
from tui_bot.logs import configure_logging

if TYPE_CHECKING:  # the core, Redis and the exchange load only for this command
    from tui_bot.live.bot_gates import FeedAnnouncer
    from tui_bot.live.reader import LiveState
    from tui_bot.live.redis_account_client import RedisAccountClient
    from tui_bot.runtime import Runtime


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `bot` command and its options."""
    bot = commands.add_parser(
        "bot", parents=[common], help="run one trading bot headless, taking commands over Redis, until interrupted"
    )
    bot.add_argument("--bot-id", required=True, type=_bot_id, help="this bot's id (orderLinkIds, Redis keys)")
    bot.add_argument("--redis", required=True, type=redis_url, metavar="URL", help="redis://HOST:PORT/DB")


def _bot_id(text: str) -> str:
    try:
        return BotSettings.model_validate({"bot_id": text}).bot_id
    except ValidationError as err:
        raise argparse.ArgumentTypeError("; ".join(reason(e) for e in err.errors())) from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until SIGINT/SIGTERM; logs go to [listen] log_file; a failure to start is one line, status 1."""
    from redis.exceptions import RedisError  # the core, Redis and the exchange load only for this command

    from tui_bot.exchange.errors import ExchangeError
    from tui_bot.live.commands_handlers import one_line
    from tui_bot.runtime import SetupError

    bot = settings.bot.model_copy(update={"bot_id": args.bot_id})
    settings = settings.model_copy(update={"bot": bot})
    configure_logging(settings.listen.log_file)
    try:
        asyncio.run(_serve(settings, args.db, args.redis))
    except (SetupError, ExchangeError, RedisError, OSError) as err:
        print(f"tui-bot bot: {one_line(err)}", file=sys.stderr)
        return 1
    return 0


async def _serve(settings: Settings, db_path: Path | None, url: str) -> None:
    from tui_bot.live import keys
    from tui_bot.live.commands_receiver import CommandReceiver
    from tui_bot.live.recs_publisher import publish_recommendations
    from tui_bot.runtime import database_shown

    bot_id = settings.bot.bot_id
    await ping(url)
    headless = await start_headless(settings, db_path, url)
    runtime = headless.runtime
    receiver = CommandReceiver(url, bot_id, runtime.backend)
    await receiver.start()
    recommendations = await publish_recommendations(url, bot_id, runtime.backend)
    print(
        f"bot {bot_id}: venue {runtime.backend.venue.label}, db {database_shown(settings, db_path)}, "
        f"commands from {keys.commands(bot_id)} and {keys.ALL_BOTS_COMMANDS}",
        flush=True,
    )
    headless.announcer.speak()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await recommendations.stop()
        await receiver.stop()
        await headless.close()
        print("stopped; store flushed.", flush=True)


async def ping(url: str) -> None:
    """Refuse to start without Redis (a running bot rides out its outages; a starting one says so at once)."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    from tui_bot.live.commands_handlers import one_line

    client = aioredis.Redis.from_url(url)
    try:
        await cast("Awaitable[bool]", client.ping())
    except (RedisError, OSError) as err:
        raise OSError(f"Redis does not answer ({one_line(err)})") from None
    finally:
        await client.aclose()


@dataclass(repr=False)
class HeadlessBot:
    """The bot's runtime, the live state it reads, the feed built on it and what announces the feed's outages."""

    runtime: Runtime
    live: LiveState
    feed: RedisAccountClient
    announcer: FeedAnnouncer

    async def close(self) -> None:
        """Stop the runtime (its feed with it), then the reader."""
        try:
            await self.runtime.close()
        finally:
            await self.live.close()


SNAPSHOT_WAIT_S = 5.0
"""How long a starting bot waits for the live state's first snapshot (which positions are its own to protect)."""


async def start_headless(
    settings: Settings, db_path: Path | None, url: str, *, live: LiveState | None = None, **runtime_options: bool
) -> HeadlessBot:
    """Follow the live state, start the runtime on it (no private stream of its own), gate entries by it and protect
    only the positions it says this bot holds."""
    from tui_bot.live.bot_gates import FeedAnnouncer, ListenerGates, OwnPositions
    from tui_bot.live.reader import LiveState
    from tui_bot.live.redis_account_client import RedisAccountClient
    from tui_bot.runtime import start_runtime

    reader = live or LiveState(url)
    announcer = FeedAnnouncer(settings.bot.bot_id)
    own = OwnPositions(reader, settings.bot.bot_id)
    follow = functools.partial(RedisAccountClient, live=reader, url=url, listeners=[announcer, own.feed])
    await reader.start()
    try:
        with contextlib.suppress(TimeoutError):  # without it, the feed says what is wrong once the runtime runs
            async with asyncio.timeout(SNAPSHOT_WAIT_S):
                await reader.ready.wait()  # restore R of the positions it holds: it must know which they are
        runtime = await start_runtime(settings, db_path, account_feed=follow, owns=own.owns, **runtime_options)
    except BaseException:
        with contextlib.suppress(Exception):
            await reader.close()
        raise
    runtime.engine.listeners.append(own.on_event)
    feed = runtime.engine.client
    assert isinstance(feed, RedisAccountClient), "start_runtime runs the core on the feed it was given"
    if runtime.bot is not None:
        runtime.bot.shared = ListenerGates(reader, feed, settings.bot.bot_id)
    return HeadlessBot(runtime, reader, feed, announcer)
