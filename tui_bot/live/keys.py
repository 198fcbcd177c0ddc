"""The Redis key names every process agrees on (one place, so the listener, bots and consoles cannot drift apart).

Per-bot keys are `{bot_id}:...` as the operators know them; shared keys start with `tui:`.

Only the listener writes the state keys; a bot writes its own heartbeat, acknowledgements and recommendations;
anyone may add to a bot's command stream.
"""

from __future__ import annotations

from tui_bot.store.attribution import EXTERNAL

CHANGES_CHANNEL = "tui:changes"
"""PUBLISH channel: one message per change of a state key (the key's name and the listener's seq)."""

LISTENER_HEARTBEAT = "tui:listener:heartbeat"
"""String with a TTL: the listener's wall-clock ms, refreshed well within the TTL while it runs."""

ACCOUNT_POSITIONS = "tui:account:positions"
"""Hash symbol -> the account's position as JSON (every bot's together, as the exchange sees it)."""

ACCOUNT_ORDERS = "tui:account:orders"
"""Hash orderId -> an open order as JSON."""

ACCOUNT_WALLET = "tui:account:wallet"
"""String: the wallet as JSON."""

ACCOUNT_DAY_PNL = "tui:account:day_pnl"
"""String: the account's realised PnL since 00:00 UTC as the listener reads the exchange's log (versioned JSON)."""

FILLS_STREAM = "tui:fills"
"""Capped stream of executions (one entry per exec id, never two)."""

BOTS = "tui:bots"
"""Set of the bot ids the listener has seen (from orderLinkIds and registrations)."""

LISTENER_SEQ = "tui:listener:seq"
"""String: the listener's seq of the newest change written (a reader's snapshot starts from it)."""

FILL_IDS = "tui:fills:ids"
"""Sorted set exec id -> exec time: the exec ids in the fills stream (how it stays free of duplicates), as capped."""

EXTERNAL_BOT = EXTERNAL
"""The bot id of positions no bot of ours opened: the store's attribution name for other programs."""

ALL_BOTS_COMMANDS = "tui:commands:all"
"""Stream every bot also reads: commands for all bots at once (panic)."""

RECOMMENDATIONS_CHANNEL = "tui:recommendations"
"""PUBLISH channel: a bot's id each time the recommendations it publishes change (or are withdrawn)."""


def position(bot: str, symbol: str) -> str:
    """Hash: bot's position in symbol (side, size, entry, mark, upnl, seq, time_ms)."""
    return f"{bot}:position:{symbol}"


def open_symbols(bot: str) -> str:
    """Set: the symbols bot holds a position in."""
    return f"{bot}:symbols"


def bot_heartbeat(bot: str) -> str:
    """String with a TTL: bot's wall-clock ms, written by the bot itself."""
    return f"{bot}:heartbeat"


def commands(bot: str) -> str:
    """Stream of commands for bot."""
    return f"{bot}:commands"


def acks(bot: str) -> str:
    """Stream of bot's acknowledgements (command id, ok, one-line message)."""
    return f"{bot}:acks"


def parse_position(key: str) -> tuple[str, str] | None:
    """(bot, symbol) of a position key; None for any other key."""
    bot, sep, symbol = key.partition(":position:")
    return (bot, symbol) if sep and bot and symbol else None


def command_claims(bot: str) -> str:
    """Hash "{stream} {entry id}" -> wall-clock ms: the commands bot has started and not yet acknowledged."""
    return f"{bot}:commands:claims"


def recommendations(bot: str) -> str:
    """String with a TTL: bot's recommendations and why it held, as versioned JSON, written by the bot itself."""
    return f"{bot}:recommendations"
