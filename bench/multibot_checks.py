"""What the multi-bot scenario checks at its end: the exchange's account (its fills attributed to bots, its orders)
against the listener's Redis keys and PostgreSQL rows, and `tui-bot stats` against the attached console.

Every figure is read from where the system keeps it (REST over signed loopback, Redis, PostgreSQL, the console's
widgets); the exchange is the truth each of the others is compared with.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
import redis.asyncio as aioredis

from tests.conftest import SignedRest
from tests.pg_server import PgServer
from tui_bot.domain.enums import ExecType, Side
from tui_bot.domain.models import Execution
from tui_bot.domain.order_ids import OrderReason, parse_order_id
from tui_bot.exchange.bybit.parse_rest import execution_from_rest
from tui_bot.live import keys
from tui_bot.store.attribution import EXTERNAL, attribute_execution

ZERO = Decimal(0)
BotSymbol = tuple[str, str]


class ExchangeRest(SignedRest):
    """Signed REST on an exchange whose clock runs skew_ms ahead of ours: it signs with the exchange's time."""

    skew_ms = 0

    def sign_headers(self, payload: str, *, timestamp: int | None = None, **sign: Any) -> dict[str, str]:
        now = timestamp if timestamp is not None else time.time_ns() // 1_000_000 + self.skew_ms
        return super().sign_headers(payload, timestamp=now, **sign)


