"""Pilot tests of the modals: live validation, nothing returned while invalid, confirmations, settings, help."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, RadioButton, Select, Static

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tui_bot.config import TradingSettings
from tui_bot.core.bus import Bus
from tui_bot.core.risk import size_position
from tui_bot.core.settings import SettingsRejected, SettingsService
from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy
from tui_bot.domain.intents import LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.models import Instrument
from tui_bot.ui.keymap import BINDING_IDS, HELP_TEXT, help_rows
from tui_bot.ui.screens import (
    ConfirmModal,
    HelpScreen,
    LeverageModal,
    OrderFormModal,
    SettingsScreen,
    TpSlModal,
)
from tui_bot.ui.screens._fields import FieldInvalid
from tui_bot.ui.screens.settings_screen import choices_of, kind_of, parse_value
from tui_bot.ui.screens.ticket import OrderFields, TicketContext, evaluate

BTC = Instrument(
    symbol="BTCUSDT",
    base_coin="BTC",
    quote_coin="USDT",
    tick_size=Decimal("0.10"),
    min_price=Decimal("0.10"),
    max_price=Decimal("1999999.80"),
    qty_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    max_qty=Decimal("1190.000"),
    max_market_qty=Decimal("119.000"),
    min_notional=Decimal("5"),
    max_leverage=Decimal("100.00"),
)
ETH = Instrument(
    symbol="ETHUSDT",
    base_coin="ETH",
    quote_coin="USDT",
    tick_size=Decimal("0.01"),
    min_price=Decimal("0.01"),
    max_price=Decimal("199999.98"),
    qty_step=Decimal("0.01"),
    min_qty=Decimal("0.01"),
    max_qty=Decimal("7240.00"),
    max_market_qty=Decimal("724.00"),
    min_notional=Decimal("5"),
    max_leverage=Decimal("50.00"),
)
INSTRUMENTS = {"BTCUSDT": BTC, "ETHUSDT": ETH}
PRICES = {"BTCUSDT": Decimal("100000.0"), "ETHUSDT": Decimal("100.00")}
SIZE = (80, 24)


class Host(App[None]):
    """Pushes the modal `make()` builds (on `b`, or at once) and records what it returns."""

    BINDINGS = [("b", "open", "open")]

    def __init__(self, make: Callable[[], Screen[Any]], *, open_now: bool = True) -> None:
        super().__init__()
        self.make = make
        self.open_now = open_now
        self.results: list[Any] = []

    def on_mount(self) -> None:
        if self.open_now:
            self.action_open()

    def action_open(self) -> None:
        self.push_screen(self.make(), self.results.append)


def order_form(
    *,
    live: bool = False,
    equity: Decimal | None = Decimal("10000"),
    settings: TradingSettings | None = None,
    side: Side = Side.BUY,
) -> Callable[[], OrderFormModal]:
    return lambda: OrderFormModal(side, "BTCUSDT", sorted(INSTRUMENTS), context(equity=equity, settings=settings), live)


def context(
    *, equity: Decimal | None = Decimal("10000"), settings: TradingSettings | None = None, available: str = "10000"
) -> TicketContext:
    """The ticket's view of a 10,000 USDT account, BTC at 100,000 (mark 100,010), ETH at 100."""
    marks = {"BTCUSDT": Decimal("100010.0"), "ETHUSDT": Decimal("100.01")}
    settings = settings or TradingSettings()
    return TicketContext(INSTRUMENTS, dict(PRICES), settings, equity, Decimal(available), marks)


def text(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


def set_value(screen: Screen[Any], selector: str, value: str) -> None:
    screen.query_one(selector, Input).value = value


# -- order form -----------------------------------------------------------------------------------


async def test_b_focuses_qty_and_enter_sends_a_market_buy() -> None:
    app = Host(order_form(), open_now=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        assert isinstance(app.screen, OrderFormModal)
        assert app.focused is not None and app.focused.id == "qty"
        form = app.screen
        assert text(form, "#qty-error") == ""  # no nagging before the first submit
        await pilot.press("enter")
        assert app.screen is form and text(form, "#qty-error") == "required"
        await pilot.press(*"0.01", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, OrderFormModal)
    assert app.results == [PlaceOrderIntent("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01"))]


@pytest.mark.parametrize(
    ("qty", "reason"),
    [
        ("0.0005", "too many decimals: the step is 0.001"),
        ("0.0015", "too many decimals: the step is 0.001"),
        ("200", "above the maximum 119"),
        (".", "not a number"),
        ("1,5", "use a dot for decimals"),
        ("1e3", "no exponents"),
        ("-0.5", "must be positive"),
        ("0", "must be positive"),
        ("nan", "not a number"),
        ("1.2.3", "not a number"),
    ],
)
async def test_invalid_qty_shows_inline_error_and_enter_returns_nothing(qty: str, reason: str) -> None:
    app = Host(order_form())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*qty)
        form = app.screen
        assert reason in text(form, "#qty-error")
        assert form.query_one("#qty-error").has_class("error")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is form
    assert app.results == []


