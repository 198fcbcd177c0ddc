"""The order ticket: every field validated live against the instrument's filters; nothing leaves it unless valid."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from tui_bot.core.orders import OrderInvalid, check_order
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.domain.requests import OrderRequest
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.ui.screens._fields import (
    FORM_CSS,
    NUMBER,
    FieldInvalid,
    FormModal,
    field_row,
    number_input,
    parse_decimal,
    show_errors,
)
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.leverage import leverage_error
from tui_bot.ui.screens.tpsl import stop_error

FIELDS = ("symbol", "qty", "price", "tp", "sl", "leverage")
NUMBERS = ("qty", "price", "tp", "sl", "leverage")


@dataclass(slots=True)
class OrderFields:
    """The ticket's raw contents, as typed."""

    symbol: str
    side: Side
    order_type: OrderType
    risk_sized: bool = False
    texts: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Evaluation:
    """What the ticket would send (None while invalid), each field's reason, and what the risk sizing computed."""

    intent: PlaceOrderIntent | None
    errors: dict[str, str]
    risk_qty: Decimal | None = None
    risk_note: str = ""
    entry: Decimal | None = None


def risk_sized_qty(
    equity: Decimal | None,
    settings: TradingSettings,
    entry: Decimal | None,
    stop_loss: Decimal | None,
    inst: Instrument,
) -> tuple[Decimal | None, str]:
    """qty = floor_to_step(equity × risk% / |entry − SL|), capped so the loss at the SL stays ≤ max_loss_usd."""
    if equity is None or equity <= 0:
        return None, "equity unknown"
    if entry is None:
        return None, "needs an entry price"
    if stop_loss is None:
        return None, "needs a stop loss"
    distance = abs(entry - stop_loss)
    if distance == 0:
        return None, "stop loss equals the entry"
    risk = equity * settings.risk_percentage / 100
    budget = min(risk, settings.max_loss_usd)
    capped = ", capped by max loss" if budget < risk else ""
    qty = floor_to_step(budget / distance, inst.qty_step)
    return qty, f"risk {budget:.2f} USDT ({plain(settings.risk_percentage)}% of {equity:.2f}{capped})"


def _parse(fields: OrderFields, errors: dict[str, str]) -> dict[str, Decimal | None]:
    values: dict[str, Decimal | None] = {}
    for name in NUMBERS:
        try:
            values[name] = parse_decimal(fields.texts.get(name, ""))
        except FieldInvalid as err:
            errors[name] = str(err)
    return values


def _check_qty(
    inst: Instrument,
    fields: OrderFields,
    symbol: str,
    qty: Decimal | None,
    price: Decimal | None,
    entry: Decimal | None,
    errors: dict[str, str],
) -> None:
    """Quantity rules of check_order (step, min, max, min notional) for this qty alone."""
    if qty is None:
        errors.setdefault("qty", "required")
        return
    if "qty" in errors or entry is None:
        return
    try:
        check_order(inst, OrderRequest(symbol, fields.side, fields.order_type, qty, "", price=price), entry)
    except OrderInvalid as err:
        errors["qty"] = str(err)


def evaluate(
    fields: OrderFields,
    instruments: Mapping[str, Instrument],
    last_prices: Mapping[str, Decimal],
    equity: Decimal | None,
    settings: TradingSettings,
) -> Evaluation:
    """Validate the ticket field by field, then the whole order with check_order; build the intent if all pass."""
    errors: dict[str, str] = {}
    symbol = fields.symbol.strip().upper()
    inst = instruments.get(symbol)
    if inst is None:
        errors["symbol"] = "unknown symbol" if symbol else "required"
    values = _parse(fields, errors)
    if inst is None:
        return Evaluation(None, errors)
    limit = fields.order_type is OrderType.LIMIT
    price = values.get("price") if limit else None
    if limit and "price" not in errors:
        if price is None:
            errors["price"] = "required for a limit order"
        elif not inst.price_ok(price):
            errors["price"] = (
                f"must be a multiple of {plain(inst.tick_size)} within {plain(inst.min_price)}–{plain(inst.max_price)}"
            )
    last = last_prices.get(symbol) or None
    entry = (price if "price" not in errors else None) if limit else last
    if not limit and last is None:
        errors["form"] = f"no last price for {symbol} yet: use a limit order"
    tp, sl = values.get("tp") or None, values.get("sl") or None
    for leg, value in (("tp", tp), ("sl", sl)):
        if (
            value is not None
            and leg not in errors
            and (error := stop_error(value, leg, fields.side, entry, inst, "entry"))
        ):
            errors[leg] = error
    leverage = values.get("leverage")
    if leverage is not None and "leverage" not in errors and (error := leverage_error(leverage, inst)):
        errors["leverage"] = error
    risk_qty, risk_note = None, ""
    qty = values.get("qty")
    if fields.risk_sized:
        risk_qty, risk_note = risk_sized_qty(equity, settings, entry, sl, inst)
        qty = risk_qty
        if risk_qty is None:
            errors["qty"] = f"risk-sized: {risk_note}"
    _check_qty(inst, fields, symbol, qty, price, entry, errors)
    if errors or qty is None or entry is None:
        return Evaluation(None, errors, risk_qty, risk_note, entry)
    request = OrderRequest(symbol, fields.side, fields.order_type, qty, "", price=price, take_profit=tp, stop_loss=sl)
    try:
        check_order(inst, request, entry)
    except OrderInvalid as err:
        return Evaluation(None, {"form": str(err)}, risk_qty, risk_note, entry)
    intent = PlaceOrderIntent(symbol, fields.side, fields.order_type, qty, price, tp, sl, leverage)
    return Evaluation(intent, {}, risk_qty, risk_note, entry)


