"""The attached console's header: equity at the listener's marks, the listener's day PnL, no tightening badge."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from textual.widgets import Static

from tests.core.conftest import sim_of, wait_for
from tests.golden import assert_matches_golden
from tests.live.conftest import Live, listener_on
from tests.redis_server import RedisServer
from tests.ui.conftest import WIDE, console_settings
from tui_bot.attach_cli import opener
from tui_bot.core.account_summary import account_summary
from tui_bot.domain.market import DayPnl
from tui_bot.live import keys
from tui_bot.live.codec import parse_day_pnl
from tui_bot.ui import format as fmt
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.widgets.header import HeaderBar

BOT = "tb1"
BTC = "BTCUSDT"


@pytest.fixture
async def still(tmp_path: Path, redis_url: str) -> AsyncIterator[Live]:
    """A listener publishing to Redis, as tests/live/conftest.py's, on an exchange whose prices move only when
    stepped (marks that hold still, so the console and the exchange can be compared figure for figure)."""
    async with listener_on(tmp_path, redis_url, autostep=False) as listener:
        yield listener


def header_text(app: TuiBotApp, part: str) -> str:
    return str(app.query_one(HeaderBar).query_one(f"#{part}", Static).content)


async def _exchange_equity(live: Live) -> Decimal:
    """The exchange's own wallet balance plus its positions' uPnL at its marks."""
    wallet = await live.rest.get("/v5/account/wallet-balance", {"accountType": "UNIFIED"})
    balance = Decimal(wallet["result"]["list"][0]["totalWalletBalance"])
    positions = await live.rest.get("/v5/position/list", {"category": "linear", "settleCoin": "USDT"})
    return balance + sum((Decimal(p["unrealisedPnl"]) for p in positions["result"]["list"]), Decimal(0))


async def test_after_a_fill_the_attached_header_shows_the_listeners_equity_and_day_pnl(
    still: Live, redis_url: str, tmp_path: Path
) -> None:
    live, sim = still, sim_of(still.runtime)
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(lambda: app.backend is not None and bool(app.query(HeaderBar)), timeout=6.0)
        await pilot.pause()
        await live.market(BTC, "Buy", "0.010", bot=BOT)
        await sim.step(3)  # the marks move off the fill price, then hold
        local = live.runtime.backend
        await wait_for(lambda: (d := local.day_pnl()).pending == 0 and d.net != 0, timeout=10)  # the log lists it
        await live.runtime.writer.flush()
        await wait_for(lambda: BTC in live.runtime.engine.state.positions)
        equity = await _exchange_equity(live)
        summary = account_summary(live.runtime.engine.state)
        assert summary is not None and summary.equity == equity  # the local console's figure is the exchange's
        shown = f"Eq {fmt.money(equity)}", f"uPnL {fmt.signed_money(summary.unrealised_pnl)}"
        day = f"Day {fmt.signed_money(local.day_pnl().net)}"
        await wait_for(lambda: (header_text(app, "hdr-equity"), header_text(app, "hdr-upnl")) == shown, timeout=10)
        await wait_for(lambda: header_text(app, "hdr-realised") == day, timeout=10)
    raw = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        value = await raw.get(keys.ACCOUNT_DAY_PNL)
    finally:
        await raw.aclose()
    assert value is not None
    assert_matches_golden(json.loads(value), "redis_day_pnl")
    assert parse_day_pnl(value) == local.day_pnl()


async def test_attached_before_the_listener_has_figures_the_header_shows_dashes_and_no_tightening(
    redis_url: str, tmp_path: Path
) -> None:
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "none.db"))  # no listener has run here
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(lambda: app.backend is not None and bool(app.query(HeaderBar)), timeout=6.0)
        await pilot.pause()
        assert header_text(app, "hdr-realised") == f"Day {fmt.DASH}"
        assert header_text(app, "hdr-equity") == f"Eq {fmt.DASH}"
        assert not app.query_one(HeaderBar).tightening_badge.display  # the bots' settings are not this console's


def _figure(day: DayPnl | None) -> tuple[object, ...] | None:
    """What a day figure says (not when it was last re-read unchanged)."""
    return None if day is None else (day.day_start_ms, day.net, day.gross, day.fees, day.funding, day.pending)


async def test_the_listeners_day_figure_reaches_the_reader_and_is_written_again_when_redis_lost_it(
    live: Live, redis_server: RedisServer
) -> None:
    local = live.runtime.backend
    day = local.day_pnl()
    assert day.as_of_ms  # the listener read the log as it started, before its publisher followed the bus
    await wait_for(lambda: live.reader.day_pnl() == day)
    await live.market(BTC, "Buy", "0.010", bot=BOT)
    await wait_for(lambda: (d := local.day_pnl()).pending == 0 and d.net != 0, timeout=10)
    await wait_for(lambda: _figure(live.reader.day_pnl()) == _figure(local.day_pnl()), timeout=10)
    snapshots = live.reader.snapshots
    redis_server.restart()  # comes back empty
    await wait_for(lambda: live.reader.snapshots > snapshots and live.reader.listener_alive, timeout=10)
    await wait_for(lambda: _figure(live.reader.day_pnl()) == _figure(local.day_pnl()), timeout=10)
