"""A yes/no question before anything destructive or live; optionally the user must type a word."""

from __future__ import annotations

import time
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from tui_bot.ui.screens._fields import FORM_CSS, AnswerOnceModal


class ConfirmModal(AnswerOnceModal[bool]):
    """Returns True on y/Enter (after typing `require_typed` when set), False on n/Esc."""

    DEFAULT_CSS = (
        FORM_CSS
        + """
    ConfirmModal { align: center middle; }
    ConfirmModal > #dialog {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    ConfirmModal.danger > #dialog { border: thick $error; }
    ConfirmModal.danger .modal-title { color: $error; }
    ConfirmModal #body { margin: 1 0; height: auto; }
    ConfirmModal #typed { width: 100%; }
    ConfirmModal #typed-error { color: $error; height: auto; }
    """
    )
    ARM_DELAY: ClassVar[float] = 0.3
    """Seconds from the dialog being painted, and from each Enter since, during which Enter does not confirm: a
    double or held Enter (the key that submits a form) never answers the question; y counts once it is painted."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Confirm", show=False),
        Binding("enter", "confirm_enter", "Confirm", show=False),
        Binding("n,escape", "cancel", "Cancel", show=False),
    ]

    def __init__(
        self,
        title: str,
        body: str,
        *,
        require_typed: str | None = None,
        danger: bool = False,
        arm_delay: float | None = None,
    ) -> None:
        """arm_delay (default ARM_DELAY): confirming keys are ignored this long after opening."""
        super().__init__(classes="danger" if danger else None)
        self.title_text = title
        self.body = body
        self.require_typed = require_typed
        self.arm_delay = self.ARM_DELAY if arm_delay is None else arm_delay
        self._painted_at: float | None = None
        self._last_enter = 0.0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="modal-title", markup=False)
            yield Static(self.body, id="body", markup=False)
            if self.require_typed is not None:
                yield Static(f"Type {self.require_typed!r} and press Enter to confirm, Esc to cancel.", markup=False)
                yield Input(placeholder=self.require_typed, id="typed", compact=True)
                yield Static("", id="typed-error")
            with Horizontal(classes="buttons"):
                yield Button("No (n)", id="no", variant="default", compact=True)
                yield Button(
                    self._yes_label(armed=self.arm_delay <= 0),
                    id="yes",
                    variant="error" if self.has_class("danger") else "primary",
                    compact=True,
                )

    def _yes_label(self, *, armed: bool) -> str:
        """'Yes (y)', with while Enter is not yet ready how long until it is."""
        return "Yes (y)" if armed else f"Yes (y) · Enter in {self.arm_delay:.1f} s"

    def on_mount(self) -> None:
        self.query_one("#typed" if self.require_typed is not None else "#yes").focus()
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        """The question is on screen: keys from now on answer it (Enter after ARM_DELAY)."""
        self._painted_at = self._last_enter = time.monotonic()
        if self.arm_delay > 0:
            self.set_timer(self.arm_delay, self._show_armed)

    def _show_armed(self) -> None:
        self.query_one("#yes", Button).label = self._yes_label(armed=True)

    def action_confirm_enter(self) -> None:
        """Enter confirms only ARM_DELAY after the dialog was painted and after the previous Enter (a held Enter
        keeps repeating inside that window, so it never confirms)."""
        now = time.monotonic()
        quiet = self._painted_at is not None and now - self._last_enter >= self.arm_delay
        self._last_enter = now
        if quiet:
            self.action_confirm()

    def action_confirm(self) -> None:
        if self.answered or self._painted_at is None:
            return
        if self.require_typed is not None:
            typed = self.query_one("#typed", Input).value.strip()
            if typed.lower() != self.require_typed.lower():
                self.query_one("#typed-error", Static).update(f"Type {self.require_typed!r} to confirm.")
                self.query_one("#typed", Input).focus()
                return
        self.answer(True)

    def action_cancel(self) -> None:
        self.answer(False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm_enter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "yes":
            self.action_confirm_enter()
        else:
            self.action_cancel()
