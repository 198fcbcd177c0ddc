"""A strategy of the trader's own, loaded by its dotted path ("tests.bot.quiet:Quiet"), that never trades."""

from __future__ import annotations

from collections.abc import Sequence

from tui_bot.core.strategies.base import hold
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Proposal

QUIET = "tests.bot.quiet:Quiet"


class Quiet:
    """Holds on every symbol, the last close in the reason's parentheses (so alike reasons group without it)."""

    name = "quiet"
    version = "1"
    min_candles = 5

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        return hold(self, symbol, candles, inst, f"No signal (close {candles[-1].close}).")
