"""Every key binding in one table: keys, binding id (for remapping in config [keys]) and what it does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


def key_display(keys: str) -> str:
    """'comma,f2' as ', / f2' and 'question_mark' as '?': what the user actually presses."""
    return " / ".join(format_key(part.strip()) if "+" not in part else part.strip() for part in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists (key, id, description) rows; Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; width: 100%; content-align: center middle; }
    HelpScreen #help-hint { color: $text-muted; }
    HelpScreen DataTable { height: auto; max-height: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", show=False),
    ]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = list(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            yield DataTable(id="bindings", cursor_type="row", zebra_stripes=True)
            yield Static("id = name to remap in config.toml [keys].  Esc / q / ? closes.", id="help-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Id", "Does")
        for keys, binding_id, description in self.rows:
            table.add_row(key_display(keys), binding_id, description)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
