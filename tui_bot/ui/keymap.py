"""Every key binding with its id (remappable from config [keys]) and its description."""

from __future__ import annotations

import unicodedata

from textual.binding import Binding, BindingType
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, format_key, key_to_character

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
    ("alerts", "n", "alerts", "Alerts list", False),
    ("price_alert", "N", "price_alert", "Price alert on the symbol", False),
    ("bot_filter", "B", "bot_filter", "Bot filter", False),
    ("quit", "q", "quit_app", "Quit", True),
)
BINDING_IDS = frozenset(row[0] for row in BINDING_TABLE)
HELP_TEXT: dict[str, str] = {
    "buy": "Order ticket to buy: market or limit, typed or risk-sized qty, TP/SL",
    "sell": "Order ticket to sell: market or limit, typed or risk-sized qty, TP/SL",
    "close_position": "Close 25, 50 or 100 % of the selected position at market, reduce-only",
    "panic": "Cancel every order and close every position (asks first; on LIVE type yes)",
    "cancel_order": "Cancel the order under the Orders cursor (Orders focused; asks first)",
    "amend_order": "Change the price or qty of the order under the Orders cursor (Orders focused)",
    "cancel_all": "Cancel every open order (asks first; warns if a position's TP/SL goes too)",
    "edit_tpsl": "Set or change the selected position's take-profit and stop-loss",
    "leverage": "Set the leverage of the selected symbol",
    "toggle_tightening": "Turn automatic SL tightening on or off (kept across restarts)",
    "approve": "Trade the selected pending idea (gates run again; expired ones are refused)",
    "dismiss": "Drop the selected pending recommendation (it is followed as a phantom)",
    "run_cycle": "Run the bot's analysis cycle now instead of at the next bar",
    "market_view": "Give the market view the whole screen, or share it with the tables again",
    "chart_interval": "Step the chart's interval: 1m, 5m, 15m, 1h",
    "go_to_symbol": "Show any listed symbol's chart, book and trades (not watched)",
    "watch_add": "Add a listed symbol to the watchlist (kept across restarts)",
    "watch_remove": "Remove the quote board's selected symbol from the watchlist",
    "stats": "Statistics of trades and phantoms, and the equity curve",
    "trade_history": "Closed trades (net PnL after both fees, R, reason, held) and PnL by UTC day",
    "order_history": "Every order, newest first: filled, cancelled, refused with the exchange's code",
    "alerts": "Alerts list: armed price alerts (d disarms one) and recent alerts, active ones marked",
    "price_alert": "Arm a price alert on the ticket's symbol at a level (plain digits)",
    "bot_filter": "Attached to a listener: show every bot's positions, then each bot's in turn",
    "settings": "Edit the trading settings (checked field by field, saved all or nothing)",
    "help": "Every key and what it does (this list)",
    "quit": "Quit the console (asks first when a LIVE account has open positions)",
}
"""What each binding does, in a line, for the help screen, the command palette and README (every id has one)."""
RESERVED_KEYS: dict[str, str] = {
    "tab": "moves between tables",
    "ctrl+i": "is tab in a terminal",
    "shift+tab": "moves between tables",
    "ctrl+p": "opens the command palette",
    "ctrl+c": "copies text",
    "ctrl+q": "quits at once",
    "escape": "closes dialogs",
    "enter": "selects in tables",
    "ctrl+m": "is enter in a terminal",
    "up": "moves the table cursor",
    "down": "moves the table cursor",
    "left": "scrolls tables",
    "right": "scrolls tables",
    "pageup": "pages tables",
    "pagedown": "pages tables",
    "home": "jumps to the first row",
    "end": "jumps to the last row",
    "y": "confirms dialogs (at once, so a held key that opens one must not be y)",
}
"""Keys the console or Textual itself uses: a remap onto one is refused with what the key does."""
MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS = frozenset(k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")) - {"ctrl-at"}


def app_bindings() -> list[BindingType]:
    """The app's bindings, each with its id so config can remap it."""
    return [
        Binding(keys, action, description, show=show, id=binding_id)
        for binding_id, keys, action, description, show in BINDING_TABLE
    ]


def canonical_key(key: str) -> str | None:
    """One key as Textual names it (',' → 'comma', '?' → 'question_mark'); None when it names no key."""
    key = key.strip()
    *mods, base = key.split("+") if len(key) > 1 else [key]
    if any(m.lower() not in MODIFIERS for m in mods) or not base:
        return None
    if len(base) == 1:
        if not base.isprintable() or base.isspace():
            return None
        name = base if base.isalnum() else _character_name(base)
    elif base.lower() in NAMED_KEYS or key_to_character(base.lower()) is not None:
        name = base.lower()
    else:
        return None
    return "+".join([*(m.lower() for m in mods), name])


def _character_name(character: str) -> str:
    """A punctuation character's key name, as Textual names its key events ('?' → 'question_mark')."""
    name = unicodedata.name(character, character).lower().replace("-", "_").replace(" ", "_")
    return KEY_NAME_REPLACEMENTS.get(name, name)


def key_list(keys: str) -> list[str] | None:
    """Each key of a comma-separated list ('comma,f2') in canonical form; None when one of them is not a key."""
    parts = [canonical_key(part) for part in keys.split(",")] if keys.strip() else [None]
    return None if any(p is None for p in parts) else [p for p in parts if p is not None]


def _refusal(binding_id: str, value: str, reason: str) -> str:
    default = next(keys for bid, keys, *_ in BINDING_TABLE if bid == binding_id)
    return f"[keys] {binding_id} = {value!r} refused: {reason}; {binding_id} stays on {key_display(default)}"


def validated_keymap(overrides: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The remaps that can apply, and one line for each refused: unknown id, not a key, a reserved key, or a key
    another binding has (its default, or an earlier remap); a refused binding keeps its default key."""
    warnings = [f"unknown key binding id in [keys]: {k!r}" for k in overrides if k not in BINDING_IDS]
    candidates: dict[str, list[str]] = {}
    for binding_id, value in overrides.items():
        if binding_id not in BINDING_IDS:
            continue
        keys = key_list(value)
        reserved = next((k for k in keys or [] if k in RESERVED_KEYS), None)
        if keys is None:
            warnings.append(_refusal(binding_id, value, "not a key name (e.g. B, f5, ctrl+b, question_mark)"))
        elif reserved is not None:
            warnings.append(_refusal(binding_id, value, f"{key_display(reserved)} {RESERVED_KEYS[reserved]}"))
        else:
            candidates[binding_id] = keys
    while (clash := _first_clash(candidates)) is not None:
        binding_id, key, owner = clash
        del candidates[binding_id]
        taken = f"{key_display(key)} is already {_description(owner)} ({owner})"
        warnings.append(_refusal(binding_id, overrides[binding_id], taken))
    return {binding_id: ",".join(keys) for binding_id, keys in candidates.items()}, warnings


def _first_clash(candidates: dict[str, list[str]]) -> tuple[str, str, str] | None:
    """The first remap (in config order) whose key a binding left on its default, or an earlier remap, holds."""
    owner: dict[str, str] = {}
    for binding_id, default, *_ in BINDING_TABLE:
        if binding_id not in candidates:
            owner.update((key, binding_id) for key in key_list(default) or [])
    for binding_id, keys in candidates.items():
        for key in keys:
            if owner.get(key, binding_id) != binding_id:
                return binding_id, key, owner[key]
            owner[key] = binding_id
    return None


def _description(binding_id: str) -> str:
    return next(description for bid, _keys, _action, description, _show in BINDING_TABLE if bid == binding_id)


def key_display(keys: str) -> str:
    """'comma,f2' as ', / f2' and 'question_mark' as '?': what the user actually presses."""
    return " / ".join(_one_key(part.strip()) for part in keys.split(","))


def _one_key(key: str) -> str:
    if "+" in key:
        return key
    return format_key(key) if key in NAMED_KEYS else key_to_character(key) or key


TICKET_SYMBOL_KEY = "ctrl+t"
"""Jumps to the symbol field from anywhere in the order ticket (the field selects its text: typing replaces it)."""
TICKET_TYPE_KEY = "ctrl+l"
"""Switches Market / Limit from anywhere in the order ticket (Limit moves to the price field)."""


def help_rows(keymap: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(keys, id, description, what it does) for the help screen, the palette and README, with remaps applied."""
    rows = [
        (keymap.get(binding_id, keys), binding_id, description, HELP_TEXT.get(binding_id, description))
        for binding_id, keys, _action, description, _show in BINDING_TABLE
    ]
    return [
        *rows,
        ("enter", "", "Open idea", "On a recommendation: the whole idea and its reasoning (a / d decide there)"),
        ("tab,shift+tab", "", "Next table", "Move between tables (the quote board first)"),
        (TICKET_SYMBOL_KEY, "", "Ticket symbol", "In the order ticket: jump to the symbol field (typing replaces it)"),
        (TICKET_TYPE_KEY, "", "Market / Limit", "In the order ticket: switch Market / Limit (Limit goes to the price)"),
    ]


def markdown_key_table() -> str:
    """README's key table, from help_rows with the default keys (a test keeps README's copy equal to it)."""
    lines = ["| key | id | what it does |", "|---|---|---|"]
    for keys, binding_id, _description, explanation in help_rows({}):
        shown = " / ".join(f"`{key}`" for key in key_display(keys).split(" / "))
        lines.append(f"| {shown} | {f'`{binding_id}`' if binding_id else ''} | {explanation} |")
    return "\n".join(lines)
