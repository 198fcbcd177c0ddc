"""What bots and consoles read: the listener's live state from Redis, a snapshot then every change, kept current.

Pub/sub delivers at most once, so the reader subscribes first, then reads the listener's seq and every key (the
snapshot), then applies only the changes with a newer seq; each change carries the whole new value of every key it
touches, so applying it after a snapshot that already saw it changes nothing. A lost connection means a new
subscription and a new snapshot; a change marked reset (the listener wrote everything again) means a new snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from redis.asyncio.client import PubSub

from tui_bot.core.tasks import cancel_and_wait
from tui_bot.domain.market import DayPnl
from tui_bot.domain.models import Order, Position, Wallet
from tui_bot.live import keys
from tui_bot.live.codec import ORDER_JSON, POSITION_JSON, WALLET_JSON, LivePosition, parse_day_pnl
from tui_bot.live.connection import REDIS_ERRORS, connect

log = logging.getLogger(__name__)

ChangeListener = Callable[[frozenset[str] | None], None]
"""Called after each change applied with the keys it touched (None: a new snapshot, everything may have changed)."""


class LiveState:
    """The listener's positions by bot, account positions, open orders, wallet, day PnL and heartbeat, from Redis."""

    def __init__(self, url: str, *, heartbeat_poll_s: float = 0.25, retry_s: float = 0.5) -> None:
        self._redis = connect(url, decode=True)
        self._subscriber = connect(url, decode=True, timeout_s=None)  # a quiet channel is no failure
        self.heartbeat_poll_s, self.retry_s = heartbeat_poll_s, retry_s
        self._positions: dict[str, dict[str, LivePosition]] = {}
        self._account: dict[str, Position] = {}
        self._orders: dict[str, Order] = {}
        self._wallet: Wallet | None = None
        self._day: DayPnl | None = None
        self._heartbeat_ms: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listeners: list[ChangeListener] = []
        self.seq = 0
        self.snapshots = 0
        self.connected = False
        self.ready = asyncio.Event()
        """Set once the first snapshot is in."""

    # -- reading ------------------------------------------------------------------------------------

    def positions(self) -> dict[str, dict[str, LivePosition]]:
        """bot -> symbol -> position, every bot with an open position."""
        return {bot: dict(held) for bot, held in self._positions.items() if held}

    def bot_positions(self, bot: str) -> dict[str, LivePosition]:
        return dict(self._positions.get(bot, {}))

    def account_positions(self) -> dict[str, Position]:
        """The account's positions as the exchange sees them (every bot's together)."""
        return dict(self._account)

    def open_orders(self) -> dict[str, Order]:
        return dict(self._orders)

    def wallet(self) -> Wallet | None:
        return self._wallet

    def day_pnl(self) -> DayPnl | None:
        """The account's realised PnL today as the listener last read it (None before it published one)."""
        return self._day

    @property
    def listener_alive(self) -> bool:
        """True while the listener's heartbeat key exists (it expires a TTL after the listener's last beat)."""
        return self._heartbeat_ms is not None

    def listener_age_ms(self, now_ms: int | None = None) -> int | None:
        """How long ago the listener last beat (None: its heartbeat is gone, or Redis is)."""
        if self._heartbeat_ms is None:
            return None
        return (now_ms if now_ms is not None else int(time.time() * 1000)) - self._heartbeat_ms

    # -- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Follow the changes and the heartbeat from now on (ready is set once the first snapshot is in)."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow(), name="live-reader"),
            loop.create_task(self._watch_heartbeat(), name="live-heartbeat"),
        ]

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)
        await self._redis.aclose()
        await self._subscriber.aclose()

    async def _follow(self) -> None:
        while True:
            try:
                async with self._subscriber.pubsub() as pubsub:
                    await self._subscribe(pubsub)
                    await self._snapshot()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            await self._apply(message["data"])
            except REDIS_ERRORS as err:
                if self.connected:
                    log.warning("live state: redis connection lost, subscribing again: %s", err)
            except Exception:  # a malformed key or message must not end the reader: logged, then a new snapshot
                log.exception("live state: reading failed, subscribing again")
            self.connected = False
            await asyncio.sleep(self.retry_s)

    async def _subscribe(self, pubsub: PubSub) -> None:
        """Subscribe and wait for Redis to confirm: only changes after this are sure to arrive."""
        await pubsub.subscribe(keys.CHANGES_CHANNEL)
        while True:
            reply = await pubsub.get_message(timeout=5.0)
            if reply is not None and reply["type"] == "subscribe":
                return

    async def _watch_heartbeat(self) -> None:
        while True:
            try:
                beat = await self._redis.get(keys.LISTENER_HEARTBEAT)
                self._heartbeat_ms = int(beat) if beat is not None else None
            except REDIS_ERRORS:
                self._heartbeat_ms = None
            await asyncio.sleep(self.heartbeat_poll_s)

    # -- snapshot and changes -----------------------------------------------------------------------

    async def _snapshot(self) -> None:
        """Read the seq first, then every key; changes after that seq are applied on top."""
        redis = self._redis
        seq = int(await redis.get(keys.LISTENER_SEQ) or 0)
        bots = sorted(await redis.smembers(keys.BOTS))  # type: ignore[misc]
        pipe = redis.pipeline(transaction=False)
        for bot in bots:
            pipe.smembers(keys.open_symbols(bot))
        held = [(bot, symbol) for bot, symbols in zip(bots, await pipe.execute(), strict=True) for symbol in symbols]
        pipe = redis.pipeline(transaction=False)
        for bot, symbol in held:
            pipe.hgetall(keys.position(bot, symbol))
        pipe.hgetall(keys.ACCOUNT_POSITIONS)
        pipe.hgetall(keys.ACCOUNT_ORDERS)
        pipe.get(keys.ACCOUNT_WALLET)
        pipe.get(keys.ACCOUNT_DAY_PNL)
        *hashes, account, orders, wallet, day = await pipe.execute()
        self._positions = {}
        for (bot, symbol), fields in zip(held, hashes, strict=True):
            self._put_position(bot, symbol, fields)
        self._account = {s: POSITION_JSON.validate_json(v) for s, v in account.items()}
        self._orders = {oid: ORDER_JSON.validate_json(v) for oid, v in orders.items()}
        self._wallet = WALLET_JSON.validate_json(wallet) if wallet else None
        self._day = parse_day_pnl(day) if day else None
        self.seq = seq
        self.snapshots += 1
        self.connected = True
        self.ready.set()
        self._tell(None)

    async def _apply(self, data: bytes | str) -> None:
        """One change message: skipped when the snapshot covers it, a new snapshot when it is a reset."""
        message = orjson.loads(data)
        seq = message["seq"]
        if seq <= self.seq:
            return
        if message.get("reset"):
            await self._snapshot()
            return
        touched = set()
        for change in message["changes"]:
            touched.add(change["key"])
            self._apply_change(change)
        self.seq = seq
        self._tell(frozenset(touched))

    def _apply_change(self, change: dict[str, Any]) -> None:
        key, value = change["key"], change.get("value")
        if key == keys.ACCOUNT_POSITIONS:
            _put_or_drop(self._account, change["field"], value and POSITION_JSON.validate_json(value))
        elif key == keys.ACCOUNT_ORDERS:
            _put_or_drop(self._orders, change["field"], value and ORDER_JSON.validate_json(value))
        elif key == keys.ACCOUNT_WALLET:
            self._wallet = WALLET_JSON.validate_json(value) if value else None
        elif key == keys.ACCOUNT_DAY_PNL:
            self._day = parse_day_pnl(value) if value else None
        elif (parsed := keys.parse_position(key)) is not None:
            bot, symbol = parsed
            if value is None:
                self._positions.get(bot, {}).pop(symbol, None)
            else:
                self._put_position(bot, symbol, value)

    def _put_position(self, bot: str, symbol: str, fields: dict[str, str]) -> None:
        if fields:  # an empty hash: the position closed between reading the sets and the hashes
            self._positions.setdefault(bot, {})[symbol] = LivePosition.parse(bot, symbol, fields)

    def _tell(self, touched: frozenset[str] | None) -> None:
        for listener in self.listeners:
            listener(touched)


def _put_or_drop(table: dict[str, Any], name: str, value: object) -> None:
    if value is None:
        table.pop(name, None)
    else:
        table[name] = value
