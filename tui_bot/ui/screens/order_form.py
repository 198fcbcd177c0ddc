"""The order ticket's screen: every field validated live (ticket.py) and previewed (ticket_preview.py) as the
market moves; nothing leaves it unless valid."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.ui import format as fmt
from tui_bot.ui.keymap import TICKET_SYMBOL_KEY, TICKET_TYPE_KEY
from tui_bot.ui.screens._fields import FORM_CSS, FormModal, field_row, number_input, show_errors
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.ticket import FIELDS, NUMBERS, Evaluation, OrderFields, TicketContext, evaluate
from tui_bot.ui.screens.ticket_preview import describe, preview, trigger_words
from tui_bot.ui.widgets.toggles import MarkedCheckbox, MarkedRadioButton

SYMBOL_KEY = TICKET_SYMBOL_KEY
TYPE_KEY = TICKET_TYPE_KEY
TIF_BUTTONS = {f"tif-{tif.name.lower()}": tif for tif in TimeInForce}


def _radios(set_id: str, choices: dict[str, str], chosen: str) -> RadioSet:
    """A compact horizontal RadioSet of {id: label} with `chosen` pressed."""
    buttons = [MarkedRadioButton(label, value=key == chosen, id=key) for key, label in choices.items()]
    return RadioSet(*buttons, id=set_id, compact=True)


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
    OrderFormModal #risk-row > Checkbox { width: auto; margin-right: 2; }
    OrderFormModal #trigger-row > RadioSet { margin-left: 1; }
    OrderFormModal .note, OrderFormModal #preview { color: $text-muted; }
    OrderFormModal #quote { color: $text; }
    OrderFormModal #margin-warning { color: $warning; text-style: bold; height: auto; }
    OrderFormModal #live { color: $error; text-style: bold; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=False),
        Binding(SYMBOL_KEY, "symbol", "Symbol", show=False),
        Binding(TYPE_KEY, "switch_type", "Market / Limit", show=False),
    ]

    def __init__(
        self,
        side: Side,
        symbol: str,
        symbols: list[str],
        context: TicketContext,
        live_money: bool,
        *,
        on_submit: Callable[[PlaceOrderIntent], object] | None = None,
    ) -> None:
        super().__init__(classes="-buy" if side is Side.BUY else "-sell")
        self.on_submit = on_submit
        self.side = side
        self.symbol = symbol
        self.symbols = list(symbols)
        self.context = context
        self.live_money = live_money
        self.evaluation = Evaluation(None, {})
        self._confirming = False
        self._wanted: set[str] = set()

    @property
    def last_prices(self) -> dict[str, Decimal]:
        return self.context.last_prices

    def compose(self) -> ComposeResult:
        buy = self.side is Side.BUY
        with VerticalScroll(id="dialog"):
            yield Static(self._title(), id="title", classes="modal-title")
            if self.live_money:
                yield Static("LIVE ACCOUNT — real money", id="live")
            yield Static("", id="quote")
            yield Static("", id="filters", classes="note")
            suggester = SuggestFromList(self.symbols, case_sensitive=False)
            symbol = Input(self.symbol, id="symbol", suggester=suggester, compact=True)
            yield field_row("Symbol", symbol, "symbol", note="ctrl+t jumps here")
            sides = {"side-buy": "Buy", "side-sell": "Sell"}
            yield Horizontal(
                Label("Side"), _radios("side", sides, "side-buy" if buy else "side-sell"), classes="field-row"
            )
            yield from self._order_kind_rows()
            yield field_row("Quantity", number_input("qty"), "qty")
            yield Horizontal(
                Label(""),
                MarkedCheckbox("risk-sized", id="risk", compact=True),
                MarkedCheckbox("reduce-only", id="reduce", compact=True),
                Static("", id="risk-note", classes="note"),
                classes="field-row",
                id="risk-row",
            )
            yield field_row("Price", number_input("price", disabled=True), "price")
            yield from self._trigger_row()
            yield field_row("Take profit", number_input("tp", placeholder="none"), "tp")
            yield field_row("Stop loss", number_input("sl", placeholder="none"), "sl")
            now = self.context.leverages.get(self.symbol)
            placeholder = f"unchanged ({plain(now.normalize())}x)" if now else "unchanged"
            yield field_row("Leverage", number_input("leverage", placeholder=placeholder), "leverage")
            yield Static("", id="preview")
            yield Static("", id="margin-warning", markup=False)
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Place (Enter)", id="submit", variant="success" if buy else "error", compact=True)

    def _order_kind_rows(self) -> ComposeResult:
        """Market or limit, and the time in force (limit orders only: a market order is always IOC)."""
        types = {"type-market": "Market", "type-limit": "Limit"}
        type_note = Static("ctrl+l switches", classes="note")
        yield Horizontal(Label("Type"), _radios("type", types, "type-market"), type_note, classes="field-row")
        tifs = {key: tif.value for key, tif in TIF_BUTTONS.items()}
        tif = _radios("tif", tifs, "tif-gtc")
        tif.disabled = True
        yield Horizontal(Label("Time in force"), tif, Static("", id="tif-note", classes="note"), classes="field-row")

    def _trigger_row(self) -> ComposeResult:
        """Trigger price (blank: the order goes live at once) and which price fires it."""
        yield Horizontal(
            Label("Trigger at"),
            number_input("trigger", placeholder="none: not conditional"),
            _radios("trigger-by", {"by-last": "Last", "by-mark": "Mark"}, "by-last"),
            Static("", id="trigger-error", classes="error", markup=False),
            classes="field-row",
            id="trigger-row",
        )

    def on_mount(self) -> None:
        self._want_price()
        self.refresh_validation()

    def action_symbol(self) -> None:
        """Focus the symbol field with its text selected, so the next keys replace it."""
        field = self.query_one("#symbol", Input)
        field.focus()
        field.select_all()

    def set_last_price(self, symbol: str, price: Decimal, mark: Decimal | None = None) -> None:
        """A fresh last (and mark) price (the app feeds every move while the ticket is open): the shown prices, side
        checks, trigger direction, risk sizing and the preview follow the market when it is the ticket's symbol."""
        if self.context.last_prices.get(symbol) == price and (mark is None or self.context.marks.get(symbol) == mark):
            return
        self.context.last_prices[symbol] = price
        if mark:
            self.context.marks[symbol] = mark
        if self.is_mounted and symbol == self._typed_symbol():
            self.refresh_validation()

    def action_switch_type(self) -> None:
        """Market to Limit (then the price field, its text selected, takes the next keys) or back, from any field."""
        limit = self._pressed("type") != "type-limit"
        price = self.query_one("#price", Input)
        if not limit and self.focused is price:
            self.query_one("#qty", Input).focus()
        self.query_one("#type-limit" if limit else "#type-market", RadioButton).value = True
        self._type_changed(limit)
        if limit:
            price.focus()
            price.select_all()

    def _typed_symbol(self) -> str:
        return self.query_one("#symbol", Input).value.strip().upper()

    def _title(self) -> str:
        return f"{'BUY' if self.side is Side.BUY else 'SELL'} order"

    def _pressed(self, radio_set: str) -> str:
        button = self.query_one(f"#{radio_set}", RadioSet).pressed_button
        return (button.id or "") if button is not None else ""

    def fields(self) -> OrderFields:
        """The ticket as typed right now."""
        texts = {name: self.query_one(f"#{name}", Input).value for name in NUMBERS}
        limit = self._pressed("type") == "type-limit"
        return OrderFields(
            self.query_one("#symbol", Input).value,
            self.side,
            OrderType.LIMIT if limit else OrderType.MARKET,
            self.query_one("#risk", Checkbox).value,
            texts,
            reduce_only=self.query_one("#reduce", Checkbox).value,
            time_in_force=TIF_BUTTONS.get(self._pressed("tif"), TimeInForce.GTC),
            trigger_by=TriggerBy.MARK if self._pressed("trigger-by") == "by-mark" else TriggerBy.LAST,
        )

    def refresh_validation(self, *, submitting: bool = False) -> Evaluation:
        """Re-validate everything and show each reason beside its field (on every change; 'required' only on submit)."""
        ev = evaluate(self.fields(), self.context)
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
        self.query_one("#preview", Static).update(self._preview_text(ev))
        self.query_one("#margin-warning", Static).update(ev.warning)
        self._show_market()
        return ev

    def _preview_text(self, ev: Evaluation) -> str:
        if ev.intent is None or ev.entry is None:
            return ""
        leverage = self.context.leverage_of(ev.intent.symbol, ev.intent.leverage)
        text = preview(ev.intent, ev.entry, leverage, self.context.settings.taker_fee_rate)
        if ev.intent.trigger_price is not None:
            inst = self.context.instruments[ev.intent.symbol]
            text = f"conditional: triggers {trigger_words(ev.intent, inst)}\n{text}"
        return text

    def _show_market(self) -> None:
        """The symbol's last and mark price now, and its filters."""
        symbol = self._typed_symbol()
        inst = self.context.instruments.get(symbol)
        if inst is None:
            self.query_one("#quote", Static).update("")
            self.query_one("#filters", Static).update("")
            return
        last, mark = self.context.last_prices.get(symbol), self.context.marks.get(symbol)
        self.query_one("#quote", Static).update(
            f"{symbol}  last {fmt.price(last, inst)} · mark {fmt.price(mark, inst)}"
        )
        self.query_one("#filters", Static).update(
            f"tick {plain(inst.tick_size)} · step {plain(inst.qty_step)} · min {fmt.qty(inst.min_qty, inst)}"
            f" · min value {plain(inst.min_notional)} USDT · leverage ≤ {plain(inst.max_leverage.normalize())}x"
        )

    class SymbolWanted(Message):
        """The ticket's symbol is listed but has no price yet: the app streams its ticker (and shows its market)."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "symbol":
            self._want_price()
        self.refresh_validation()

    def _want_price(self) -> None:
        """Ask the app once for the price of a listed symbol the ticket has none for."""
        symbol = self._typed_symbol()
        known = symbol in self.context.last_prices or symbol in self._wanted
        if symbol in self.context.instruments and not known:
            self._wanted.add(symbol)
            self.post_message(self.SymbolWanted(symbol))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.checkbox.id == "risk":
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
        elif event.radio_set.id == "type":
            self._type_changed(event.pressed.id == "type-limit")
        self.refresh_validation()

    def _type_changed(self, limit: bool) -> None:
        """Limit enables the price field (prefilled with the last price on the tick grid) and the time in force."""
        price = self.query_one("#price", Input)
        price.disabled = not limit
        self.query_one("#tif", RadioSet).disabled = not limit
        self.query_one("#tif-note", Static).update("" if limit else "market orders are IOC")
        symbol = self._typed_symbol()
        last, inst = self.context.last_prices.get(symbol), self.context.instruments.get(symbol)
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
        body = describe(intent, self.context.instruments[intent.symbol])
        if text := self._preview_text(ev):
            body += f"\n{text}"
        if ev.warning:
            body += f"\n{ev.warning}"
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
