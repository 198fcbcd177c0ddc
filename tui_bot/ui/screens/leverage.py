"""Change a symbol's leverage, validated against the instrument's range and step before anything is sent."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui_bot.domain.intents import LeverageIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import is_multiple, plain
from tui_bot.ui.screens._fields import (
    FORM_CSS,
    FieldInvalid,
    FormModal,
    field_row,
    number_input,
    parse_decimal,
    show_errors,
)


def leverage_error(value: Decimal | None, inst: Instrument) -> str:
    """Why a leverage is not allowed for this instrument ('' when it is)."""
    if value is None:
        return "required"
    if not inst.min_leverage <= value <= inst.max_leverage:
        return f"must be {plain(inst.min_leverage)}–{plain(inst.max_leverage)}"
    if not is_multiple(value, inst.leverage_step):
        return f"must be a multiple of {plain(inst.leverage_step)}"
    return ""


class LeverageModal(FormModal[LeverageIntent]):
    """Returns a LeverageIntent for a valid, changed leverage on Enter; None on Esc."""

    DEFAULT_CSS = (
        FORM_CSS
        + """
    LeverageModal { align: center middle; }
    LeverageModal > #dialog {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, symbol: str, current: Decimal, instrument: Instrument) -> None:
        super().__init__()
        self.symbol = symbol
        self.current = current
        self.instrument = instrument

    def compose(self) -> ComposeResult:
        inst = self.instrument
        with Vertical(id="dialog"):
            yield Static(f"Leverage — {self.symbol} (now {plain(self.current)}x)", classes="modal-title")
            yield field_row("Leverage", number_input("leverage", plain(self.current)), "leverage")
            yield Static(
                f"{plain(inst.min_leverage)}–{plain(inst.max_leverage)}x in steps of "
                f"{plain(inst.leverage_step)}.  Enter sets, Esc cancels.",
                classes="note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Set", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#leverage", Input).focus()

    def _check(self) -> tuple[Decimal | None, str]:
        try:
            value = parse_decimal(self.query_one("#leverage", Input).value)
        except FieldInvalid as err:
            return None, str(err)
        error = leverage_error(value, self.instrument)
        if not error and value == self.current:
            error = "unchanged"
        return value, error

    def on_input_changed(self, event: Input.Changed) -> None:
        _, error = self._check()
        show_errors(self, ["leverage"], {"leverage": error} if error != "unchanged" else {})

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        if self.answered:
            return
        value, error = self._check()
        show_errors(self, ["leverage"], {"leverage": error} if error else {})
        if error or value is None:
            return
        self.answer(LeverageIntent(self.symbol, value))
