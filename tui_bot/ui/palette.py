"""The command palette (ctrl+p) lists every key's action by its name, with its key, and runs it as the key does."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.screen import Screen

from tui_bot.ui.keymap import BINDING_TABLE, HELP_TEXT, key_display

CYCLE_REPORT = ("Why symbols held", "The latest analysis cycle (scheduled or r): every symbol's HOLD reasons")
"""A command without a key (Enter on the empty Recommendations table opens it too)."""


class KeyCommands(App[None]):
    """App mixin: the palette offers each BINDING_TABLE row, and the cycle report, on the main screen (a modal takes no
    app keys)."""

    keymap: dict[str, str]

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands (its Quit replaced by ours, which asks first on LIVE), then every key's."""
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command
        if screen.is_modal:
            return
        for binding_id, keys, action, description, _show in BINDING_TABLE:
            shown = key_display(self.keymap.get(binding_id, keys))
            explanation = HELP_TEXT.get(binding_id, description)
            yield SystemCommand(description, f"{shown} · {explanation}", partial(self.run_action, action))
        yield SystemCommand(*CYCLE_REPORT, partial(self.run_action, "cycle_report"))
