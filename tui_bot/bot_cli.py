"""`tui-bot bot --bot-id ID --redis URL`: one trading bot, headless, taking its commands over Redis until stopped.

The bot runs the whole core in its process (its own streams and store, as `tui-bot listen` does) under its own id,
and a CommandReceiver on its backend: approvals, pause/resume, closes and panic reach it from any console.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from tui_bot.cli_types import redis_url
from tui_bot.config import BotSettings, Settings
from tui_bot.domain.validation import reason
from tui_bot.logs import configure_logging


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
    from tui_bot.runtime import database_shown, start_runtime

    bot_id = settings.bot.bot_id
    await ping(url)
    runtime = await start_runtime(settings, db_path)
    receiver = CommandReceiver(url, bot_id, runtime.backend)
    await receiver.start()
    recommendations = await publish_recommendations(url, bot_id, runtime.backend)
    print(
        f"bot {bot_id}: venue {runtime.backend.venue.label}, db {database_shown(settings, db_path)}, "
        f"commands from {keys.commands(bot_id)} and {keys.ALL_BOTS_COMMANDS}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await recommendations.stop()
        await receiver.stop()
        await runtime.close()
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