def test_min_notional_and_unknown_symbol_are_refused() -> None:
    small = evaluate(OrderFields("ETHUSDT", Side.BUY, OrderType.MARKET, texts={"qty": "0.01"}), context())
    assert small.intent is None and "below the minimum 5" in small.errors["qty"]
    unknown = evaluate(OrderFields("DOGEUSDT", Side.BUY, OrderType.MARKET, texts={"qty": "1"}), context())
    assert unknown.intent is None and unknown.errors["symbol"] == "unknown symbol"


async def test_limit_price_off_tick_is_an_error_on_the_price_field() -> None:
    app = Host(order_form())
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        assert form.query_one("#price", Input).disabled
        form.query_one("#type-limit", RadioButton).value = True
        await pilot.pause()
        assert not form.query_one("#price", Input).disabled
        assert form.query_one("#price", Input).value == "100000.00"
        set_value(form, "#price", "99000.05")
        set_value(form, "#qty", "0.01")
        await pilot.pause()
        assert "too many decimals: the step is 0.1" in text(form, "#price-error")
        form.query_one("#qty", Input).focus()
        await pilot.press("enter")
        assert app.screen is form
        set_value(form, "#price", "99000.1")
        await pilot.pause()
        assert text(form, "#price-error") == ""
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [
        PlaceOrderIntent(
            "BTCUSDT",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.01"),
            price=Decimal("99000.1"),
            time_in_force=TimeInForce.GTC,
        )
    ]


async def test_buy_with_stop_above_entry_is_refused() -> None:
    app = Host(order_form())
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        set_value(form, "#sl", "100500.0")
        set_value(form, "#tp", "99000.0")
        await pilot.press(*"0.01")
        assert "below the entry 100000" in text(form, "#sl-error")
        assert "above the entry 100000" in text(form, "#tp-error")
        await pilot.press("enter")
        assert app.screen is form
        set_value(form, "#sl", "99000.0")
        set_value(form, "#tp", "102000.0")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [
        PlaceOrderIntent(
            "BTCUSDT",
            Side.BUY,
            OrderType.MARKET,
            Decimal("0.01"),
            take_profit=Decimal("102000.0"),
            stop_loss=Decimal("99000.0"),
        )
    ]


async def test_sell_side_rules_are_mirrored_and_leverage_is_range_checked() -> None:
    app = Host(order_form(side=Side.SELL))
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        assert form.query_one("#side-sell", RadioButton).value
        set_value(form, "#sl", "99000.0")
        set_value(form, "#leverage", "150")
        await pilot.press(*"0.01")
        assert "above the entry" in text(form, "#sl-error")
        assert "above BTCUSDT's maximum of 100x" in text(form, "#leverage-error")
        await pilot.press("enter")
        assert app.screen is form
    assert app.results == []


async def test_risk_sized_qty_is_computed_from_equity_risk_and_stop_distance() -> None:
    app = Host(order_form(settings=TradingSettings(risk_percentage=Decimal("1"), max_loss_usd=Decimal("500"))))
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        form.query_one("#risk", Checkbox).value = True
        set_value(form, "#sl", "99000.0")
        await pilot.pause()
        qty = form.query_one("#qty", Input)
        # 10000 × 1% / (1000 + both fees (100000 + 99000) × 0.055% = 1109.45) = 0.0901… BTC
        assert qty.disabled and qty.value == "0.090"
        assert "risk 99.85 USDT with fees" in text(form, "#risk-note")
        form.query_one("#submit").focus()
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [
        PlaceOrderIntent("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.090"), stop_loss=Decimal("99000.0"))
    ]


