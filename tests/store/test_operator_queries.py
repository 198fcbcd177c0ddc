"""The operators' views and the README's "PnL by close reason per bot" SQL, on both backends, after real trading on
the embedded exchange: per trade and per (bot, close reason) they agree with the exchange's own closed PnL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from tests.conftest import SignedRest
from tests.core.conftest import fast_settings, sim_of, wait_for
from tests.core.test_resilience import settled
from tui_bot.config import StorageSettings
from tui_bot.domain.enums import Side
from tui_bot.domain.models import ClosedPnl
from tui_bot.domain.numbers import floor_to_step
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.exchange.bybit.parse import closed_pnl_from_rest
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.store import schema
from tui_bot.store.db import Database
from tui_bot.store.migrate import MIGRATIONS
from tui_bot.store.stats_queries import PNL_BY_CLOSE_REASON, closed_trade_pnls, pnl_by_close_reason

BTC = "BTCUSDT"
QTY = Decimal("0.010")
README = Path(__file__).resolve().parents[2] / "README.md"
EIGHT_PLACES = Decimal("0.00000001")


@pytest.fixture
async def trading(db_url: str) -> AsyncIterator[Runtime]:
    """A runtime on the embedded exchange whose store is the database at db_url."""
    settings = fast_settings()
    settings.storage = StorageSettings(url=SecretStr(db_url))
    rt = await start_runtime(settings)
    yield rt
    await rt.close()


def last_price(rt: Runtime) -> Decimal:
    return sim_of(rt).engine.markets[BTC].last_price


def move_market(rt: Runtime, price: Decimal) -> None:
    sim = sim_of(rt)
    sim.engine.markets[BTC].set_price(price, sim.clock.now_ms())


async def open_long(
    rt: Runtime, bot: str, take_profit: Decimal | None = None, stop_loss: Decimal | None = None
) -> None:
    """Bot buys QTY at market (its orderLinkId carries the bot), with the TP/SL legs given."""
    rt.orders.ids = OrderIdFactory(bot)
    await rt.orders.place(BTC, Side.BUY, QTY, reason=OrderReason.ENTRY, take_profit=take_profit, stop_loss=stop_loss)
    await wait_for(lambda: BTC in rt.backend.positions())


async def flat(rt: Runtime) -> None:
    await wait_for(lambda: BTC not in rt.backend.positions())


async def close_by(rt: Runtime, bot: str, reason: str) -> Decimal | None:
    """Open a long for bot and close it by reason: its take profit, its stop loss or a manual exit; its stop."""
    tick = rt.engine.state.instruments[BTC].tick_size
    last = last_price(rt)
    stop = None
    if reason == "take_profit":
        target = floor_to_step(last * Decimal("1.005"), tick)
        await open_long(rt, bot, take_profit=target)
        move_market(rt, floor_to_step(target * Decimal("1.005"), tick))  # past any random step back
    elif reason == "stop_loss":
        stop = floor_to_step(last * Decimal("0.995"), tick)
        await open_long(rt, bot, stop_loss=stop)
        move_market(rt, floor_to_step(stop * Decimal("0.995"), tick))
    else:
        stop = floor_to_step(last * Decimal("0.98"), tick)
        await open_long(rt, bot, stop_loss=stop)
        await rt.orders.place(BTC, Side.SELL, QTY, reduce_only=True, reason=OrderReason.MANUAL_EXIT)
    await flat(rt)
    return stop


async def exchange_closed_pnl(rt: Runtime) -> list[ClosedPnl]:
    """GET /v5/position/closed-pnl (signed, over loopback), oldest first."""
    sim = sim_of(rt)
    assert sim.urls is not None
    rest = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    try:
        body = await rest.get("/v5/position/closed-pnl", {"category": "linear", "symbol": BTC, "limit": 100})
    finally:
        await rest.close()
    assert body["retCode"] == 0, body
    return sorted(map(closed_pnl_from_rest, body["result"]["list"]), key=lambda c: c.updated_time)


@dataclass(frozen=True, slots=True)
class Expected:
    trades: int
    wins: int
    total: Decimal


def expected_groups(plan: list[tuple[str, str]], records: list[ClosedPnl]) -> dict[tuple[str, str], Expected]:
    """The exchange's closed PnL summed per (bot, close reason) of the plan, in plan order."""
    groups: dict[tuple[str, str], Expected] = {}
    for key, record in zip(plan, records, strict=True):
        old = groups.get(key, Expected(0, 0, Decimal(0)))
        groups[key] = Expected(old.trades + 1, old.wins + (record.closed_pnl > 0), old.total + record.closed_pnl)
    return groups


