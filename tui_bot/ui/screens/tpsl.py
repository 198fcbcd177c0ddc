"""Edit a position's take profit and stop loss: blank leaves a leg, 0 removes it; side rules checked first."""

from __future__ import annotations

from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui_bot.domain.enums import Side
from tui_bot.domain.intents import TradingStopIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.ui import format as fmt
from tui_bot.ui.screens._fields import (
    FieldInvalid,
    FormModal,
    dialog_css,
    field_row,
    number_input,
    parse_decimal,
    show_errors,
)

FIELDS = ("tp", "sl")


def stop_error(
    value: Decimal, leg: str, side: Side, reference: Decimal | None, inst: Instrument, reference_name: str = "mark"
) -> str:
    """Why a TP ('tp') or SL ('sl') price is not allowed for a position/order of `side` ('' when fine)."""
    if value == 0:
        return ""
    if not inst.price_ok(value):
        return f"must be a multiple of {plain(inst.tick_size)} within {plain(inst.min_price)}–{plain(inst.max_price)}"
    above = (leg == "tp") == (side is Side.BUY)
    if reference and (value - reference) * (1 if above else -1) <= 0:
        return f"must be {'above' if above else 'below'} the {reference_name} {fmt.price(reference, inst)}"
    return ""


def _now(value: Decimal, inst: Instrument) -> str:
    return fmt.price(value, inst, unset="none")


class TpSlModal(FormModal[TradingStopIntent]):
    """Returns a TradingStopIntent (None = leave a leg, 0 = remove it) on Enter when valid; None on Esc."""

    DEFAULT_CSS = dialog_css(
        "TpSlModal",
        72,
        """
    TpSlModal #form-error { color: $error; height: auto; }
    """,
    )

    def __init__(
        self,
        symbol: str,
        side: Side,
        entry: Decimal,
        mark: Decimal,
        take_profit: Decimal,
        stop_loss: Decimal,
        instrument: Instrument,
    ) -> None:
        super().__init__()
        self.symbol = symbol
        self.side = side
        self.entry = entry
        self.mark = mark or entry
        self.take_profit = take_profit
        self.stop_loss = stop_loss
        self.instrument = instrument

    def compose(self) -> ComposeResult:
        side = "LONG" if self.side is Side.BUY else "SHORT"
        with Vertical(id="dialog"):
            yield Static(f"TP / SL — {side} {self.symbol}", classes="modal-title")
            yield Static(self._info(), id="tpsl-info")
            yield field_row(
                "Take profit", number_input("tp", placeholder=f"keep {_now(self.take_profit, self.instrument)}"), "tp"
            )
            yield field_row(
                "Stop loss", number_input("sl", placeholder=f"keep {_now(self.stop_loss, self.instrument)}"), "sl"
            )
            yield Static("Blank keeps a leg, 0 removes it.  Enter saves, Esc cancels.", classes="note")
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="submit", variant="primary", compact=True)

    def _info(self) -> str:
        return (
            f"entry {fmt.price(self.entry, self.instrument)}   mark {fmt.price(self.mark, self.instrument)}   "
            f"TP now {_now(self.take_profit, self.instrument)}   SL now {_now(self.stop_loss, self.instrument)}"
        )

    def on_mount(self) -> None:
        self.query_one("#sl" if self.stop_loss else "#tp", Input).focus()

    def set_mark(self, symbol: str, mark: Decimal) -> None:
        """The position's live mark (the app feeds every re-mark): shown, and the side checks use it."""
        if symbol != self.symbol or not mark or mark == self.mark:
            return
        self.mark = mark
        if self.is_mounted:
            self.query_one("#tpsl-info", Static).update(self._info())
            show_errors(self, FIELDS, self._check()[1])

    def _check(self) -> tuple[dict[str, Decimal | None], dict[str, str]]:
        values: dict[str, Decimal | None] = {}
        errors: dict[str, str] = {}
        for leg in FIELDS:
            try:
                value = parse_decimal(self.query_one(f"#{leg}", Input).value, step=self.instrument.tick_size)
            except FieldInvalid as err:
                errors[leg] = str(err)
                continue
            values[leg] = value
            if value is not None and (error := stop_error(value, leg, self.side, self.mark, self.instrument)):
                errors[leg] = error
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
        if values.get("tp") is None and values.get("sl") is None:
            self.query_one("#form-error", Static).update("Nothing to change: enter a TP or an SL (0 removes).")
            return
        self.answer(TradingStopIntent(self.symbol, take_profit=values.get("tp"), stop_loss=values.get("sl")))