def test_risk_sized_qty_is_the_bots_own_sizing_capped_by_max_loss() -> None:
    settings = TradingSettings(risk_percentage=Decimal("2"), max_loss_usd=Decimal("50"))
    ctx = context(settings=settings)
    fields = OrderFields("BTCUSDT", Side.BUY, OrderType.MARKET, True, {"sl": "99300.0"})
    ev = evaluate(fields, ctx)
    bots = size_position(
        BTC,
        Side.BUY,
        Decimal("100000.0"),
        Decimal("99300.0"),
        equity=Decimal("10000"),
        available=Decimal("10000"),
        settings=settings,
    )
    assert ev.risk_qty == bots.qty == Decimal("0.061")  # 50 / (700 + 199300 × 0.055%) = 0.0617… → 0.061
    assert "risk capped at the max loss" in ev.risk_note
    assert evaluate(fields, context(equity=None)).errors["qty"] == "risk-sized: equity unknown"
    no_stop = OrderFields("BTCUSDT", Side.BUY, OrderType.MARKET, True, {})
    assert evaluate(no_stop, ctx).errors["qty"] == "risk-sized: needs a stop loss"


async def test_risk_sized_without_stop_refuses() -> None:
    app = Host(order_form())
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        form.query_one("#risk", Checkbox).value = True
        await pilot.pause()
        assert "needs a stop loss" in text(form, "#qty-error")
        form.query_one("#tp", Input).focus()
        await pilot.press("enter")
        assert app.screen is form
    assert app.results == []


async def test_live_order_asks_first_and_n_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)
    app = Host(order_form(live=True))
    async with app.run_test(size=SIZE) as pilot:
        form = app.screen
        await pilot.press(*"0.01", "enter")
        assert isinstance(app.screen, ConfirmModal)
        assert "BUY 0.010 BTCUSDT @ market" in text(app.screen, "#body")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is form and app.results == []
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (ConfirmModal, OrderFormModal))
    assert app.results == [PlaceOrderIntent("BTCUSDT", Side.BUY, OrderType.MARKET, Decimal("0.01"))]


async def test_double_enter_on_a_live_order_does_not_confirm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 5.0)  # longer than any pause between two keys on a busy machine
    app = Host(order_form(live=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"0.01", "enter", "enter")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OrderFormModal)
    assert app.results == []


async def test_escape_cancels_the_form() -> None:
    app = Host(order_form())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"0.01", "escape")
        await pilot.pause()
    assert app.results == [None]


async def test_form_fits_80x24() -> None:
    app = Host(order_form(live=True))
    async with app.run_test(size=SIZE):
        submit = app.screen.query_one("#submit")
        assert submit.region.bottom <= SIZE[1] and submit.region.right <= SIZE[0] and submit.region.height > 0


# -- confirm ----------------------------------------------------------------------------------------


async def test_confirm_y_and_enter_confirm_n_and_escape_cancel() -> None:
    for keys, expected in ((("y",), True), (("enter",), True), (("n",), False), (("escape",), False)):
        app = Host(lambda: ConfirmModal("Close", "Close 1 BTCUSDT?", arm_delay=0))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*keys)
            await pilot.pause()
        assert app.results == [expected], keys


async def test_confirm_ignores_a_double_enter_right_after_opening() -> None:
    app = Host(lambda: ConfirmModal("Send", "BUY", arm_delay=30))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "enter")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [False]


async def test_confirm_requires_typing_yes() -> None:
    app = Host(lambda: ConfirmModal("PANIC", "Close everything?", require_typed="yes", danger=True, arm_delay=0))
    async with app.run_test(size=SIZE) as pilot:
        modal = app.screen
        assert modal.has_class("danger")
        await pilot.press("enter")
        assert app.screen is modal and "Type 'yes'" in text(modal, "#typed-error")
        await pilot.press("y", "n", "enter")  # letters go into the field; 'yn' is not 'yes'
        assert app.screen is modal and app.results == []
        modal.query_one("#typed", Input).value = ""
        await pilot.press(*"yes", "enter")
        await pilot.pause()
    assert app.results == [True]


# -- TP/SL and leverage -----------------------------------------------------------------------------


def tpsl(side: Side = Side.BUY) -> Callable[[], TpSlModal]:
    return lambda: TpSlModal(
        "BTCUSDT", side, Decimal("99000.0"), Decimal("100000.0"), Decimal("0"), Decimal("98000.0"), BTC
    )


