"""What the command-stream tests share: quick receiver timings, a receiver's life as a context, the exchange's view."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.live import keys
from tui_bot.live.commands import Ack, decode_ack
from tui_bot.live.commands_receiver import CommandReceiver, ReceiverOptions
from tui_bot.sim.records import SimOrder
from tui_bot.sim.server import SimExchange

QUICK = ReceiverOptions(heartbeat_s=0.2, heartbeat_ttl_s=2.0, block_ms=200, retry_s=0.1)
PATIENT_S = 20.0
"""A sender's timeout where an answer is expected: it returns as soon as the answer comes."""


@asynccontextmanager
async def receiving(url: str, bot: str, backend: ConsoleBackend) -> AsyncIterator[CommandReceiver]:
    """A started receiver for bot over backend, stopped on the way out."""
    receiver = CommandReceiver(url, bot, backend, QUICK)
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


async def acks_of(client: aioredis.Redis, bot: str) -> list[Ack]:
    """Every acknowledgement bot has written, oldest first."""
    return [decode_ack(fields) for _, fields in await client.xrange(keys.acks(bot))]


def orders_on_exchange(sim: SimExchange, link_prefix: str = "") -> list[SimOrder]:
    """The orders the exchange holds for the account (any status) whose orderLinkId starts with link_prefix."""
    account = sim.engine.accounts[sim.api_key]
    return [o for o in account.orders.values() if o.order_link_id.startswith(link_prefix)]


def open_sizes(sim: SimExchange) -> dict[str, str]:
    """The account's open positions on the exchange: symbol -> size."""
    account = sim.engine.accounts[sim.api_key]
    return {s: str(p.size) for s, p in account.positions.items() if p.size}


def raw_entry(payload: object) -> dict[str, str]:
    """A command entry's fields holding payload as JSON (or as it is, when a string)."""
    return {"command": payload if isinstance(payload, str) else json.dumps(payload)}