async def _paged(rest: SignedRest, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row a v5 list endpoint pages out."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = {"category": "linear", "limit": 50, **params, **({"cursor": cursor} if cursor else {})}
        result = (await rest.get(path, query))["result"]
        rows += result["list"]
        cursor = result.get("nextPageCursor", "")
        if not cursor:
            return rows


async def exchange_executions(rest: SignedRest) -> list[Execution]:
    """The account's executions on the exchange, oldest first."""
    rows = await _paged(rest, "/v5/execution/list", {"limit": 100})
    return sorted(map(execution_from_rest, rows), key=lambda e: (e.exec_time, e.seq, e.exec_id))


async def exchange_orders(rest: SignedRest) -> list[dict[str, Any]]:
    """Every order the exchange knows for the account (history and open), once each by orderId."""
    rows = await _paged(rest, "/v5/order/history", {})
    rows += await _paged(rest, "/v5/order/realtime", {"settleCoin": "USDT"})
    return list({row["orderId"]: row for row in rows}.values())


async def exchange_positions(rest: SignedRest) -> dict[str, Decimal]:
    """The account's open positions: symbol -> signed size."""
    rows = await _paged(rest, "/v5/position/list", {"settleCoin": "USDT"})
    return {r["symbol"]: _signed(r["side"], Decimal(r["size"])) for r in rows if Decimal(r["size"] or 0)}


def _signed(side: str, size: Decimal) -> Decimal:
    return size if side == Side.BUY.value else -size


@dataclass(slots=True)
class Attributed:
    """The account's fills walked in order: each fill's bot, and every bot's position per symbol."""

    bot_of: dict[str, str] = field(default_factory=dict)
    positions: dict[BotSymbol, Decimal] = field(default_factory=dict)
    holder: dict[str, str] = field(default_factory=dict)

    def apply(self, execution: Execution) -> None:
        """One fill: its bot by the store's rule (the holder owns the exchange's own orders), then the size."""
        bot = attribute_execution(execution, self.holder.get).bot
        self.bot_of[execution.exec_id] = bot
        if execution.exec_type is ExecType.FUNDING:
            return
        key = (bot, execution.symbol)
        size = self.positions.get(key, ZERO) + _signed(execution.side.value, execution.exec_qty)
        self.positions[key] = size
        if size:
            self.holder.setdefault(execution.symbol, bot)
        elif self.holder.get(execution.symbol) == bot:
            del self.holder[execution.symbol]

    def open_positions(self) -> dict[BotSymbol, Decimal]:
        return {key: size for key, size in self.positions.items() if size}


def attribute(executions: Iterable[Execution]) -> Attributed:
    """Every fill attributed in order (tui_bot/store/attribution.py's rule)."""
    walked = Attributed()
    for execution in executions:
        walked.apply(execution)
    return walked


async def redis_positions(url: str) -> dict[BotSymbol, Decimal]:
    """Every bot's open position as the listener published it: (bot, symbol) -> signed size."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        found: dict[BotSymbol, Decimal] = {}
        async for key in client.scan_iter(match="*:position:*"):
            parsed = keys.parse_position(key)
            fields = await client.hgetall(key)  # type: ignore[misc]
            if parsed is not None and fields and Decimal(fields.get("size") or 0):
                found[parsed] = _signed(fields["side"], Decimal(fields["size"]))
        return found
    finally:
        await client.aclose()


def stored_fills(pg: PgServer, database: str) -> list[tuple[str, str | None]]:
    """(exec id, bot) of every row of the listener's fills in PostgreSQL."""
    with psycopg.connect(host=str(pg.dir), port=pg.port, user="tui", dbname=database) as conn:
        return [(row[0], row[1]) for row in conn.execute("SELECT exec_id, bot FROM executions")]


def duplicate_intents(orders: list[dict[str, Any]], executions: list[Execution]) -> list[str]:
    """Entry orders sent while the same bot already held the symbol from an earlier entry: one idea sent twice.

    The gates never let an entry through for a symbol with a position or an entry order in it, so a second entry
    order of the same bot there (a restarted bot re-sending what it had sent before it died) is a duplicate.
    """
    walked = Attributed()
    pending = iter(executions)
    upcoming = next(pending, None)
    duplicates: list[str] = []
    for order in sorted(orders, key=lambda o: int(o["createdTime"])):
        while upcoming is not None and upcoming.exec_time < int(order["createdTime"]):
            walked.apply(upcoming)
            upcoming = next(pending, None)
        parsed = parse_order_id(order["orderLinkId"])
        entry = parsed is not None and parsed.reason is OrderReason.ENTRY
        if entry and parsed is not None and walked.positions.get((parsed.bot, order["symbol"]), ZERO):
            duplicates.append(order["orderLinkId"])
    return duplicates


@dataclass(frozen=True, slots=True)
class Comparison:
    """The exchange against Redis, PostgreSQL and its own order list, at the end of the scenario."""

    fills_per_bot: dict[str, int]
    exchange_positions: dict[BotSymbol, Decimal]
    redis_positions: dict[BotSymbol, Decimal]
    account_matches: bool
    exchange_fills: int
    stored_fills: int
    missing: int
    duplicated: int
    unknown: int
    misattributed: int
    orders: int
    duplicate_links: int
    duplicate_intents: list[str]

    @property
    def clean(self) -> bool:
        return (
            self.exchange_positions == self.redis_positions
            and self.account_matches
            and (self.missing, self.duplicated, self.unknown, self.misattributed) == (0, 0, 0, 0)
            and self.duplicate_links == 0
            and not self.duplicate_intents
        )

    def lines(self) -> list[str]:
        fills = ", ".join(f"{bot} {n}" for bot, n in sorted(self.fills_per_bot.items()))
        shown = ", ".join(f"{bot}:{symbol} {size}" for (bot, symbol), size in sorted(self.exchange_positions.items()))
        same = "equal" if self.exchange_positions == self.redis_positions else f"DIFFER (Redis {self.redis_positions})"
        return [
            f"exchange: {self.exchange_fills} fills ({fills}), {self.orders} orders, "
            f"{self.duplicate_links} orderLinkIds used twice, {len(self.duplicate_intents)} entries sent twice",
            f"positions by bot from the exchange's fills: {shown or 'none'}; Redis: {same}; "
            f"their sum {'is' if self.account_matches else 'is NOT'} the exchange's position list",
            f"PostgreSQL fills: {self.stored_fills} rows, {self.missing} missing, {self.duplicated} duplicated, "
            f"{self.unknown} unknown, {self.misattributed} with another bot than the exchange's fills give",
        ]


def _summed(positions: dict[BotSymbol, Decimal]) -> dict[str, Decimal]:
    by_symbol: dict[str, Decimal] = {}
    for (_, symbol), size in positions.items():
        by_symbol[symbol] = by_symbol.get(symbol, ZERO) + size
    return {symbol: size for symbol, size in by_symbol.items() if size}


async def compare(rest: SignedRest, redis_url: str, pg: PgServer, database: str) -> Comparison:
    """Read the exchange, Redis and PostgreSQL once and set them side by side."""
    executions = await exchange_executions(rest)
    orders = await exchange_orders(rest)
    walked = attribute(executions)
    stored = stored_fills(pg, database)
    stored_ids = [exec_id for exec_id, _ in stored]
    listed = set(walked.bot_of)
    links = Counter(o["orderLinkId"] for o in orders if o["orderLinkId"])
    traded = Counter(walked.bot_of[e.exec_id] for e in executions if e.exec_type is not ExecType.FUNDING)
    return Comparison(
        fills_per_bot={bot: n for bot, n in traded.items() if bot != EXTERNAL},
        exchange_positions=walked.open_positions(),
        redis_positions=await redis_positions(redis_url),
        account_matches=_summed(walked.open_positions()) == await exchange_positions(rest),
        exchange_fills=len(executions),
        stored_fills=len(stored),
        missing=len(listed - set(stored_ids)),
        duplicated=len(stored_ids) - len(set(stored_ids)),
        unknown=len(set(stored_ids) - listed),
        misattributed=sum(1 for exec_id, bot in stored if exec_id in listed and bot != walked.bot_of[exec_id]),
        orders=len(orders),
        duplicate_links=sum(1 for n in links.values() if n > 1),
        duplicate_intents=duplicate_intents(orders, executions),
    )
