"""Every key binding with its id (remappable from config [keys]) and its description."""

from __future__ import annotations

from textual.binding import Binding, BindingType

# (id, default keys, action, description, show in footer)
BINDING_TABLE: tuple[tuple[str, str, str, str, bool], ...] = (
    ("buy", "b", "order_form('Buy')", "Buy", True),
    ("sell", "s", "order_form('Sell')", "Sell", True),
    ("close_position", "x", "close_position", "Close", True),
    ("panic", "X", "panic", "Panic", True),
    ("cancel_order", "c", "cancel_order", "Cancel", True),
    ("amend_order", "A", "amend_order", "Amend order", False),
    ("cancel_all", "C", "cancel_all", "Cancel all", True),
    ("edit_tpsl", "e", "edit_tpsl", "TP/SL", True),
    ("leverage", "l", "leverage", "Leverage", True),
    ("toggle_tightening", "t", "toggle_tightening", "Tighten", True),
    ("approve", "a", "approve", "Approve", True),
    ("dismiss", "d", "dismiss", "Dismiss", True),
    ("run_cycle", "r", "run_cycle", "Run cycle", True),
    ("market_view", "m", "market_view", "Market", True),
    ("chart_interval", "i", "chart_interval", "Interval", True),
    ("go_to_symbol", "g", "go_to_symbol", "Symbol", True),
    ("watch_add", "w", "watch_add", "Watch", True),
    ("watch_remove", "W", "watch_remove", "Unwatch", True),
    ("stats", "p", "stats", "Stats", True),
    ("trade_history", "h", "trade_history", "Trade history", False),
    ("order_history", "o", "order_history", "Order history", False),
    ("settings", "comma,f2", "settings", "Settings", True),
    ("help", "question_mark", "help", "Help", True),
    ("quit", "q", "quit_app", "Quit", True),
)
BINDING_IDS = frozenset(row[0] for row in BINDING_TABLE)


def app_bindings() -> list[BindingType]:
    """The app's bindings, each with its id so config can remap it."""
    return [
        Binding(keys, action, description, show=show, id=binding_id)
        for binding_id, keys, action, description, show in BINDING_TABLE
    ]


def validated_keymap(overrides: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Keep overrides for known binding ids; return them and a warning for each unknown id."""
    good = {k: v for k, v in overrides.items() if k in BINDING_IDS and v.strip()}
    warnings = [f"unknown key binding id in [keys]: {k!r}" for k in overrides if k not in BINDING_IDS]
    return good, warnings


def help_rows(keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """(keys, id, description) for the help screen and README, with remaps applied."""
    rows = [
        (keymap.get(binding_id, keys), binding_id, description)
        for binding_id, keys, _action, description, _show in BINDING_TABLE
    ]
    return [*rows, ("tab / shift+tab", "focus", "Move between tables")]
