"""One write of live state: the Redis commands of a change and the change message readers apply, built together."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio.client import Pipeline

from tui_bot.domain.market import DayPnl
from tui_bot.domain.models import Execution, Order, Position, Wallet
from tui_bot.live import keys
from tui_bot.live.codec import LivePosition, day_pnl_json, fill_fields, order_json, position_json, wallet_json

ADD_FILL = """
if redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[3]) - 1)
return 1
"""
"""Add a fill to the capped stream unless its exec id is there already (ids kept as many as entries, newest)."""


class WriteBatch:
    """Commands queued on a MULTI/EXEC pipeline plus the change entries its PUBLISH carries."""

    def __init__(self, pipe: Pipeline, fill_sha: str, fills_max: int) -> None:
        self.pipe = pipe
        self.changes: list[dict[str, Any]] = []
        self._fill_sha = fill_sha
        self._fills_max = fills_max

    def put_position(self, live: LivePosition, pos: Position, *, listed: bool) -> None:
        """A bot's position hash and the account's position; unless listed (written under this bot before, sets
        unchanged since), the symbol into the bot's set and the bot into the bot set."""
        key = keys.position(live.bot, live.symbol)
        fields = live.fields()
        self.pipe.hset(key, mapping=fields)
        if not listed:
            self.pipe.sadd(keys.open_symbols(live.bot), live.symbol)
            self.pipe.sadd(keys.BOTS, live.bot)
        self.changes.append({"key": key, "value": fields})
        self.put_account_position(pos)

    def put_account_position(self, pos: Position) -> None:
        text = position_json(pos)
        self.pipe.hset(keys.ACCOUNT_POSITIONS, pos.symbol, text)
        self.changes.append({"key": keys.ACCOUNT_POSITIONS, "field": pos.symbol, "value": text})

    def drop_position(self, bot: str, symbol: str) -> None:
        """bot no longer holds symbol (closed, or now another bot's)."""
        key = keys.position(bot, symbol)
        self.pipe.delete(key)
        self.pipe.srem(keys.open_symbols(bot), symbol)
        self.changes.append({"key": key, "value": None})

    def drop_account_position(self, symbol: str) -> None:
        self.pipe.hdel(keys.ACCOUNT_POSITIONS, symbol)
        self.changes.append({"key": keys.ACCOUNT_POSITIONS, "field": symbol, "value": None})

    def put_order(self, order: Order) -> None:
        text = order_json(order)
        self.pipe.hset(keys.ACCOUNT_ORDERS, order.order_id, text)
        self.changes.append({"key": keys.ACCOUNT_ORDERS, "field": order.order_id, "value": text})

    def drop_order(self, order_id: str) -> None:
        self.pipe.hdel(keys.ACCOUNT_ORDERS, order_id)
        self.changes.append({"key": keys.ACCOUNT_ORDERS, "field": order_id, "value": None})

    def put_wallet(self, wallet: Wallet) -> None:
        text = wallet_json(wallet)
        self.pipe.set(keys.ACCOUNT_WALLET, text)
        self.changes.append({"key": keys.ACCOUNT_WALLET, "value": text})

    def put_day_pnl(self, day: DayPnl) -> None:
        text = day_pnl_json(day)
        self.pipe.set(keys.ACCOUNT_DAY_PNL, text)
        self.changes.append({"key": keys.ACCOUNT_DAY_PNL, "value": text})

    def add_fill(self, bot: str, execution: Execution) -> None:
        """The fill into the stream, once per exec id however often it is added."""
        flat = [item for pair in fill_fields(bot, execution).items() for item in pair]
        args: list[str | int] = [execution.exec_id, execution.exec_time, self._fills_max, *flat]
        self.pipe.evalsha(self._fill_sha, 2, keys.FILLS_STREAM, keys.FILL_IDS, *args)
        self.changes.append({"key": keys.FILLS_STREAM, "field": execution.exec_id})

    def heartbeat(self, now_ms: int, ttl_ms: int) -> None:
        self.pipe.set(keys.LISTENER_HEARTBEAT, now_ms, px=ttl_ms)

    def finish(self, seq: int, *, reset: bool = False) -> int:
        """Stamp seq and PUBLISH the change (reset: readers take a new snapshot); returns the index of the
        previous seq in the EXEC result (None there: Redis lost its keys since the last write)."""
        index = len(self.pipe.command_stack)
        self.pipe.set(keys.LISTENER_SEQ, seq, get=True)
        message: dict[str, Any] = {"seq": seq, "reset": True} if reset else {"seq": seq, "changes": self.changes}
        self.pipe.publish(keys.CHANGES_CHANNEL, orjson.dumps(message))
        return index
