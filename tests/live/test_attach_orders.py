"""Manual orders from the attached console: out through the venue's REST under the console's own id, its fills the
console's in the listener's store and Redis; TP/SL, amend, cancel and closing its own position without any bot."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.pilot import Pilot

from tests.core.conftest import sim_of, wait_for
from tests.live.commands_support import open_sizes, orders_on_exchange
from tests.live.conftest import Live
from tests.ui.conftest import WIDE, console_settings
from tests.ui.test_ticket_pilot import type_into
from tui_bot.attach_cli import opener
from tui_bot.config import ExchangeSettings, Settings
from tui_bot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.intents import AmendOrderIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.order_ids import parse_order_id
from tui_bot.live.attached_backend import CONSOLE_SENDER
from tui_bot.store import schema
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.partial_close import PartialCloseModal
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable

BTC = "BTCUSDT"


@contextlib.asynccontextmanager
async def keyed_console(
    live: Live, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TuiBotApp, Pilot[None]]]:
    """An attached console with the exchange's keys (its own order path), confirmations armed at once, running
    until BTCUSDT has a price; it exits at the end."""
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)
    settings = keyed_settings(live, tmp_path, monkeypatch)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_for(lambda: app.backend is not None and app.backend.last_price(BTC) is not None, timeout=8.0)
        yield app, pilot
        app.exit()


def keyed_settings(live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The console's settings on the listener's exchange as a venue reached by URL, with its API keys."""
    sim = sim_of(live.runtime)
    assert sim.urls is not None
    settings = console_settings(tmp_path)
    settings.exchange = ExchangeSettings(
        venue="custom", rest_url=sim.urls.rest, public_ws_url=sim.urls.public_ws, private_ws_url=sim.urls.private_ws
    )
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    return settings


async def stored_bots(live: Live, order_id: str) -> set[str]:
    """The bots the listener's store gives the fills of one order (the operators' fills view)."""
    await live.runtime.writer.flush()
    f = schema.fills.c
    async with live.runtime.conn.connect() as conn:
        return set((await conn.execute(select(f.bot).where(f.order_id == order_id))).scalars())


async def test_a_market_ticket_from_the_attached_console_goes_out_under_its_id_and_its_fill_is_the_consoles(
    live: Live, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = sim_of(live.runtime)
    async with keyed_console(live, redis_url, tmp_path, monkeypatch) as (app, pilot):
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, OrderFormModal))
        form = app.screen
        assert isinstance(form, OrderFormModal)
        await type_into(pilot, form, "symbol", BTC)
        await type_into(pilot, form, "qty", "0.010")
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await wait_for(lambda: len(orders_on_exchange(sim, f"{CONSOLE_SENDER}-")) == 1)
        sent = orders_on_exchange(sim, f"{CONSOLE_SENDER}-")[0]
        parsed = parse_order_id(sent.order_link_id)
        assert parsed is not None and parsed.bot == CONSOLE_SENDER
        await wait_for(lambda: sent.status is OrderStatus.FILLED)
        await wait_for(lambda: BTC in live.reader.bot_positions(CONSOLE_SENDER))  # the listener: the console's
        assert await stored_bots(live, sent.order_id) == {CONSOLE_SENDER}
        positions = app.query_one(PositionsTable)
        await wait_for(lambda: positions.has_row(BTC) and positions.cell(BTC, "bot") == CONSOLE_SENDER)
        take_profit = (sent.avg_price * Decimal("1.2")).quantize(Decimal(1))
        assert app.backend is not None
        await app.backend.set_trading_stop(TradingStopIntent(BTC, take_profit=take_profit))  # e's intent
        assert sim.engine.accounts[sim.api_key].positions[BTC].take_profit == take_profit
        health = app.query_one(HealthPanel)  # the console's own REST and public stream in health
        await wait_for(lambda: "rest" in health.lines and "public-1" in health.lines)
        await pilot.press("x")  # its own position: the console closes it itself (no bot runs under its id)
        await wait_for(lambda: isinstance(app.screen, PartialCloseModal))
        await pilot.press("3", "y")
        await wait_for(lambda: BTC not in open_sizes(sim))


async def test_the_attached_console_amends_its_resting_order_and_cancels_it_with_c(
    live: Live, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = sim_of(live.runtime)
    async with keyed_console(live, redis_url, tmp_path, monkeypatch) as (app, pilot):
        backend = app.backend
        assert backend is not None
        price = (backend.last_price(BTC) or Decimal(0)) * Decimal("0.9")
        limit = PlaceOrderIntent(
            BTC, Side.BUY, OrderType.LIMIT, Decimal("0.010"), price.quantize(Decimal(1)), time_in_force=TimeInForce.GTC
        )
        ack = await backend.place_order(limit)
        orders = app.query_one(OrdersTable)
        await wait_for(lambda: orders.has_row(ack.order_id))
        lower = limit.price - 1 if limit.price is not None else Decimal(0)
        await backend.amend_order(AmendOrderIntent(BTC, ack.order_id, ack.order_link_id, price=lower))  # A's intent
        amended = [o for o in orders_on_exchange(sim, f"{CONSOLE_SENDER}-") if o.order_id == ack.order_id]
        assert [o.price for o in amended] == [lower]
        orders.focus()
        orders.move_cursor(row=orders.get_row_index(ack.order_id))
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(lambda: not orders.has_row(ack.order_id))
        cancelled = [o for o in orders_on_exchange(sim, f"{CONSOLE_SENDER}-") if o.order_id == ack.order_id]
        assert [o.status for o in cancelled] == [OrderStatus.CANCELLED]