def money(value: Any) -> Decimal:
    """A sum from the SQL: exact NUMERIC on PostgreSQL; SQLite's REAL rounded to the exchange's 8 places."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(EIGHT_PLACES)


PLAN = [
    ("b1", "take_profit"),
    ("b1", "stop_loss"),
    ("b2", "manual_exit"),
    ("b2", "take_profit"),
    ("b1", "take_profit"),
]


async def test_the_readme_sql_matches_the_exchanges_closed_pnl_per_bot_and_reason(trading: Runtime) -> None:
    await settled(trading)
    stops = [await close_by(trading, bot, reason) for bot, reason in PLAN]
    await trading.writer.flush()
    records = await exchange_closed_pnl(trading)
    assert len(records) == len(PLAN)

    trades = await closed_trade_pnls(trading.conn)
    assert [(t.bot, t.close_reason) for t in trades] == PLAN
    assert [t.net_pnl for t in trades] == [c.closed_pnl for c in records]  # net of both fees, exactly
    for trade, record, stop in zip(trades, records, stops, strict=True):  # R from the entry's stop, if it had one
        if stop is None:
            assert trade.r is None
        else:
            r = record.closed_pnl / ((record.avg_entry_price - stop) * record.closed_size)
            assert trade.r is not None and trade.r.quantize(EIGHT_PLACES) == r.quantize(EIGHT_PLACES)

    assert await closing_reasons(trading) == [reason for _, reason in PLAN]
    assert await fill_fees(trading) == sum((c.open_fee + c.close_fee for c in records), Decimal(0))

    rows = {(row["bot"], row["close_reason"]): row for row in await pnl_by_close_reason(trading.conn)}
    expected = expected_groups(PLAN, records)
    assert rows.keys() == expected.keys()
    for key, want in expected.items():
        row = rows[key]
        assert (row["trades"], row["wins"]) == (want.trades, want.wins), key
        assert money(row["total_pnl"]) == want.total, key
        assert money(row["avg_pnl"]).quantize(EIGHT_PLACES) == (want.total / want.trades).quantize(EIGHT_PLACES)
        assert Decimal(str(row["win_rate"])).quantize(EIGHT_PLACES) == (Decimal(want.wins) / want.trades).quantize(
            EIGHT_PLACES
        )


async def closing_reasons(rt: Runtime) -> list[str]:
    """The close reason of each order whose fills closed something, in fill order (from the fills view)."""
    f = schema.fills.c
    async with rt.conn.connect() as conn:
        rows = (await conn.execute(select(f.order_id, f.close_reason).order_by(f.exec_time, f.id))).all()
    by_order = {order_id: reason for order_id, reason in rows if reason is not None}
    return list(by_order.values())


async def fill_fees(rt: Runtime) -> Decimal:
    """The fees of every fill in the fills view, summed in Decimal."""
    async with rt.conn.connect() as conn:
        return sum((await conn.execute(select(schema.fills.c.fee))).scalars(), Decimal(0))


async def _names(db: Database) -> tuple[set[str], set[str]]:
    """The views and the indexes of the database."""

    def read(conn: Connection) -> tuple[set[str], set[str]]:
        inspector = inspect(conn)
        indexes = {i["name"] for table in ("trades", "executions") for i in inspector.get_indexes(table)}
        return set(inspector.get_view_names()), {name for name in indexes if name}

    async with db.connect() as conn:
        return await conn.run_sync(read)


def _alembic(conn: Connection, step: str, target: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    getattr(command, step)(config, target)


async def test_revision_0006_creates_and_drops_the_views_and_their_indexes(conn: Database) -> None:
    added = {"executions_bot_time", "executions_reason_time", "executions_time", "trades_bot_reason"}
    added |= {"trades_exit_reason", "trades_exit_time"}
    views, indexes = await _names(conn)
    assert views == set(schema.VIEWS) and added <= indexes
    async with conn.connect_for_writes() as c, c.begin():
        await c.run_sync(_alembic, "downgrade", "0005")
    views, indexes = await _names(conn)
    assert views == set() and not added & indexes
    async with conn.connect_for_writes() as c, c.begin():
        await c.run_sync(_alembic, "upgrade", "head")
    assert await _names(conn) == (set(schema.VIEWS), indexes | added)


def test_the_readme_shows_the_sql_the_test_runs() -> None:
    assert f"```sql\n{PNL_BY_CLOSE_REASON}\n```" in README.read_text(encoding="utf-8")