async def test_tpsl_validates_side_and_tick_then_returns_intent() -> None:
    app = Host(tpsl())
    async with app.run_test(size=SIZE) as pilot:
        modal = app.screen
        assert app.focused is not None and app.focused.id == "sl"
        set_value(modal, "#sl", "100500.0")
        set_value(modal, "#tp", "101000.05")
        await pilot.pause()
        assert "below the mark 100000" in text(modal, "#sl-error")
        assert "too many decimals: the step is 0.1" in text(modal, "#tp-error")
        await pilot.press("enter")
        assert app.screen is modal
        set_value(modal, "#sl", "99500.0")
        set_value(modal, "#tp", "")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [TradingStopIntent("BTCUSDT", take_profit=None, stop_loss=Decimal("99500.0"))]


async def test_tpsl_zero_removes_and_blank_is_refused() -> None:
    app = Host(tpsl(Side.SELL))
    async with app.run_test(size=SIZE) as pilot:
        modal = app.screen
        await pilot.press("enter")
        assert app.screen is modal and "Nothing to change" in text(modal, "#form-error")
        set_value(modal, "#sl", "0")
        set_value(modal, "#tp", "99000.0")
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [TradingStopIntent("BTCUSDT", take_profit=Decimal("99000.0"), stop_loss=Decimal("0"))]


async def test_leverage_is_checked_against_range_and_step() -> None:
    app = Host(lambda: LeverageModal("ETHUSDT", INSTRUMENTS, {"ETHUSDT": Decimal("10")}))
    async with app.run_test(size=SIZE) as pilot:
        modal = app.screen
        assert "ETHUSDT now 10x · 1–50x" in text(modal, "#limits")
        await pilot.press("ctrl+u", *"60")
        assert "above ETHUSDT's maximum of 50x" in text(modal, "#leverage-error")
        await pilot.press("enter")
        assert app.screen is modal
        await pilot.press("ctrl+u", *"2.005")
        assert "too many decimals: the step is 0.01" in text(modal, "#leverage-error")
        await pilot.press("ctrl+u", *"1,5")
        assert "use a dot for decimals" in text(modal, "#leverage-error")
        await pilot.press("ctrl+u", *"10", "enter")
        assert app.screen is modal and text(modal, "#leverage-error") == "unchanged"
        await pilot.press("ctrl+u", *"25", "enter")
        await pilot.pause()
    assert app.results == [LeverageIntent("ETHUSDT", Decimal("25"))]


async def test_leverage_picker_takes_any_symbol_and_shows_its_maximum() -> None:
    app = Host(lambda: LeverageModal("ETHUSDT", INSTRUMENTS, {"ETHUSDT": Decimal("10")}))
    async with app.run_test(size=SIZE) as pilot:
        modal = app.screen
        symbol = modal.query_one("#symbol", Input)
        symbol.value = "BTCUSDT"
        await pilot.pause()
        assert "BTCUSDT now unknown (no position) · 1–100x" in text(modal, "#limits")
        symbol.value = "DOGEUSDT"
        await pilot.pause()
        assert text(modal, "#symbol-error") == "unknown symbol"
        symbol.value = "BTCUSDT"
        modal.query_one("#leverage", Input).focus()
        await pilot.press("ctrl+u", *"75", "enter")
        await pilot.pause()
    assert app.results == [LeverageIntent("BTCUSDT", Decimal("75"))]


# -- settings -----------------------------------------------------------------------------------------