def describe(intent: PlaceOrderIntent, inst: Instrument) -> str:
    """One line a trader reads before confirming: 'BUY 0.010 BTCUSDT @ market, TP 110000, SL 100000'."""
    where = "market" if intent.order_type is OrderType.MARKET else plain(intent.price)
    text = f"{intent.side.value.upper()} {plain(intent.qty.quantize(inst.qty_step))} {intent.symbol} @ {where}"
    for name, value in (("TP", intent.take_profit), ("SL", intent.stop_loss)):
        if value is not None:
            text += f", {name} {plain(value)}"
    if intent.leverage is not None:
        text += f", leverage {plain(intent.leverage)}x"
    return text


def preview(intent: PlaceOrderIntent, entry: Decimal) -> str:
    """Order value and the loss if the stop is hit, at the entry price used for validation."""
    text = f"≈ {intent.qty * entry:,.2f} USDT"
    if intent.stop_loss is not None:
        text += f" · loss at SL ≈ {intent.qty * abs(entry - intent.stop_loss):,.2f} USDT"
    return text


class OrderFormModal(FormModal[PlaceOrderIntent]):
    """Returns a PlaceOrderIntent when valid (and, on a live venue, confirmed); None on Esc."""

    AUTO_FOCUS = "#qty"
    DEFAULT_CSS = (
        FORM_CSS
        + """
    OrderFormModal { align: center middle; }
    OrderFormModal > #dialog {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $success; background: $surface; padding: 0 1;
    }
    OrderFormModal.-sell > #dialog { border: thick $error; }
    OrderFormModal .modal-title { color: $success; }
    OrderFormModal.-sell .modal-title { color: $error; }
    OrderFormModal RadioSet { layout: horizontal; width: auto; height: 1; }
    OrderFormModal RadioSet > RadioButton { width: auto; margin-right: 2; }
    OrderFormModal #risk-row > Checkbox { width: auto; }
    OrderFormModal .note, OrderFormModal #preview { color: $text-muted; }
    OrderFormModal #live { color: $error; text-style: bold; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(
        self,
        side: Side,
        symbol: str,
        symbols: list[str],
        instruments: Mapping[str, Instrument],
        last_prices: Mapping[str, Decimal],
        equity: Decimal | None,
        settings: TradingSettings,
        live_money: bool,
        *,
        on_submit: Callable[[PlaceOrderIntent], object] | None = None,
    ) -> None:
        super().__init__(classes="-buy" if side is Side.BUY else "-sell")
        self.on_submit = on_submit
        self.side = side
        self.symbol = symbol
        self.symbols = list(symbols)
        self.instruments = instruments
        self.last_prices = dict(last_prices)
        self.equity = equity
        self.settings = settings
        self.live_money = live_money
        self.evaluation = Evaluation(None, {})
        self._confirming = False

    def compose(self) -> ComposeResult:
        buy = self.side is Side.BUY
        with VerticalScroll(id="dialog"):
            yield Static(self._title(), id="title", classes="modal-title")
            if self.live_money:
                yield Static("LIVE ACCOUNT — real money", id="live")
            yield Static("", id="filters", classes="note")
            suggester = SuggestFromList(self.symbols, case_sensitive=False)
            yield field_row("Symbol", Input(self.symbol, id="symbol", suggester=suggester, compact=True), "symbol")
            yield Horizontal(
                Label("Side"),
                RadioSet(
                    RadioButton("Buy", value=buy, id="side-buy"),
                    RadioButton("Sell", value=not buy, id="side-sell"),
                    id="side",
                    compact=True,
                ),
                classes="field-row",
            )
            yield Horizontal(
                Label("Type"),
                RadioSet(
                    RadioButton("Market", value=True, id="type-market"),
                    RadioButton("Limit", id="type-limit"),
                    id="type",
                    compact=True,
                ),
                classes="field-row",
            )
            yield field_row("Quantity", number_input("qty"), "qty")
            yield Horizontal(
                Label(""),
                Checkbox("risk-sized", id="risk", compact=True),
                Static("", id="risk-note", classes="note"),
                classes="field-row",
                id="risk-row",
            )
            yield field_row("Price", Input(id="price", restrict=NUMBER, compact=True, disabled=True), "price")
            yield field_row("Take profit", number_input("tp", placeholder="none"), "tp")
            yield field_row("Stop loss", number_input("sl", placeholder="none"), "sl")
            yield field_row("Leverage", number_input("leverage", placeholder="unchanged"), "leverage")
            yield Static("", id="preview")
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Place (Enter)", id="submit", variant="success" if buy else "error", compact=True)

    def on_mount(self) -> None:
        self.refresh_validation()

    def set_last_price(self, symbol: str, price: Decimal) -> None:
        """A fresh last price (the app feeds every move while the ticket is open): the shown price, side checks,
        risk sizing and the order value follow the market when it is the ticket's symbol."""
        if self.last_prices.get(symbol) == price:
            return
        self.last_prices[symbol] = price
        if self.is_mounted and symbol == self._typed_symbol():
            self.refresh_validation()

    def _typed_symbol(self) -> str:
        return self.query_one("#symbol", Input).value.strip().upper()

    def _title(self) -> str:
        return f"{'BUY' if self.side is Side.BUY else 'SELL'} order"

    def fields(self) -> OrderFields:
        """The ticket as typed right now."""
        texts = {name: self.query_one(f"#{name}", Input).value for name in NUMBERS}
        limit = self.query_one("#type-limit", RadioButton).value
        return OrderFields(
            self.query_one("#symbol", Input).value,
            self.side,
            OrderType.LIMIT if limit else OrderType.MARKET,
            self.query_one("#risk", Checkbox).value,
            texts,
        )

    def refresh_validation(self, *, submitting: bool = False) -> Evaluation:
        """Re-validate everything and show each reason beside its field (on every change; 'required' only on submit)."""
        ev = evaluate(self.fields(), self.instruments, self.last_prices, self.equity, self.settings)
        self.evaluation = ev
        shown = {k: v for k, v in ev.errors.items() if submitting or v != "required"}
        show_errors(self, FIELDS, shown)
        self.query_one("#form-error", Static).update(ev.errors.get("form", ""))
        qty_input = self.query_one("#qty", Input)
        if (
            self.query_one("#risk", Checkbox).value
            and ev.risk_qty is not None
            and qty_input.value != plain(ev.risk_qty)
        ):
            qty_input.value = plain(ev.risk_qty)
        self.query_one("#risk-note", Static).update(ev.risk_note)
        self.query_one("#preview", Static).update(preview(ev.intent, ev.entry) if ev.intent and ev.entry else "")
        self._show_filters()
        return ev

    def _show_filters(self) -> None:
        symbol = self._typed_symbol()
        inst = self.instruments.get(symbol)
        if inst is None:
            self.query_one("#filters", Static).update("")
            return
        last = self.last_prices.get(symbol)
        self.query_one("#filters", Static).update(
            f"last {plain(last) if last else '—'} · tick {plain(inst.tick_size)} · step {plain(inst.qty_step)}"
            f" · min {plain(inst.min_qty)} · min value {plain(inst.min_notional)} USDT"
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.refresh_validation()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.query_one("#qty", Input).disabled = event.value
        self.refresh_validation()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        if event.radio_set.id == "side":
            self.side = Side.BUY if event.pressed.id == "side-buy" else Side.SELL
            self.set_class(self.side is Side.BUY, "-buy")
            self.set_class(self.side is Side.SELL, "-sell")
            self.query_one("#title", Static).update(self._title())
            self.query_one("#submit", Button).variant = "success" if self.side is Side.BUY else "error"
        else:
            self._type_changed(event.pressed.id == "type-limit")
        self.refresh_validation()

    def _type_changed(self, limit: bool) -> None:
        """Limit enables the price field, prefilled with the last price on the tick grid."""
        price = self.query_one("#price", Input)
        price.disabled = not limit
        symbol = self._typed_symbol()
        last, inst = self.last_prices.get(symbol), self.instruments.get(symbol)
        if limit and not price.value and last and inst is not None:
            price.value = plain(floor_to_step(last, inst.tick_size))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        """Refuse while invalid; on a live venue ask first; else return the intent (once: later submits do nothing)."""
        if self._confirming or self.answered:
            return
        ev = self.refresh_validation(submitting=True)
        intent = ev.intent
        if intent is None:
            self.app.bell()
            return
        if not self.live_money:
            self._submit(intent)
            return
        self._confirming = True
        body = describe(intent, self.instruments[intent.symbol])
        if ev.entry is not None:
            body += f"\n{preview(intent, ev.entry)}"
        confirm = ConfirmModal("Send this order to the LIVE account?", body, danger=True)
        self.app.push_screen(confirm, lambda ok: self._confirmed(intent, ok))

    def _confirmed(self, intent: PlaceOrderIntent, ok: bool | None) -> None:
        self._confirming = False
        if ok:
            self._submit(intent)

    def _submit(self, intent: PlaceOrderIntent) -> None:
        """Hand the intent over now (on_submit starts the send before the screen is even popped), then close;
        a second Enter already queued behind the first finds the form answered and sends nothing."""
        self.answer(intent, first=partial(self.on_submit, intent) if self.on_submit is not None else None)
