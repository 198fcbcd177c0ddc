"""chart_llm: a vision model reads each symbol's candlestick chart and proposes a trade, or the symbol holds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui_bot.core.strategies.base import hold
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.recommendations import Proposal

if TYPE_CHECKING:
    from tui_bot.core.strategies.chart_llm_ask import ChartAsker

MISSING_EXTRA = "chart_llm needs the llm extra (openai, pillow): pip install 'tui-bot[llm]' ({} is missing)"


@dataclass(frozen=True, slots=True)
class ChartRequest:
    """One symbol to ask about: its closed candles (oldest first) at the cycle's timeframe, and its instrument."""

    symbol: str
    timeframe: str
    candles: Sequence[Kline]
    inst: Instrument


class ChartLlm:
    """Asks an OpenAI-compatible vision model about a chart image per symbol, all symbols of a cycle at once."""

    name = "chart_llm"
    version = "1.0"
    min_candles = 30

    def __init__(self) -> None:
        try:
            from tui_bot.core.strategies.chart_llm_ask import ChartAsker
        except ImportError as err:  # the optional extra is not installed
            raise RuntimeError(MISSING_EXTRA.format(err.name or "a module")) from None
        self._asker: ChartAsker = ChartAsker(self)

    def propose(self, symbol: str, candles: Sequence[Kline], inst: Instrument) -> Proposal:
        """HOLD: the model is asked only by propose_many, which the cycle awaits for all symbols together."""
        return hold(self, symbol, candles, inst, "chart_llm asks its model only within a cycle (propose_many).")

    async def propose_many(
        self, requests: Sequence[ChartRequest], settings: ChartLlmSettings, chart_dir: Path
    ) -> list[Proposal]:
        """One proposal per request, in order, within settings.deadline_s; a symbol without a usable reply holds
        with the reason (timeout, HTTP error, malformed or out-of-range reply, over the per-cycle cap)."""
        return await self._asker.propose_many(requests, settings, chart_dir)