async def test_settings_rejection_shows_reason_inline_and_stays_open() -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    calls: list[dict[str, Any]] = []

    def apply(changes: dict[str, Any]) -> TradingSettings:
        calls.append(changes)
        return service.update(changes)

    app = Host(lambda: SettingsScreen(service.current, apply, info={"venue": "SIM", "orders via": "ws"}))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert "venue: SIM" in text(screen, "#info")
        set_value(screen, "#risk_percentage", "0")
        set_value(screen, "#leverage", "3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and app.results == []
        assert text(screen, "#risk_percentage-error") == "must be above 0"
        assert text(screen, "#leverage-error") == ""
        assert service.current.leverage == Decimal("5")  # all or nothing
        set_value(screen, "#rr_tightening_steps", "1-0")
        await pilot.press("ctrl+s")
        assert "at:stop" in text(screen, "#rr_tightening_steps-error")
        assert len(calls) == 1  # a field that does not parse never reaches apply
    assert app.results == []


async def test_settings_marks_every_bad_field_at_once_in_plain_words_and_applies_nothing() -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    calls: list[dict[str, Any]] = []

    def apply(changes: dict[str, Any]) -> TradingSettings:
        calls.append(changes)
        return service.update(changes)

    app = Host(lambda: SettingsScreen(service.current, apply))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        set_value(screen, "#max_concurrent_trades", "1.5")  # does not parse as a whole number
        set_value(screen, "#risk_percentage", "0")  # parses, but the rule refuses it
        set_value(screen, "#min_confidence_threshold", "2")
        set_value(screen, "#leverage", "3")  # fine on its own
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and calls == [] and service.current == TradingSettings()
        assert text(screen, "#max_concurrent_trades-error") == "must be a whole number"
        assert text(screen, "#risk_percentage-error") == "must be above 0"
        assert text(screen, "#min_confidence_threshold-error") == "must be 1 or less"
        assert text(screen, "#leverage-error") == ""
        assert text(screen, "#form-error") == (
            "Not saved: fix 3 marked fields (Min confidence 0–1, Risk per trade %, Max open trades)"
        )
        set_value(screen, "#rr_tightening_steps", "1:0, 0.5:0.2")
        set_value(screen, "#max_concurrent_trades", "2")
        set_value(screen, "#risk_percentage", "1")
        set_value(screen, "#min_confidence_threshold", "0.5")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text(screen, "#rr_tightening_steps-error") == "tightening steps must rise in both trigger R and stop R"
        assert len(calls) == 1 and service.current == TradingSettings()
    assert app.results == []


async def test_settings_escape_asks_before_discarding_edits_and_leaves_at_once_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)
    app = Host(lambda: SettingsScreen(TradingSettings(), lambda changes: TradingSettings()))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#leverage", Input).focus()
        await pilot.press("end", "0")  # 5 → 50
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Discard your unsaved edits (Leverage)?" in text(app.screen, "#body")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and screen.query_one("#leverage", Input).value == "50"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (SettingsScreen, ConfirmModal))
    assert app.results == [None]
    app = Host(lambda: SettingsScreen(TradingSettings(), lambda changes: TradingSettings()))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#leverage", Input).focus()
        await pilot.press("end", "0", "backspace")  # edited and back: nothing to lose
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, (SettingsScreen, ConfirmModal))
    assert app.results == [None]


async def test_settings_checkbox_says_on_or_off_and_the_focused_fields_label_stands_out(console: Console) -> None:
    async with console() as (app, pilot):
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        screen = app.screen
        box = screen.query_one("#auto_approve_trades", Checkbox)
        box.focus()
        await wait_for(lambda: app.focused is box)
        assert str(box.label) == "off"
        await pilot.press("space")
        await pilot.pause()
        assert box.value and str(box.label) == "on"
        focused = screen.query_one("#auto_approve_trades-row Label").styles
        other = screen.query_one("#paper_trading-row Label").styles
        assert focused.text_style.bold and not other.text_style.bold
        assert focused.color != other.color


async def test_settings_save_calls_apply_with_typed_changes() -> None:
    calls: list[dict[str, Any]] = []

    def apply(changes: dict[str, Any]) -> TradingSettings:
        calls.append(changes)
        return TradingSettings.model_validate({**TradingSettings().model_dump(), **changes})

    app = Host(lambda: SettingsScreen(TradingSettings(), apply))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        set_value(screen, "#risk_percentage", "2.5")
        set_value(screen, "#max_concurrent_trades", "4")
        set_value(screen, "#min_confidence_threshold", "0.7")
        set_value(screen, "#rr_tightening_steps", "1:0, 3:2")
        screen.query_one("#enable_sl_tightening", Checkbox).value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
    expected = {
        "min_confidence_threshold": 0.7,
        "risk_percentage": Decimal("2.5"),
        "max_concurrent_trades": 4,
        "enable_sl_tightening": False,
        "rr_tightening_steps": [{"at_r": Decimal(1), "stop_r": Decimal(0)}, {"at_r": Decimal(3), "stop_r": Decimal(2)}],
    }
    assert calls == [expected]
    assert app.results == [expected]


