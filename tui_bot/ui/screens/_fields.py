"""Shared bits of the form modals: one labelled row per field with its inline error, and Decimal parsing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from tui_bot.domain.numbers import plain

ResultT = TypeVar("ResultT")
FORM_CSS = """
.field-row { height: auto; min-height: 1; margin: 0 0 0 0; }
.field-row > Label { width: 14; color: $text-muted; }
.field-row > Input, .field-row > Switch, .field-row > Checkbox { width: 22; }
.field-row > .error { width: 1fr; color: $error; padding: 0 1; }
.field-row > .note { width: 1fr; color: $text-muted; padding: 0 1; }
.form-error { color: $error; height: auto; }
.modal-title { text-style: bold; width: 100%; content-align: center middle; }
.buttons { height: auto; margin-top: 1; align-horizontal: right; }
.buttons > Button { margin-left: 1; }
"""


class FieldInvalid(ValueError):
    """A field's text cannot be used; the message is what the form shows beside it."""


_PLAIN_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)")
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)e[-+]?\d+", re.IGNORECASE)
_NOT_FINITE = frozenset({"nan", "snan", "inf", "infinity"})


def _refusal(text: str, positive: bool) -> str:
    """Why text is not a plain decimal number, in the words the form shows."""
    if "," in text:
        return "use a dot for decimals" if text.count(",") == 1 and "." not in text else "no thousands separators"
    if text.lstrip("+-").lower() in _NOT_FINITE:
        return "not a number"
    if _EXPONENT.fullmatch(text):
        return "no exponents: write the number out"
    if positive and text.startswith("-"):
        return "must be positive"
    if text.startswith("+"):
        return "no sign: write the number alone"
    return "not a number"


def _places(value: Decimal) -> int:
    """Decimal places a finite number needs (0.010 needs 2, 100 needs 0)."""
    return max(0, -int(value.normalize().as_tuple().exponent))


def parse_decimal(
    text: str, *, positive: bool = True, step: Decimal | None = None, zero_ok: bool = True
) -> Decimal | None:
    """The field's number (None when blank), written plainly (digits, one dot); raises FieldInvalid with the reason
    for anything else: a comma, an exponent, a sign where only positive numbers go, NaN, more decimals than step."""
    text = text.strip()
    if not text:
        return None
    if not _PLAIN_NUMBER.fullmatch(text) or (positive and text.startswith("-")):
        raise FieldInvalid(_refusal(text, positive))
    value = Decimal(text)
    if positive and not zero_ok and value == 0:
        raise FieldInvalid("must be positive")
    if step is not None and step > 0 and _places(value) > _places(step):
        raise FieldInvalid(f"too many decimals: the step is {plain(step.normalize())}")
    return value


def field_row(label: str, widget: Widget, field: str, note: str = "") -> Horizontal:
    """A row: label, the input widget, then a Static (class "error") that holds the field's reason."""
    parts: list[Widget] = [Label(label), widget, Static("", id=f"{field}-error", classes="error", markup=False)]
    if note:
        parts.append(Static(note, id=f"{field}-note", classes="note"))
    return Horizontal(*parts, classes="field-row", id=f"{field}-row")


def number_input(field: str, value: str = "", placeholder: str = "", *, disabled: bool = False) -> Input:
    """A compact Input for a number: every key is let through (none silently dropped); parse_decimal refuses
    what is not a plain number, with the reason beside the field."""
    return Input(value, placeholder=placeholder, id=field, compact=True, disabled=disabled)


def show_errors(root: DOMNode, fields: Iterable[str], errors: dict[str, str]) -> None:
    """Write each field's reason into its error Static (blank for fields without one)."""
    for field in fields:
        root.query_one(f"#{field}-error", Static).update(errors.get(field, ""))


class AnswerOnceModal(ModalScreen[ResultT]):
    """A modal that answers once: a key burst (both Enters queued before it is popped) must not hand a request
    over twice, and a second dismiss would pop whatever screen is below it (or raise ScreenStackError)."""

    answered: bool = False

    def answer(self, result: ResultT, *, first: Callable[[], object] | None = None) -> None:
        """Run `first` (if any, e.g. start the send), then dismiss with `result`; every later call does nothing."""
        if self.answered:
            return
        self.answered = True
        if first is not None:
            first()
        self.dismiss(result)


def dialog_css(screen: str, width: int, extra: str = "") -> str:
    """FORM_CSS plus the centred, bordered dialog of this width that each form screen shows (and extra rules)."""
    return (
        FORM_CSS
        + f"""
    {screen} {{ align: center middle; }}
    {screen} > #dialog {{
        width: {width}; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }}
    """
        + extra
    )


class FormModal(AnswerOnceModal[ResultT | None]):
    """A form with Submit and Cancel buttons: subclasses define action_submit; Enter in a field submits; Esc and
    Cancel answer None."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.answer(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()
