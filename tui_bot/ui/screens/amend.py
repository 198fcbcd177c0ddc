"""Amend a working order's price and qty: both prefilled, parsed exactly and checked against tick and qty step."""

from __future__ import annotations

import re
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui_bot.domain.enums import OrderType
from tui_bot.domain.intents import AmendOrderIntent
from tui_bot.domain.models import Instrument, Order
from tui_bot.domain.numbers import plain, round_to_step
from tui_bot.ui.screens._fields import FieldInvalid, FormModal, dialog_css, field_row, parse_decimal, show_errors

FIELDS = ("price", "qty")
_PLAIN_NUMBER = re.compile(r"\s*(\d+(\.\d*)?|\.\d+)\s*")


def exact_number(text: str) -> Decimal:
    """A plain decimal number typed by the trader; FieldInvalid for anything else (no commas, signs or exponents)."""
    if not text.strip():
        raise FieldInvalid("required")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise FieldInvalid(f"{text.strip()!r} is not a plain decimal number")
    value = parse_decimal(text)
    assert value is not None
    return value


def price_error(price: Decimal, inst: Instrument) -> str:
    """Why a limit price is refused for this instrument ('' when fine)."""
    if not inst.min_price <= price <= inst.max_price:
        return f"must be within {plain(inst.min_price)}–{plain(inst.max_price)}"
    if not inst.price_ok(price):
        return f"not on the {plain(inst.tick_size)} tick: {plain(round_to_step(price, inst.tick_size))}?"
    return ""


def qty_error(qty: Decimal, order: Order, inst: Instrument) -> str:
    """Why a new order qty is refused: step, min/max, and above what has already filled ('' when fine)."""
    if qty % inst.qty_step:
        return f"not on the {plain(inst.qty_step)} step: {plain(round_to_step(qty, inst.qty_step))}?"
    if qty < inst.min_qty and not order.reduce_only:
        return f"below the minimum {plain(inst.min_qty)}"
    if qty > inst.max_qty:
        return f"above the maximum {plain(inst.max_qty)}"
    if qty <= order.cum_exec_qty:
        return f"must be above the {plain(order.cum_exec_qty)} already filled"
    return ""


class AmendModal(FormModal[AmendOrderIntent]):
    """Returns an AmendOrderIntent with the changed fields on Enter when valid; None on Esc."""

    DEFAULT_CSS = dialog_css("AmendModal", 72)

    def __init__(self, order: Order, instrument: Instrument) -> None:
        super().__init__()
        self.order = order
        self.instrument = instrument
        self.has_price = order.order_type is OrderType.LIMIT

    def compose(self) -> ComposeResult:
        order = self.order
        with Vertical(id="dialog"):
            yield Static(
                f"Amend {order.side.value} {order.order_type.value} {order.symbol} — order {order.order_id[:8]}",
                classes="modal-title",
                markup=False,
            )
            price = Input(plain(order.price) if self.has_price else "", id="price", compact=True)
            price.disabled = not self.has_price
            note = "" if self.has_price else "a market order has no price"
            yield field_row("Price", price, "price", note)
            yield field_row("Qty", Input(plain(order.qty), id="qty", compact=True), "qty")
            yield Static(
                f"tick {plain(self.instrument.tick_size)}, qty step {plain(self.instrument.qty_step)}.  "
                "Enter amends, Esc cancels.",
                classes="note",
            )
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Amend", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#price" if self.has_price else "#qty", Input).focus()

    def _check(self) -> tuple[dict[str, Decimal], dict[str, str]]:
        """The parsed fields and each refused field's reason."""
        values: dict[str, Decimal] = {}
        errors: dict[str, str] = {}
        for field in FIELDS if self.has_price else ("qty",):
            try:
                values[field] = exact_number(self.query_one(f"#{field}", Input).value)
            except FieldInvalid as err:
                errors[field] = str(err)
        if "price" in values and (error := price_error(values["price"], self.instrument)):
            errors["price"] = error
        if "qty" in values and (error := qty_error(values["qty"], self.order, self.instrument)):
            errors["qty"] = error
        return values, errors

    def on_input_changed(self, event: Input.Changed) -> None:
        _, errors = self._check()
        show_errors(self, FIELDS, errors)
        self.query_one("#form-error", Static).update("")

    def action_submit(self) -> None:
        if self.answered:
            return
        values, errors = self._check()
        show_errors(self, FIELDS, errors)
        if errors:
            return
        price = values.get("price")
        qty = values["qty"]
        changed_price = price if price is not None and price != self.order.price else None
        changed_qty = qty if qty != self.order.qty else None
        if changed_price is None and changed_qty is None:
            self.query_one("#form-error", Static).update("Nothing changed: edit the price or the qty.")
            return
        order = self.order
        self.answer(AmendOrderIntent(order.symbol, order.order_id, order.order_link_id, changed_qty, changed_price))