async def test_settings_rejection_from_apply_keeps_screen_and_escape_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)

    def apply(changes: dict[str, Any]) -> TradingSettings:
        raise SettingsRejected({"rr_tightening_steps.0.at_r": "must be above 0"})

    app = Host(lambda: SettingsScreen(TradingSettings(), apply))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        set_value(screen, "#rr_tightening_steps", "0:0")
        await pilot.press("ctrl+s")
        assert app.screen is screen
        assert text(screen, "#rr_tightening_steps-error") == "step 1: must be above 0"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")  # the edit is discarded
        await pilot.pause()
    assert app.results == [None]


async def test_settings_every_field_present_and_scrollable_at_80x24() -> None:
    app = Host(lambda: SettingsScreen(TradingSettings(), lambda c: TradingSettings()))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for name in TradingSettings.model_fields:
            assert screen.query_one(f"#{name}") is not None
        save = screen.query_one("#save")
        assert 0 < save.region.bottom <= SIZE[1]
        screen.query_one("#use_testnet").focus()
        await pilot.pause()
        assert screen.query_one("#use_testnet").region.bottom <= SIZE[1]
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [{}]


def test_choice_and_names_kinds_parse_or_say_what_is_allowed() -> None:
    assert kind_of("timeframe") == kind_of("trailing_stop_mode") == kind_of("aged_position_action") == "choice"
    assert kind_of("strategies") == "names" and kind_of("rr_tightening_steps") == "steps"
    assert choices_of("trailing_stop_mode") == ("off", "native", "client")
    assert parse_value("choice", " 60 ", choices_of("timeframe")) == "60"
    with pytest.raises(FieldInvalid, match="one of 1, 3, 5, 15, 30, 60, 120, 240, 360, 720, D"):
        parse_value("choice", "7", choices_of("timeframe"))
    assert parse_value("names", "ema_trend, my.pkg:Strategy,, ") == ["ema_trend", "my.pkg:Strategy"]
    with pytest.raises(FieldInvalid, match="at least one"):
        parse_value("names", " , ")
    with pytest.raises(FieldInvalid, match="'two words' is not a name"):
        parse_value("names", "ema_trend, two words")


async def test_settings_choice_and_names_are_edited_and_saved() -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    app = Host(lambda: SettingsScreen(service.current, service.update))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert screen.query_one("#timeframe", Select).value == "15"
        assert screen.query_one("#strategies", Input).value == "ema_trend, rsi_reversion, range_breakout"
        screen.query_one("#timeframe", Select).value = "60"
        screen.query_one("#trailing_stop_mode", Select).value = "native"
        set_value(screen, "#strategies", "ema_trend, tests.unit.test_strategies.EchoStrategy")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.results == [
        {
            "timeframe": "60",
            "trailing_stop_mode": "native",
            "strategies": ["ema_trend", "tests.unit.test_strategies.EchoStrategy"],
        }
    ]
    assert service.current.timeframe == "60" and service.current.trailing_stop_mode == "native"
    assert service.current.strategies == ["ema_trend", "tests.unit.test_strategies.EchoStrategy"]


