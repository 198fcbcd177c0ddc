"""Which bot a position belongs to: the bot of its open trade, as the store's trade ledger books it."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution
from tui_bot.live.keys import EXTERNAL_BOT
from tui_bot.store.trades import TradeLedger


class PositionOwners:
    """A copy of the store's trade ledger kept current from the executions the engine applies, at once.

    The store books a fill a batch later; the live keys cannot wait for it, so this copy books each fill as it is
    applied (the same ledger rules: entry fill's bot, flips, partial closes) and is force-closed where the account
    is flat, as the store's is. A position without an open trade, or opened by a foreign order, is `external`.
    """

    def __init__(self, ledger: TradeLedger | None = None) -> None:
        self._ledger = copy.deepcopy(ledger) if ledger is not None else TradeLedger()

    def apply(self, execution: Execution) -> None:
        """Book one execution the engine applied (each once: the engine drops duplicates)."""
        self._ledger.apply(execution)

    def reconcile(self, positions: Mapping[str, Side], now_ms: int) -> None:
        """Close the open trades of symbols the account holds flat or on the other side (symbol -> side)."""
        self._ledger.reconcile(positions, now_ms)

    def owner(self, symbol: str) -> str:
        """The bot holding symbol's position now (its open trade's bot, without building the trade: every mark
        write asks)."""
        return self._ledger.holder(symbol) or EXTERNAL_BOT

    def fill_bot(self, execution: Execution) -> str:
        """The bot a fill is shown under, by the store's attribution rules (tui_bot.store.attribution)."""
        return self._ledger.attribute(execution).bot
