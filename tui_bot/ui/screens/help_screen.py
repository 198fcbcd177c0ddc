"""Every key binding in one table: keys, binding id (for remapping in config [keys]) and what it does."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui_bot.ui.keymap import key_display

MAX_WIDTH = 118
CHROME = 12
"""Columns the dialog's border, padding and the table's cell padding take."""
MIN_TEXT = 24


class HelpScreen(ModalScreen[None]):
    """Lists (key, id, name, what it does) rows; Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help {
        width: 118; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; width: 100%; content-align: center middle; }
    HelpScreen #help-hint { color: $text-muted; }
    HelpScreen DataTable { height: auto; max-height: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", show=False),
    ]

    def __init__(self, bindings: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = list(bindings)

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("Keys", id="help-title")
            yield DataTable(id="bindings", cursor_type="row", zebra_stripes=True)
            yield Static("id = name to remap in config.toml [keys].  Esc / q / ? closes.", id="help-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        keys_width = max(len(key_display(row[0])) for row in self.rows)
        ids_width = max(len(row[1]) for row in self.rows)
        # the explanation takes what the screen leaves (it wraps), so it reads whole even at 80 columns
        room = min(self.app.size.width, MAX_WIDTH) - keys_width - ids_width - CHROME
        table.add_column("Key", width=keys_width)
        table.add_column("What it does", width=max(MIN_TEXT, min(room, max(len(row[3]) for row in self.rows))))
        table.add_column("Id", width=ids_width)
        for keys, binding_id, _description, explanation in self.rows:
            table.add_row(key_display(keys), explanation, binding_id, height=None)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
