"""Amending an order (A), closing part of a position (x, then 1/2/3), against the embedded exchange by keys."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Input, Static

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, LocalConsole
from tests.ui.test_console_pilot import account, number
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.ui.screens.amend import AmendModal
from tui_bot.ui.screens.partial_close import PartialCloseModal
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable

BTC = "BTCUSDT"


def notes(app: LocalConsole) -> list[str]:
    """Every notification the console has shown (toasts of any screen)."""
    return [str(n.message) for n in app._notifications]


async def resting_limit_buy(app: LocalConsole) -> tuple[str, Decimal, Decimal]:
    """A limit buy of 0.010 BTC 10 % under the market, listed in Orders: its id, price and the tick."""
    assert app.runtime is not None and app.backend is not None
    inst = app.runtime.engine.state.instruments[BTC]
    last = app.runtime.engine.state.last_price(BTC)
    assert last is not None
    price = floor_to_step(last * Decimal("0.9"), inst.tick_size)
    ack = await app.backend.place_order(PlaceOrderIntent(BTC, Side.BUY, OrderType.LIMIT, Decimal("0.010"), price))
    await wait_for(lambda: app.query_one(OrdersTable).has_row(ack.order_id))
    return ack.order_id, price, inst.tick_size


async def test_a_on_the_positions_take_profit_points_to_e_and_opens_no_amend(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.backend is not None and app.runtime is not None
        last = app.runtime.engine.state.last_price(BTC)
        assert last is not None
        take_profit = floor_to_step(last * Decimal("1.05"), Decimal("0.10"))
        intent = PlaceOrderIntent(BTC, Side.BUY, OrderType.MARKET, Decimal("0.010"), take_profit=take_profit)
        await app.backend.place_order(intent)
        orders = app.query_one(OrdersTable)
        await wait_for(lambda: len(orders.keys()) == 1)
        orders.focus()
        await pilot.pause()
        await pilot.press("A")
        await pilot.pause()
        assert not isinstance(app.screen, AmendModal)
        assert any("BTCUSDT position's TP/SL: press e to change it" in text for text in notes(app))


async def test_a_amends_price_and_qty_of_the_focused_order_at_the_exchange_and_in_the_table(console: Console) -> None:
    async with console() as (app, pilot):
        order_id, price, tick = await resting_limit_buy(app)
        orders = app.query_one(OrdersTable)
        await pilot.press("A")  # Orders has no focus: nothing opens
        await pilot.pause()
        assert not isinstance(app.screen, AmendModal)
        assert any("focus Orders first" in text for text in notes(app))
        orders.focus()
        await pilot.pause()
        await pilot.press("A")
        await wait_for(lambda: isinstance(app.screen, AmendModal))
        modal = app.screen
        assert modal.query_one("#price", Input).value == plain(price)
        assert modal.query_one("#qty", Input).value == "0.010"
        new_price = price - 20 * tick
        for field, text, reason in (
            ("price", f"{plain(new_price)}5", f"not on the {plain(tick)} tick"),
            ("price", "1,5", "not a plain decimal number"),
            ("qty", "0.0105", "not on the 0.001 step"),
            ("qty", "1e3", "not a plain decimal number"),
        ):
            modal.query_one(f"#{field}", Input).value = text
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert reason in str(modal.query_one(f"#{field}-error", Static).content)
            assert isinstance(app.screen, AmendModal), "a refused field keeps the form open"
            modal.query_one(f"#{field}", Input).value = plain(price) if field == "price" else "0.010"
        assert account(app).orders[order_id].price == price, "nothing was sent"
        modal.query_one("#price", Input).value = plain(new_price)
        modal.query_one("#qty", Input).value = "0.020"
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, AmendModal))
        held = account(app).orders[order_id]
        await wait_for(lambda: held.price == new_price)
        assert (held.qty, held.status) == (Decimal("0.020"), OrderStatus.NEW)
        await wait_for(lambda: number(orders.row_texts(order_id)["price"]) == new_price)
        assert number(orders.row_texts(order_id)["qty"]) == Decimal("0.020")


async def test_x_closes_the_chosen_part_and_refuses_a_part_below_the_minimum_qty(console: Console) -> None:
    async with console() as (app, pilot):
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, PartialCloseModal)
        assert "No open position to close." in notes(app)
        assert app.backend is not None
        await app.backend.place_order(PlaceOrderIntent(BTC, Side.BUY, OrderType.MARKET, Decimal("0.006")))
        positions = app.query_one(PositionsTable)
        await wait_for(lambda: positions.has_row(BTC))
        held = account(app).positions[BTC]
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, PartialCloseModal))
        question = str(app.screen.query_one("#body", Static).content)
        assert question.startswith("Close long 0.006 BTCUSDT at market"), question
        await pilot.press("2", "y")  # 50 %: 0.003
        await wait_for(lambda: held.size == Decimal("0.003"))
        await wait_for(lambda: number(positions.row_texts(BTC)["size"]) == Decimal("0.003"))
        closing = [o for o in account(app).orders.values() if o.side is Side.SELL]
        assert [(o.qty, o.reduce_only, o.order_type) for o in closing] == [(Decimal("0.003"), True, OrderType.MARKET)]
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, PartialCloseModal))
        modal = app.screen
        assert "25 % of 0.003 is 0.000, below the minimum quantity 0.001" in str(
            modal.query_one("#parts", Static).content
        )
        await pilot.press("1", "y")
        await pilot.pause()
        assert app.screen is modal, "a part below the minimum is not closed"
        assert "below the minimum quantity 0.001" in str(modal.query_one("#part-error", Static).content)
        assert held.size == Decimal("0.003")
        await pilot.press("3", "y")
        await wait_for(lambda: held.size == 0)
        await wait_for(lambda: not positions.has_row(BTC))
