"""Change any symbol's leverage: pick the symbol, see its leverage now and its maximum, and nothing is sent until
the value is within the instrument's range and step."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static

from tui_bot.domain.intents import LeverageIntent
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import is_multiple, plain
from tui_bot.ui.screens._fields import (
    FieldInvalid,
    FormModal,
    dialog_css,
    field_row,
    number_input,
    parse_decimal,
    show_errors,
)

FIELDS = ("symbol", "leverage")


def _x(value: Decimal) -> str:
    """A leverage as the trader writes it: 50.00 -> '50'."""
    return plain(value.normalize())


def leverage_error(value: Decimal | None, inst: Instrument) -> str:
    """Why a leverage is not allowed for this instrument ('' when it is)."""
    if value is None:
        return "required"
    if value > inst.max_leverage:
        return f"above {inst.symbol}'s maximum of {_x(inst.max_leverage)}x"
    if value < inst.min_leverage:
        return f"below the minimum of {_x(inst.min_leverage)}x"
    if not is_multiple(value, inst.leverage_step):
        return f"must be a multiple of {_x(inst.leverage_step)}"
    return ""


class LeverageModal(FormModal[LeverageIntent]):
    """Returns a LeverageIntent for a valid, changed leverage of the chosen symbol on Enter; None on Esc."""

    DEFAULT_CSS = dialog_css("LeverageModal", 64)

    def __init__(self, symbol: str, instruments: Mapping[str, Instrument], current: Mapping[str, Decimal]) -> None:
        """symbol: the one offered first; current: each symbol's leverage now, where known (its position's)."""
        super().__init__()
        self.symbol = symbol
        self.instruments = instruments
        self.current = current

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(sorted(self.instruments), case_sensitive=False)
        now = self.current.get(self.symbol)
        with Vertical(id="dialog"):
            yield Static("Leverage", classes="modal-title")
            yield field_row("Symbol", Input(self.symbol, id="symbol", suggester=suggester, compact=True), "symbol")
            yield field_row("Leverage", number_input("leverage", plain(now) if now else ""), "leverage")
            yield Static("", id="limits", classes="note")
            yield Static("Enter sets, Esc cancels.", classes="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Set", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#leverage", Input).focus()
        self._refresh()

    def _typed_symbol(self) -> str:
        return self.query_one("#symbol", Input).value.strip().upper()

    def _check(self) -> tuple[str, Decimal | None, dict[str, str]]:
        """The symbol, the value and each field's reason ('unchanged' when it is the symbol's leverage now)."""
        symbol = self._typed_symbol()
        inst = self.instruments.get(symbol)
        errors: dict[str, str] = {}
        if inst is None:
            errors["symbol"] = "unknown symbol" if symbol else "required"
        try:
            value = parse_decimal(
                self.query_one("#leverage", Input).value, step=inst.leverage_step if inst else None, zero_ok=False
            )
        except FieldInvalid as err:
            return symbol, None, errors | {"leverage": str(err)}
        if inst is not None and (error := leverage_error(value, inst)):
            errors["leverage"] = error
        elif value is not None and value == self.current.get(symbol):
            errors["leverage"] = "unchanged"
        return symbol, value, errors

    def _refresh(self, *, submitting: bool = False) -> tuple[str, Decimal | None, dict[str, str]]:
        symbol, value, errors = self._check()
        shown = {k: v for k, v in errors.items() if submitting or v not in ("unchanged", "required")}
        show_errors(self, FIELDS, shown)
        inst = self.instruments.get(symbol)
        now = self.current.get(symbol)
        limits = (
            f"{symbol} now {_x(now) + 'x' if now else 'unknown (no position)'} · "
            f"{_x(inst.min_leverage)}–{_x(inst.max_leverage)}x in steps of {plain(inst.leverage_step)}"
            if inst is not None
            else ""
        )
        self.query_one("#limits", Static).update(limits)
        return symbol, value, errors

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh()

    def action_submit(self) -> None:
        if self.answered:
            return
        symbol, value, errors = self._refresh(submitting=True)
        if errors or value is None:
            return
        self.answer(LeverageIntent(symbol, value))
