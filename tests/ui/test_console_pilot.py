"""The whole console driven by keys (Pilot) against the embedded exchange: real sockets, no mocks of our code."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Footer, Input, RadioButton, Static
from textual.widgets._toast import Toast

from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.domain.enums import OrderStatus, OrderType, Side
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.sim.account import Account
from tui_bot.ui import messages
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.settings_screen import SettingsScreen
from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable

BTC = "BTCUSDT"
ORDER_CREATE = "/v5/order/create"


def account(app: LocalConsole) -> Account:
    """The exchange's own record of our account."""
    assert app.runtime is not None
    sim = sim_of(app.runtime)
    return sim.engine.accounts[sim.api_key]


def number(text: str) -> Decimal:
    """A formatted cell (thousands separators allowed) as a Decimal."""
    return Decimal(text.replace(",", "").strip())


def header_text(app: LocalConsole, part: str) -> str:
    return str(app.query_one(HeaderBar).query_one(f"#{part}", Static).content)


async def open_buy_form(app: LocalConsole, pilot: Pilot[None]) -> OrderFormModal:
    await pilot.press("b")
    await wait_for(lambda: isinstance(app.screen, OrderFormModal))
    form = app.screen
    assert isinstance(form, OrderFormModal)
    assert app.focused is not None and app.focused.id == "qty"
    return form


async def buy_with_keys(app: LocalConsole, pilot: Pilot[None], qty: str = "0.01") -> None:
    """b, the quantity key by key, Enter: the form must close (it only closes on a valid ticket)."""
    await open_buy_form(app, pilot)
    await pilot.press(*qty)
    await pilot.press("enter")
    await wait_for(lambda: not isinstance(app.screen, OrderFormModal))


def visible(app: LocalConsole, widget: Widget) -> Region:
    """The part of the widget that is on screen (fails when it is off screen or has no area)."""
    shown = widget.region.intersection(app.screen.region)
    assert widget.display and shown.width > 0 and shown.height > 0, f"{widget!r} is not on screen: {widget.region}"
    return shown


# -- orders by key ----------------------------------------------------------------------------------


async def test_b_qty_enter_places_a_market_buy_shown_at_the_exchange_fill_price(console: Console) -> None:
    async with console() as (app, pilot):
        table = app.query_one(PositionsTable)
        assert table.keys() == [] and account(app).orders == {}
        await buy_with_keys(app, pilot, "0.01")
        await wait_for(lambda: table.has_row(BTC))
        acct = account(app)
        orders = list(acct.orders.values())
        assert [(o.symbol, o.side, o.order_type, o.qty, o.status) for o in orders] == [
            (BTC, Side.BUY, OrderType.MARKET, Decimal("0.01"), OrderStatus.FILLED)
        ]
        fills = [e for e in acct.executions if e.order_id == orders[0].order_id]
        assert len(fills) == 1 and fills[0].exec_qty == Decimal("0.01")
        row = table.row_texts(BTC)
        assert number(row["entry"]) == fills[0].exec_price
        assert (row["side"], number(row["size"])) == ("Long", Decimal("0.01"))


async def test_x_and_y_close_the_position_and_both_fills_are_listed(console: Console) -> None:
    async with console() as (app, pilot):
        positions, fills = app.query_one(PositionsTable), app.query_one(FillsTable)
        await buy_with_keys(app, pilot, "0.01")
        await wait_for(lambda: positions.has_row(BTC))
        assert positions.selected_symbol == BTC
        await pilot.press("x")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        assert BTC in app.screen.body
        await pilot.press("y")
        await wait_for(lambda: not positions.has_row(BTC))
        acct = account(app)
        assert acct.positions[BTC].size == 0
        executions = [e for e in acct.executions if e.symbol == BTC]
        assert sorted(e.side for e in executions) == [Side.BUY, Side.SELL]
        await wait_for(lambda: {e.exec_id for e in executions} <= set(fills.keys()))
        assert sorted(fills.row_texts(e.exec_id)["side"] for e in executions) == ["Buy", "Sell"]


