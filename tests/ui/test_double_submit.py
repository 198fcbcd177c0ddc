"""A key burst (double Enter, bounce, held key) must never send a request twice: every form answers once.

The form tests post the repeated key to the app in one go, so the second copy is already queued before the
first one has closed the modal — what a terminal delivers for a bounce. A confirm or settings key is handled by a
screen binding, which today's Textual drops once the screen is popped, so those tests fire the action twice
directly: the modal itself, not message timing, must guarantee one answer. Requests are counted at the exchange.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
from textual import events
from textual.widgets import Input

from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console, LocalConsole
from tests.ui.test_console_pilot import BTC, ORDER_CREATE, account, buy_with_keys, open_buy_form
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.leverage import LeverageModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.settings_screen import SettingsScreen
from tui_bot.ui.screens.tpsl import TpSlModal
from tui_bot.ui.widgets.positions import PositionsTable

SETTLE_S = 0.3
"""Anything sent reaches the loopback exchange well within this."""


def burst(app: LocalConsole, key: str, times: int = 2) -> None:
    """Queue the same key `times` times before the app gets to handle any of them."""
    for _ in range(times):
        app.post_message(events.Key(key, "\r" if key == "enter" else None))


def answer_twice(app: LocalConsole, action: str) -> None:
    """Run the open modal's action twice in a row, as two queued confirming events would."""
    modal = app.screen
    getattr(modal, action)()
    getattr(modal, action)()


def request_counts(app: LocalConsole) -> Counter[tuple[str, str]]:
    """The exchange's request counts so far: take them before the burst, then count only the requests after it."""
    assert app.runtime is not None
    return Counter(sim_of(app.runtime).limiter.requests)


def hits(app: LocalConsole, endpoint: str, since: Counter[tuple[str, str]]) -> int:
    """Requests the exchange received on this endpoint with our key since `since` (REST and trade WS alike)."""
    assert app.runtime is not None
    sim = sim_of(app.runtime)
    key = (sim.api_key, endpoint)
    return sim.limiter.requests[key] - since[key]


async def open_position(app: LocalConsole, pilot: object) -> None:
    await buy_with_keys(app, pilot, "0.01")  # type: ignore[arg-type]
    await wait_for(lambda: app.query_one(PositionsTable).has_row(BTC))
    await asyncio.sleep(SETTLE_S)


async def test_two_enters_in_one_burst_send_one_order_and_close_the_form(console: Console) -> None:
    async with console() as (app, pilot):
        await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        since = request_counts(app)
        burst(app, "enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await asyncio.sleep(SETTLE_S)
        await pilot.pause()
        orders = list(account(app).orders.values())
        assert [(o.side, o.order_type, o.qty) for o in orders] == [(Side.BUY, OrderType.MARKET, Decimal("0.01"))]
        assert hits(app, ORDER_CREATE, since) == 1
        assert len(app.screen_stack) == 1


@pytest.mark.parametrize(("key", "cancel_alls"), [("x", 0), ("X", 1)], ids=["close", "panic"])
async def test_confirming_a_close_twice_sends_one_close(console: Console, key: str, cancel_alls: int) -> None:
    async with console() as (app, pilot):
        await open_position(app, pilot)
        await pilot.press(key)
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        since = request_counts(app)
        answer_twice(app, "action_confirm")
        await wait_for(lambda: account(app).positions[BTC].size == 0)
        await asyncio.sleep(SETTLE_S)
        await pilot.pause()
        sells = [o for o in account(app).orders.values() if o.side is Side.SELL]
        assert len(sells) == 1 and hits(app, ORDER_CREATE, since) == 1
        assert hits(app, "/v5/order/cancel-all", since) == cancel_alls
        assert len(app.screen_stack) == 1


async def test_confirming_cancel_all_twice_sends_one_cancel_all(console: Console) -> None:
    async with console() as (app, pilot):
        rt = app.runtime
        assert rt is not None
        price = floor_to_step(
            rt.engine.state.tickers[BTC].last_price * Decimal("0.9"), rt.engine.state.instruments[BTC].tick_size
        )
        await rt.orders.place(BTC, Side.BUY, Decimal("0.01"), order_type=OrderType.LIMIT, price=price)
        await wait_for(lambda: len(rt.engine.state.open_orders) == 1)
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        since = request_counts(app)
        answer_twice(app, "action_confirm")
        await wait_for(lambda: all(o.status is OrderStatus.CANCELLED for o in account(app).orders.values()))
        await asyncio.sleep(SETTLE_S)
        await pilot.pause()
        assert hits(app, "/v5/order/cancel-all", since) == 1
        assert len(app.screen_stack) == 1


async def test_two_enters_on_tpsl_send_one_trading_stop(console: Console) -> None:
    async with console() as (app, pilot):
        await open_position(app, pilot)
        rt = app.runtime
        assert rt is not None
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, TpSlModal))
        inst = rt.engine.state.instruments[BTC]
        take_profit = floor_to_step(account(app).positions[BTC].entry_price * Decimal("1.2"), inst.tick_size)
        field = app.screen.query_one("#tp", Input)
        field.value = plain(take_profit)
        field.focus()
        await pilot.pause()
        since = request_counts(app)
        burst(app, "enter")
        await wait_for(lambda: account(app).positions[BTC].take_profit == take_profit)
        await asyncio.sleep(SETTLE_S)
        await pilot.pause()
        assert hits(app, "/v5/position/trading-stop", since) == 1
        assert len(app.screen_stack) == 1


async def test_two_enters_on_leverage_send_one_set_leverage(console: Console) -> None:
    async with console() as (app, pilot):
        rt = app.runtime
        assert rt is not None
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LeverageModal))
        modal = app.screen
        assert isinstance(modal, LeverageModal)
        wanted = modal.current.get(modal.symbol, Decimal("5")) + 1
        field = modal.query_one("#leverage", Input)
        field.value = plain(wanted)
        field.focus()
        await pilot.pause()
        since = request_counts(app)
        burst(app, "enter")
        await wait_for(lambda: hits(app, "/v5/position/set-leverage", since) >= 1)
        await asyncio.sleep(SETTLE_S)
        await pilot.pause()
        assert hits(app, "/v5/position/set-leverage", since) == 1
        assert len(app.screen_stack) == 1


async def test_saving_settings_twice_applies_once_and_closes(console: Console) -> None:
    async with console() as (app, pilot):
        rt = app.runtime
        assert rt is not None
        applied: list[Decimal] = []
        rt.trading.listeners.append(lambda s: applied.append(s.risk_percentage))
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#risk_percentage", Input)
        field.value = "2.5"
        await pilot.pause()
        answer_twice(app, "action_save")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        await pilot.pause()
        assert rt.trading.current.risk_percentage == Decimal("2.5") and applied == [Decimal("2.5")]
        assert len(app.screen_stack) == 1
