"""The order ticket's extras and the leverage picker, driven by keys against the embedded exchange: reduce-only,
post-only, IOC/FOK, conditional entries, the fee-inclusive preview, the margin warning and any symbol's leverage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, RadioButton, Static
from textual.widgets._toast import Toast

from tests.conftest import SignedRest
from tests.core.conftest import sim_of, wait_for
from tests.sim.rest_helpers import set_leverage
from tests.ui.conftest import Console, LocalConsole, console_settings
from tests.ui.test_console_pilot import BTC, account, buy_with_keys, open_buy_form
from tui_bot.core.risk import size_position
from tui_bot.domain.enums import OrderStatus, RejectReason, Side, StopOrderType, TriggerBy
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.sim.records import SimOrder
from tui_bot.ui.screens.leverage import LeverageModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.widgets.positions import PositionsTable

ETH = "ETHUSDT"


def toasts(app: LocalConsole) -> list[str]:
    return [str(t._notification.message) for t in app.screen.query(Toast)]


def text(form: OrderFormModal, selector: str) -> str:
    return str(form.query_one(selector, Static).content)


async def type_into(pilot: Pilot[None], form: OrderFormModal, field: str, value: str) -> None:
    """Focus a field, clear it and type value key by key."""
    form.query_one(f"#{field}", Input).focus()
    await pilot.press("ctrl+u", *value)


async def press_radio(pilot: Pilot[None], form: OrderFormModal, button: str) -> None:
    form.query_one(f"#{button}", RadioButton).value = True
    await pilot.pause()


async def limit_ticket(app: LocalConsole, pilot: Pilot[None], qty: str, price: Decimal, tif: str) -> OrderFormModal:
    """b, a limit order of qty at price with the given time-in-force button; not yet sent."""
    form = await open_buy_form(app, pilot)
    await pilot.press(*qty)
    await press_radio(pilot, form, "type-limit")
    await press_radio(pilot, form, tif)
    await type_into(pilot, form, "price", plain(price))
    return form


async def send(app: LocalConsole, pilot: Pilot[None]) -> None:
    await pilot.press("enter")
    await wait_for(lambda: not isinstance(app.screen, OrderFormModal))


def only_new_order(app: LocalConsole, before: set[str]) -> SimOrder:
    orders = [o for o in account(app).orders.values() if o.order_id not in before]
    assert len(orders) == 1, orders
    return orders[0]


async def test_a_reduce_only_buy_on_a_long_is_refused_by_the_exchange_and_said_so(console: Console) -> None:
    async with console() as (app, pilot):
        await buy_with_keys(app, pilot, "0.01")
        await wait_for(lambda: app.query_one(PositionsTable).has_row(BTC))
        before = set(account(app).orders)
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        form.query_one("#reduce", Checkbox).value = True
        await pilot.pause()
        await send(app, pilot)
        await wait_for(lambda: any("(110017)" in t for t in toasts(app)))
        assert set(account(app).orders) == before  # refused at the door: nothing booked
        assert account(app).positions[BTC].size == Decimal("0.01")


async def test_a_post_only_limit_that_would_cross_is_refused_with_its_words(console: Console) -> None:
    async with console() as (app, pilot):
        before = set(account(app).orders)
        assert app.runtime is not None
        market = sim_of(app.runtime).engine.markets[BTC]
        crossing = floor_to_step(market.ask1_price * Decimal("1.01"), market.tick)  # still crossing when it arrives
        await limit_ticket(app, pilot, "0.01", crossing, "tif-post_only")
        await send(app, pilot)
        await wait_for(lambda: any("post-only order would have taken liquidity" in t for t in toasts(app)))
        order = only_new_order(app, before)
        assert (order.status, order.reject_reason) == (OrderStatus.CANCELLED, RejectReason.POST_ONLY_WILL_TAKE)
        assert any(RejectReason.POST_ONLY_WILL_TAKE.value in t for t in toasts(app))
        assert account(app).positions[BTC].size == 0


async def test_an_ioc_limit_below_the_market_is_cancelled_unfilled_and_said_so(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        before = set(account(app).orders)
        market = sim_of(app.runtime).engine.markets[BTC]
        below = floor_to_step(market.bid1_price * Decimal("0.98"), market.tick)
        await limit_ticket(app, pilot, "0.01", below, "tif-ioc")
        await send(app, pilot)
        await wait_for(lambda: any("nothing to fill at its price now (IOC)" in t for t in toasts(app)))
        order = only_new_order(app, before)
        assert (order.status, order.reject_reason) == (OrderStatus.CANCELLED, RejectReason.NO_IMMEDIATE_QTY)
        assert order.cum_exec_qty == 0


async def test_a_fok_larger_than_the_depth_at_its_price_fills_nothing(console: Console, tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    settings.sim.balance = Decimal("10000000")  # margin for more than the best level holds
    settings.sim.autostep = False  # the book stays as it is read here
    async with console(settings=settings) as (app, pilot):
        assert app.runtime is not None
        before = set(account(app).orders)
        market = sim_of(app.runtime).engine.markets[BTC]
        best, depth = next(market.book(Side.BUY))
        await limit_ticket(app, pilot, plain(depth + market.instrument.qty_step), best, "tif-fok")
        form = app.screen
        assert isinstance(form, OrderFormModal)
        assert form.evaluation.intent is not None, form.evaluation.errors
        await send(app, pilot)
        await wait_for(lambda: any("could not fill in full at once (FOK)" in t for t in toasts(app)))
        order = only_new_order(app, before)
        assert (order.status, order.reject_reason) == (OrderStatus.CANCELLED, RejectReason.CANCEL_FOR_NO_FULL_FILL)
        assert order.cum_exec_qty == 0 and account(app).positions[BTC].size == 0


async def test_a_conditional_entry_rests_untriggered_then_fills_when_the_mark_crosses(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.runtime is not None
        sim = sim_of(app.runtime)
        market = sim.engine.markets[BTC]
        before = set(account(app).orders)
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        await press_radio(pilot, form, "by-mark")
        mark = form.context.marks[BTC]
        trigger = floor_to_step(mark * Decimal("1.02"), market.tick)
        await type_into(pilot, form, "trigger", plain(trigger))
        assert f"when mark rises to {plain(trigger)}" in text(form, "#preview") or form.evaluation.intent is not None
        intent = form.evaluation.intent
        assert intent is not None and (intent.trigger_direction, intent.trigger_by) == (1, TriggerBy.MARK)
        await send(app, pilot)
        await wait_for(lambda: len(account(app).orders) == len(before) + 1)
        order = only_new_order(app, before)
        assert (order.status, order.stop_order_type) == (OrderStatus.UNTRIGGERED, StopOrderType.STOP)
        assert (order.trigger_price, order.trigger_direction, order.trigger_by) == (trigger, 1, TriggerBy.MARK)
        assert account(app).positions[BTC].size == 0
        market.set_price(floor_to_step(trigger * Decimal("1.005"), market.tick), sim.clock.now_ms())  # far past noise
        await wait_for(lambda: order.status is OrderStatus.FILLED)
        await wait_for(lambda: app.query_one(PositionsTable).has_row(BTC))
        assert account(app).positions[BTC].size == Decimal("0.01")


async def test_a_trigger_typed_with_a_comma_is_refused_in_the_ticket_and_nothing_is_sent(console: Console) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        await type_into(pilot, form, "trigger", "101000,5")
        assert form.query_one("#trigger", Input).value == "101000,5"
        assert text(form, "#trigger-error") == "use a dot for decimals"
        await pilot.press("enter")
        assert app.screen is form and account(app).orders == {}


async def test_the_preview_shows_the_bots_own_loss_at_sl_and_gain_at_tp_with_both_fees(console: Console) -> None:
    async with console() as (app, pilot):
        assert app.backend is not None
        form = await open_buy_form(app, pilot)
        form.query_one("#risk", Checkbox).value = True
        ctx = form.context
        entry = ctx.last_prices[BTC]
        tick = ctx.instruments[BTC].tick_size
        sl, tp = floor_to_step(entry * Decimal("0.99"), tick), floor_to_step(entry * Decimal("1.02"), tick)
        await type_into(pilot, form, "sl", plain(sl))
        await type_into(pilot, form, "tp", plain(tp))
        ev = form.evaluation
        assert ev.intent is not None and ev.entry is not None, ev.errors
        entry = ev.entry  # the last price the ticket validated against (it follows the market)
        settings = app.backend.settings()
        assert ctx.equity is not None and ctx.available is not None
        bots = size_position(
            ctx.instruments[BTC],
            Side.BUY,
            entry,
            sl,
            equity=ctx.equity,
            available=ctx.available,
            settings=settings.model_copy(update={"leverage": ctx.leverage_of(BTC, None)}),
        )
        assert ev.intent.qty == bots.qty
        fee = settings.taker_fee_rate
        loss = bots.qty * ((entry - sl) + (entry + sl) * fee)  # the move to the stop plus both taker fees
        gain = bots.qty * ((tp - entry) - (entry + tp) * fee)
        assert loss == bots.risk_usd
        shown = text(form, "#preview")
        assert f"loss at SL {loss:,.2f}" in shown and f"gain at TP {gain:+,.2f}" in shown
        assert f"R:R {gain / loss:.2f}" in shown and "both fees in" in shown
        assert loss > bots.qty * (entry - sl)  # more than the fee-less figure the ticket used to show


async def test_a_notional_beyond_available_margin_is_warned(console: Console) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        await pilot.press(*"0.01")
        assert text(form, "#margin-warning") == ""
        await type_into(pilot, form, "qty", "50")
        warning = text(form, "#margin-warning")
        assert warning.startswith("Margin: order value") and "exceeds" in warning and "available" in warning


async def test_l_sets_the_leverage_of_a_non_btc_symbol_at_the_exchange(console: Console) -> None:
    async with console() as (app, pilot):
        btc_before = account(app).position(BTC).leverage
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LeverageModal))
        modal = app.screen
        assert isinstance(modal, LeverageModal)
        modal.query_one("#symbol", Input).value = ETH
        await pilot.pause()
        assert "ETHUSDT now" in str(modal.query_one("#limits", Static).content)
        modal.query_one("#leverage", Input).focus()
        await pilot.press("ctrl+u", *"500")
        assert "maximum" in str(modal.query_one("#leverage-error", Static).content)
        await pilot.press("ctrl+u", *"7", "enter")
        await wait_for(lambda: account(app).position(ETH).leverage == Decimal("7"))
        assert account(app).position(BTC).leverage == btc_before


async def test_ctrl_t_reaches_the_tickets_symbol_by_keys_and_the_typed_symbol_is_traded(console: Console) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        assert "ctrl+t" in text(form, "#symbol-note"), "the ticket says how to reach its symbol"
        await pilot.press("ctrl+t")
        assert app.focused is form.query_one("#symbol", Input)
        await pilot.press(*"eth", "right")  # typing replaces the symbol; → takes the suggested ETHUSDT
        assert form.query_one("#symbol", Input).value.upper() == ETH
        await wait_for(lambda: text(form, "#quote").startswith(f"{ETH}  last"))
        await pilot.press("tab", "tab", "tab")  # side, type, quantity
        assert app.focused is form.query_one("#qty", Input)
        await pilot.press(*"0.1", "enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await wait_for(lambda: account(app).position(ETH).size == Decimal("0.1"))
        assert account(app).position(BTC).size == 0


async def test_a_ticket_typed_on_a_symbol_nobody_watches_gets_its_price_and_trades_at_market(console: Console) -> None:
    sol = "SOLUSDT"
    async with console() as (app, pilot):
        assert app.backend is not None and sol in app.backend.instruments() and sol not in app.backend.watchlist()
        form = await open_buy_form(app, pilot)
        await pilot.press("ctrl+t", *sol.lower())
        assert form.query_one("#symbol", Input).value.upper() == sol
        await wait_for(
            lambda: text(form, "#quote").startswith(f"{sol}  last ") and " last —" not in text(form, "#quote")
        )
        assert app.backend.selected_symbol() == sol, "the market view shows what the ticket trades"
        await type_into(pilot, form, "qty", "1")
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await wait_for(lambda: account(app).position(sol).size == Decimal("1"))
        assert sol not in app.backend.watchlist(), "looking a symbol up does not watch it"


async def set_leverage_elsewhere(app: LocalConsole, symbol: str, leverage: str) -> None:
    """Another program (the exchange's web page, say) sets a symbol's leverage over the same API key."""
    assert app.runtime is not None
    exchange = sim_of(app.runtime)
    assert exchange.urls is not None
    rest = SignedRest(exchange.urls.rest, exchange.api_key, exchange.api_secret)
    try:
        await set_leverage(rest, leverage, symbol)
    finally:
        await rest.close()


async def test_l_shows_a_flat_symbols_leverage_as_the_exchange_has_it(console: Console) -> None:
    async with console() as (app, pilot):
        await set_leverage_elsewhere(app, ETH, "7")  # flat: no position tells the console
        assert app.backend is not None and ETH not in app.backend.positions()
        await pilot.press("l")
        await wait_for(lambda: isinstance(app.screen, LeverageModal))
        modal = app.screen
        assert isinstance(modal, LeverageModal)
        await pilot.press("shift+tab", "ctrl+u", *"eth", "right")  # the symbol field, by keys
        await wait_for(lambda: "ETHUSDT now 7x" in str(modal.query_one("#limits", Static).content))
        assert modal.query_one("#leverage", Input).value == "7"
        await pilot.press("tab", "enter")  # 7 again: unchanged, nothing sent
        assert "unchanged" in str(modal.query_one("#leverage-error", Static).content)
        assert isinstance(app.screen, LeverageModal)
