"""The footer: every shown key on one line at any width, labels shortened or dropped to fit, help and quit pinned
to the right end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED_ACTIONS = ("help", "quit_app")
"""Always shown with their labels, at the right end, whatever the width."""
SHORT_LABELS: dict[str, str] = {
    "cancel_all": "Cxl all",
    "edit_tpsl": "TPSL",
    "leverage": "Lev",
    "toggle_tightening": "Tight",
    "approve": "Appr",
    "dismiss": "Dism",
    "run_cycle": "Run",
    "market_view": "Mkt",
    "chart_interval": "Intv",
    "go_to_symbol": "Sym",
    "watch_remove": "Unw",
    "settings": "Set",
}
"""A label no longer than five cells for each action whose description is longer (the others keep theirs)."""
PALETTE_CELLS = 12
"""The command palette key at the far right: a border, '^p palette' and a space."""


@dataclass
class FooterEntry:
    """One shown key: its binding, whether it is enabled, its tooltip and the label the width allows."""

    binding: Binding
    key_display: str
    enabled: bool
    tooltip: str
    label: str = ""


def entry_cells(key_display: str, label: str) -> int:
    """Cells a compact footer key takes: the key, a space and the label when there is one, and its margin."""
    return cell_len(key_display) + (cell_len(label) + 1 if label else 0) + 1


def short_label(binding: Binding) -> str:
    """The action's short label (its description when that is short already)."""
    return SHORT_LABELS.get(binding.action, binding.description)


def fit_labels(entries: list[FooterEntry], width: int) -> None:
    """Give labels while they fit in `width`: every key first, then short labels in table order, then full ones."""
    used = sum(entry_cells(e.key_display, "") for e in entries)
    for label_of in (short_label, lambda binding: binding.description):
        for entry in entries:
            label = label_of(entry.binding)
            extra = entry_cells(entry.key_display, label) - entry_cells(entry.key_display, entry.label)
            if used + extra <= width:
                entry.label, used = label, used + extra


class ConsoleFooter(Footer):
    """Footer that shows every key at 80 columns: labels shrink with the width; help and quit never leave it."""

    DEFAULT_CSS = """
    ConsoleFooter HorizontalGroup.-pinned {
        dock: right;
        width: auto;
    }
    ConsoleFooter HorizontalGroup.-pinned FooterKey.-command-palette {
        dock: none;
    }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        self._width = 0

    def _entries(self) -> Iterator[FooterEntry]:
        seen: set[str] = set()
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                yield FooterEntry(binding, self.app.get_key_display(binding), enabled, tooltip or binding.description)

    def _key(self, entry: FooterEntry, classes: str = "") -> FooterKey:
        binding = entry.binding
        key = FooterKey(
            binding.key,
            entry.key_display,
            entry.label,
            binding.action,
            disabled=not entry.enabled,
            tooltip=entry.tooltip,
            classes=classes,
        )
        return key.data_bind(compact=Footer.compact)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        entries = list(self._entries())
        pinned = [e for e in entries if e.binding.action in PINNED_ACTIONS]
        rest = [e for e in entries if e.binding.action not in PINNED_ACTIONS]
        for entry in pinned:
            entry.label = entry.binding.description
        self._width = self.app.size.width
        palette = self._palette_entry()
        pinned_cells = sum(entry_cells(e.key_display, e.label) for e in pinned)
        room = self._width - pinned_cells - (PALETTE_CELLS if palette else 0)
        fit_labels(rest, room)
        for entry in rest:
            yield self._key(entry)
        with HorizontalGroup(classes="-pinned"):
            for entry in pinned:
                yield self._key(entry)
            if palette is not None:
                yield self._key(palette, "-command-palette")

    def _palette_entry(self) -> FooterEntry | None:
        """The command palette key, when the app shows it."""
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _node, binding, enabled, _tooltip = found
        display = self.app.get_key_display(binding)
        return FooterEntry(binding, display, enabled, binding.tooltip or binding.description, binding.description)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the labels again for the new width."""
        if self._bindings_ready and event.size.width != self._width:
            self.call_after_refresh(self.recompose)
