"""Ask for a listed symbol (to look up or to watch): completes from the venue's list, refuses unknown names."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static

from tui_bot.ui.screens._fields import FormModal, dialog_css, field_row, show_errors


class SymbolPrompt(FormModal[str]):
    """Returns a listed symbol (upper case) on Enter; None on Esc."""

    DEFAULT_CSS = dialog_css("SymbolPrompt", 56)

    def __init__(self, title: str, listed: Sequence[str]) -> None:
        super().__init__()
        self.title_text = title
        self.listed = frozenset(listed)
        self.suggester = SuggestFromList(sorted(listed), case_sensitive=False)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="modal-title")
            yield field_row(
                "Symbol", Input(id="symbol", suggester=self.suggester, placeholder="e.g. SOLUSDT"), "symbol"
            )
            yield Static("Any symbol the venue lists.  Enter accepts, Esc cancels.", classes="note")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("OK", id="submit", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#symbol", Input).focus()

    def action_submit(self) -> None:
        if self.answered:
            return
        name = self.query_one("#symbol", Input).value.strip().upper()
        error = "" if name in self.listed else (f"{name} is not listed" if name else "required")
        show_errors(self, ["symbol"], {"symbol": error} if error else {})
        if not error:
            self.answer(name)