async def test_a_limit_order_from_the_form_is_cancelled_with_c_confirmed_from_the_orders_table(
    console: Console,
) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        orders = app.query_one(OrdersTable)
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        await pilot.click("#type-limit")
        assert form.query_one("#type-limit", RadioButton).value
        price_input = form.query_one("#price", Input)
        assert not price_input.disabled
        last = app.runtime.engine.state.tickers[BTC].last_price
        price = floor_to_step(last * Decimal("0.9"), app.runtime.engine.state.instruments[BTC].tick_size)
        price_input.value = ""
        price_input.focus()
        await pilot.press(*plain(price), "enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await wait_for(lambda: len(orders.keys()) == 1)
        order_id = orders.keys()[0]
        sim_order = account(app).orders[order_id]
        assert (sim_order.order_type, sim_order.price, sim_order.status) == (OrderType.LIMIT, price, OrderStatus.NEW)
        assert number(orders.row_texts(order_id)["price"]) == price
        app.query_one(FillsTable).focus()  # another table has focus: c must not act on the Orders cursor
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert account(app).orders[order_id].status is OrderStatus.NEW
        orders.focus()
        await pilot.pause()
        assert app.focused is orders and orders.selected_order_id == order_id
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        body = str(app.screen.query_one("#body", Static).content)
        assert f"Cancel Buy Limit 0.010 BTCUSDT at {plain(price)}" in body and order_id[:8] in body
        await pilot.press("n")  # kept
        await wait_for(lambda: not isinstance(app.screen, ConfirmModal))
        assert account(app).orders[order_id].status is OrderStatus.NEW
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(lambda: account(app).orders[order_id].status is OrderStatus.CANCELLED)
        await wait_for(lambda: not orders.has_row(order_id))
        assert orders.keys() == []


async def test_an_open_ticket_follows_the_market_in_its_last_and_mark_price_and_order_value(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        assert form.query_one("#symbol", Input).value == BTC
        opened = form.last_prices[BTC]
        sim = sim_of(app.runtime)
        market = sim.engine.markets[BTC]
        target = floor_to_step(opened * Decimal("1.05"), market.tick)
        market.set_price(target, sim.clock.now_ms())
        near = opened * Decimal("0.01")
        await wait_for(lambda: abs(form.last_prices[BTC] - target) < near)
        await wait_for(lambda: abs(form.context.marks.get(BTC, opened) - target) < near)
        last, mark = form.last_prices[BTC], form.context.marks[BTC]
        assert f"last {plain(last)} · mark {plain(mark)}" in str(form.query_one("#quote", Static).content)
        assert str(form.query_one("#preview", Static).content).startswith(f"≈ {Decimal('0.01') * last:,.2f} USDT")


async def test_prices_that_arrive_after_the_screens_are_gone_are_dropped(console: Console) -> None:
    async with console() as (app, pilot):
        await open_buy_form(app, pilot)
    assert app.screen_stack == []
    app.on_prices_moved(messages.PricesMoved({BTC}))  # posted by the bridge before it stopped, handled on exit


# -- settings survive a restart ----------------------------------------------------------------------


async def test_t_turns_tightening_off_and_it_stays_off_after_a_restart(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None and app.runtime.trading.current.enable_sl_tightening
        assert header_text(app, "hdr-tightening") == "Tighten ON"
        await pilot.press("t")
        await wait_for(lambda: header_text(app, "hdr-tightening") == "Tighten OFF")
        assert app.runtime.trading.current.enable_sl_tightening is False
        await pilot.press("q")
    async with console() as (again, _pilot):
        assert again.runtime is not None and again.runtime.trading.current.enable_sl_tightening is False
        assert header_text(again, "hdr-tightening") == "Tighten OFF"


async def test_a_settings_edit_applies_at_once_and_survives_a_restart(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        assert app.runtime.trading.current.risk_percentage == Decimal("1")
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        field = app.screen.query_one("#risk_percentage", Input)
        field.value = ""
        field.focus()
        await pilot.press(*"2.5")
        assert field.value == "2.5"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
        assert app.runtime.trading.current.risk_percentage == Decimal("2.5")
        await pilot.press("q")
    async with console() as (again, _pilot):
        assert again.runtime is not None and again.runtime.trading.current.risk_percentage == Decimal("2.5")


# -- nothing leaves an invalid ticket ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "reason"),
    [
        ("0.0005", "too many decimals: the step is 0.001"),
        ("1,5", "use a dot for decimals"),
        ("1e3", "no exponents"),
        ("-0.5", "must be positive"),
    ],
)
async def test_an_invalid_quantity_is_kept_as_typed_shows_the_reason_and_sends_nothing(
    console: Console, qty: str, reason: str
) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        sim = sim_of(app.runtime)
        form = await open_buy_form(app, pilot)
        await pilot.press(*qty, "enter")
        await pilot.press("enter")  # a second Enter must not slip it through either
        await pilot.pause()
        assert app.screen is form
        assert form.query_one("#qty", Input).value == qty  # no key dropped: 1,5 does not become 15
        error = form.query_one("#qty-error", Static)
        assert reason in str(error.content)
        visible(app, error)
        await asyncio.sleep(0.2)  # anything sent would reach the loopback exchange well within this
        assert account(app).orders == {}
        assert (sim.api_key, ORDER_CREATE) not in sim.limiter._hits  # neither REST nor trade-WS order.create
        assert app.runtime.engine.state.open_orders == {}


# -- faults and rejections are shown -----------------------------------------------------------------


async def test_a_dropped_private_stream_shows_reconnecting_then_live_with_one_more_reconnect(console: Console) -> None:
    async with console() as (app, _pilot):
        assert app.runtime is not None
        panel = app.query_one(HealthPanel)
        await wait_for(lambda: "private" in panel.lines and " live " in panel.lines["private"].text)
        line = panel.lines["private"]
        assert "↻0" in line.text
        random.seed(3)  # the reconnect's jittered backoff: seeded so the reconnecting state lasts a visible while
        assert sim_of(app.runtime).drop_connections("private") >= 1
        seen: list[str] = []
        deadline = time.monotonic() + 5
        while not (" live " in line.text and "↻1" in line.text):
            assert time.monotonic() < deadline, f"private line never came back live with ↻1: {seen}"
            if not seen or seen[-1] != line.text:
                seen.append(line.text)
            await asyncio.sleep(0.005)
        states = [text.split()[1] for text in seen]
        assert "reconnecting" in states or "connecting" in states, seen
        assert "↻1" in line.text and "↻2" not in line.text


async def test_failing_reconciles_show_a_tasks_line_that_goes_once_they_succeed(
    console: Console, tmp_path: Path
) -> None:
    settings = console_settings(tmp_path)
    settings.streams.reconcile_interval_s = 0.3
    async with console(settings=settings) as (app, _pilot):
        assert app.runtime is not None
        panel = app.query_one(HealthPanel)
        sim = sim_of(app.runtime)
        sim.faults.corrupt_rows("/v5/account/wallet-balance", "", 1000)
        await wait_for(lambda: "tasks" in panel.lines, timeout=5.0)
        assert "engine-resync failing" in panel.lines["tasks"].text
        assert "FrameError: bad number in totalEquity: 'abc'" in panel.lines["tasks"].text
        sim.faults.corrupt_rest.clear()
        await wait_for(lambda: "tasks" not in panel.lines, timeout=5.0)


async def test_a_rejected_order_becomes_a_plain_words_notification_and_no_position(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        sim = sim_of(app.runtime)
        sim.faults.order_rejects.append((110007, "ab not enough for new order"))
        await buy_with_keys(app, pilot, "0.01")

        def toasts() -> list[str]:
            return [str(t._notification.message) for t in app.screen.query(Toast)]

        await wait_for(lambda: any("Insufficient balance (110007)" in text for text in toasts()))
        assert (sim.api_key, ORDER_CREATE) in sim.limiter._hits  # it really went to the exchange
        assert not sim.faults.order_rejects
        assert account(app).orders == {}
        assert all(p.size == 0 for p in account(app).positions.values())
        assert app.query_one(PositionsTable).keys() == []
        assert not any(p.size for p in app.runtime.engine.state.positions.values())


# -- small terminal ----------------------------------------------------------------------------------


async def test_at_80x24_header_positions_and_footer_are_on_screen_and_a_buy_works(console: Console) -> None:
    async with console(size=(80, 24)) as (app, pilot):
        assert app.screen.region == Region(0, 0, 80, 24)
        header = visible(app, app.query_one(HeaderBar))
        table = app.query_one(PositionsTable)
        positions = visible(app, table)
        footer = visible(app, app.query_one(Footer))
        assert header.y == 0 and footer.bottom == 24
        assert header.bottom <= positions.y and positions.bottom <= footer.y
        await buy_with_keys(app, pilot, "0.01")
        await wait_for(lambda: table.has_row(BTC))
        await pilot.pause()
        assert number(table.row_texts(BTC)["size"]) == Decimal("0.01")
        assert visible(app, table).height >= 2  # column header plus the new row


async def test_cancel_all_says_when_nothing_is_open_and_warns_when_it_removes_a_positions_tpsl(
    console: Console,
) -> None:
    async with console() as (app, pilot):
        rt = app.runtime
        assert rt is not None
        await pilot.press("C")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal), "nothing to cancel: no question asked"
        last = rt.engine.state.tickers[BTC].last_price
        tick = rt.engine.state.instruments[BTC].tick_size
        await rt.orders.place(
            BTC,
            Side.BUY,
            Decimal("0.01"),
            take_profit=floor_to_step(last * Decimal("1.1"), tick),
            stop_loss=floor_to_step(last * Decimal("0.9"), tick),
        )
        await wait_for(lambda: len(rt.engine.state.open_orders) == 2 and BTC in rt.engine.state.positions)
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        body = str(app.screen.query_one("#body", Static).content)
        assert body == "Cancel all 2 open orders? 2 of them are positions' TP/SL: those positions are left unprotected."
        await pilot.press("n")
        await wait_for(lambda: not isinstance(app.screen, ConfirmModal))
        assert len(rt.engine.state.open_orders) == 2
