"""Change any symbol's leverage: pick the symbol, see its leverage now and its maximum, and nothing is sent until
the value is within the instrument's range and step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
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
LeverageLookup = Callable[[str], Awaitable[Decimal]]
"""Asks the exchange for a symbol's leverage now (flat symbols included)."""


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

    def __init__(
        self,
        symbol: str,
        instruments: Mapping[str, Instrument],
        current: Mapping[str, Decimal],
        ask: LeverageLookup | None = None,
    ) -> None:
        """symbol: the one offered first; current: each symbol's leverage now, where known (its position's); ask:
        how to learn another symbol's from the exchange (a flat symbol has a leverage too)."""
        super().__init__()
        self.symbol = symbol
        self.instruments = instruments
        self.current = dict(current)
        self.ask = ask
        self._asked: dict[str, str] = {}
        """What the limits line says of a symbol being asked for, or whose answer failed."""
        now = self.current.get(symbol)
        self._offered = plain(now) if now else ""
        """The leverage the field was filled with (a symbol's now), replaced when another symbol is picked."""

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(sorted(self.instruments), case_sensitive=False)
        with Vertical(id="dialog"):
            yield Static("Leverage", classes="modal-title")
            yield field_row("Symbol", Input(self.symbol, id="symbol", suggester=suggester, compact=True), "symbol")
            yield field_row("Leverage", number_input("leverage", self._offered), "leverage")
            yield Static("", id="limits", classes="note")
            yield Static("Enter sets, Esc cancels.", classes="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Set", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#leverage", Input).focus()
        self._refresh()
        self._ask_exchange(self.symbol)

    def _ask_exchange(self, symbol: str) -> None:
        """Learn a listed symbol's leverage from the exchange, once, when not known here."""
        if self.ask is None or symbol in self.current or symbol in self._asked or symbol not in self.instruments:
            return
        self._asked[symbol] = "asking the exchange…"
        self.run_worker(self._lookup(symbol), group="leverage-lookup", exit_on_error=False)

    async def _lookup(self, symbol: str) -> None:
        """Ask; the answer becomes the symbol's leverage now (and the field's value if the trader typed none)."""
        assert self.ask is not None
        try:
            value = await self.ask(symbol)
        except Exception as err:
            self._asked[symbol] = f"unknown (the exchange did not say: {err})"
        else:
            self.current[symbol] = value
            self._offer(symbol)
        self._refresh()

    def _offer(self, symbol: str) -> None:
        """Put the symbol's leverage now in the field, unless the trader typed a value of their own there."""
        now, field = self.current.get(symbol), self.query_one("#leverage", Input)
        if now is not None and symbol == self._typed_symbol() and field.value in ("", self._offered):
            self._offered = field.value = plain(now)

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
            f"{symbol} now {_x(now) + 'x' if now else self._asked.get(symbol, 'unknown (no position)')} · "
            f"{_x(inst.min_leverage)}–{_x(inst.max_leverage)}x in steps of {plain(inst.leverage_step)}"
            if inst is not None
            else ""
        )
        self.query_one("#limits", Static).update(limits)
        return symbol, value, errors

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._refresh()
        if event.input.id == "symbol":
            self._offer(self._typed_symbol())
            self._ask_exchange(self._typed_symbol())

    def action_submit(self) -> None:
        if self.answered:
            return
        symbol, value, errors = self._refresh(submitting=True)
        if errors or value is None:
            return
        self.answer(LeverageIntent(symbol, value))
