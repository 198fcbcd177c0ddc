"""Arm a price alert on one symbol (key N): the level, parsed exactly, armed by the backend or refused with why."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui_bot.domain.alerts import PriceAlert
from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import plain
from tui_bot.ui import format as fmt
from tui_bot.ui.screens._fields import FieldInvalid, FormModal, dialog_css, field_row, show_errors

PLAIN_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")


def parse_level(text: str) -> Decimal:
    """A positive price written out in digits with an optional decimal point; FieldInvalid says what is wrong."""
    text = text.strip()
    if not text:
        raise FieldInvalid("required")
    if text.startswith("-"):
        raise FieldInvalid("a price must be positive")
    if "," in text:
        raise FieldInvalid("use a point for decimals, not a comma")
    if "e" in text.lower():
        raise FieldInvalid("write the price out in digits, without an exponent")
    if not PLAIN_NUMBER.fullmatch(text):
        raise FieldInvalid("not a price: digits and one decimal point only")
    level = Decimal(text)
    if level <= 0:
        raise FieldInvalid("a price must be positive")
    return level


ArmAlert = Callable[[str, Decimal], PriceAlert]


class PriceAlertModal(FormModal[PriceAlert]):
    """Asks the level of a price alert on symbol; arms it through `arm` and returns it, or shows why not."""

    DEFAULT_CSS = dialog_css("PriceAlertModal", 64)

    def __init__(self, symbol: str, last_price: Decimal | None, instrument: Instrument | None, arm: ArmAlert) -> None:
        super().__init__()
        self.symbol = symbol
        self.last_price = last_price
        self.instrument = instrument
        self.arm = arm

    def compose(self) -> ComposeResult:
        last = fmt.price(self.last_price, self.instrument)
        tick = f", tick {plain(self.instrument.tick_size)}" if self.instrument is not None else ""
        with Vertical(id="dialog"):
            yield Static(f"Price alert — {self.symbol} (last {last})", classes="modal-title")
            yield field_row("Level", Input(id="level", placeholder="e.g. 105000.5", compact=True), "level")
            yield Static(
                f"Fires once when the last price reaches the level from where it is now{tick}. "
                "Enter arms, Esc cancels.",
                classes="note",
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Arm", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#level", Input).focus()

    def action_submit(self) -> None:
        """Parse the level and arm the alert; a refusal (ours or the backend's) is shown beside the field."""
        if self.answered:
            return
        try:
            alert = self.arm(self.symbol, parse_level(self.query_one("#level", Input).value))
        except ValueError as err:  # FieldInvalid, or the backend's PriceAlertInvalid
            show_errors(self, ["level"], {"level": str(err)})
            return
        self.answer(alert)