async def test_settings_bad_names_show_a_reason_and_apply_nothing() -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    app = Host(lambda: SettingsScreen(service.current, service.update))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#timeframe", Select).value = "5"
        set_value(screen, "#strategies", " , ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "at least one" in text(screen, "#strategies-error")
        set_value(screen, "#strategies", "ema trend")
        await pilot.press("ctrl+s")
        assert "not a name" in text(screen, "#strategies-error")
    assert app.results == [] and service.current.timeframe == "15"


async def test_settings_strategy_that_cannot_load_is_refused_inline_and_nothing_applies() -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    app = Host(lambda: SettingsScreen(service.current, service.update))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#timeframe", Select).value = "5"
        set_value(screen, "#strategies", "ema_trend, nosuch")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "strategy 'nosuch': not a built-in" in text(screen, "#strategies-error")
        set_value(screen, "#strategies", "ema_trend, ema_trend")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "listed twice" in text(screen, "#strategies-error")
    assert app.results == [] and service.current == TradingSettings()


async def test_settings_choice_and_names_survive_a_restart(console: Console) -> None:
    async with console() as (app, pilot):
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#aged_position_action", Select).value = "close"
        app.screen.query_one("#strategies", Input).value = "rsi_reversion"
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
        assert app.runtime is not None and app.runtime.trading.current.aged_position_action == "close"
    async with console() as (again, _pilot):
        assert again.runtime is not None
        assert again.runtime.trading.current.aged_position_action == "close"
        assert again.runtime.trading.current.strategies == ["rsi_reversion"]


async def test_settings_info_shows_the_order_path_in_use_after_it_is_switched(console: Console) -> None:
    async with console() as (app, pilot):
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        assert "orders via: ws" in text(app.screen, "#info")
        app.screen.query_one("#orders_over_trade_ws", Checkbox).value = False
        await pilot.press("ctrl+s")
        await wait_for(lambda: not isinstance(app.screen, SettingsScreen))
        await pilot.press("comma")
        await wait_for(lambda: isinstance(app.screen, SettingsScreen))
        assert "orders via: rest" in text(app.screen, "#info")


# -- help ------------------------------------------------------------------------------------------------


async def test_help_lists_every_binding_with_what_it_does_and_closes_on_q_escape_question_mark() -> None:
    rows = help_rows({"buy": "B"})
    for key in ("q", "escape", "question_mark"):
        app = Host(lambda: HelpScreen(rows))
        async with app.run_test(size=SIZE) as pilot:
            table = app.screen.query_one(DataTable)
            shown = {row[2]: row for row in (table.get_row_at(i) for i in range(table.row_count))}
            assert set(shown) == {*BINDING_IDS, ""}  # "": tab / shift+tab, not remappable
            assert shown["buy"] == ["B", HELP_TEXT["buy"], "buy"]
            assert shown["settings"] == [", / f2", HELP_TEXT["settings"], "settings"]
            assert shown["help"][0] == "?" and shown["cancel_all"][1].startswith("Cancel every open order")
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)
        assert app.results == [None]


def test_a_trigger_fires_rising_above_the_price_now_and_falling_below_it_by_last_or_mark() -> None:
    def trigger(text: str, by: TriggerBy = TriggerBy.LAST, side: Side = Side.BUY) -> tuple[int, str]:
        fields = OrderFields("BTCUSDT", side, OrderType.MARKET, texts={"qty": "0.01", "trigger": text}, trigger_by=by)
        ev = evaluate(fields, context())
        return (ev.intent.trigger_direction if ev.intent else 0), ev.errors.get("trigger", "")

    assert trigger("101000.0") == (1, "")  # a buy stop above the last 100000
    assert trigger("99000.0") == (2, "")  # a buy on the dip below it
    assert trigger("99000.0", side=Side.SELL) == (2, "")
    assert trigger("100005.0") == (1, "")
    assert trigger("100005.0", TriggerBy.MARK) == (2, "")  # below the mark 100010
    assert trigger("100000.0") == (0, "equals the last price: nothing to wait for")
    assert trigger("100000.05") == (0, "too many decimals: the step is 0.1")


def test_reduce_only_takes_no_tp_sl_and_no_risk_sizing() -> None:
    texts = {"qty": "0.01", "tp": "110000.0"}
    ev = evaluate(OrderFields("BTCUSDT", Side.SELL, OrderType.MARKET, False, dict(texts), reduce_only=True), context())
    assert ev.intent is None and ev.errors == {"tp": "not with reduce-only"}
    ok = evaluate(
        OrderFields("BTCUSDT", Side.SELL, OrderType.MARKET, texts={"qty": "0.01"}, reduce_only=True), context()
    )
    assert ok.intent is not None and ok.intent.reduce_only and ok.warning == ""
    sized = evaluate(OrderFields("BTCUSDT", Side.SELL, OrderType.MARKET, True, {"sl": "101000.0"}, True), context())
    assert sized.errors["qty"] == "risk-sized: not with reduce-only"


def test_the_margin_warning_compares_with_what_available_carries_at_the_leverage() -> None:
    def warning(qty: str, leverage: str = "") -> str:
        texts = {"qty": qty, "leverage": leverage}
        return evaluate(
            OrderFields("BTCUSDT", Side.BUY, OrderType.MARKET, texts=texts), context(available="1000")
        ).warning

    assert warning("0.04") == ""  # 4,000 USDT on 1,000 at 5x (4,950 with the fee buffer)
    assert warning("0.05").startswith("Margin: order value 5,000.00 USDT exceeds the 4,950.50 USDT")
    assert warning("0.05", "10") == ""
