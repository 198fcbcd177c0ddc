"""The watchlist a console shows and the analysis cycle reads: edited from the console, kept in the config table."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from tui_bot.core.engine import Engine
from tui_bot.core.market_feed import UnknownSymbol
from tui_bot.domain.market import WatchlistChanged
from tui_bot.store.ops import SetConfig
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)

WATCHLIST_KEY = "watchlist"
_SYMBOL = re.compile(r"[A-Z0-9]{2,30}")


def stored_watchlist(stored: Any, default: list[str]) -> list[str]:
    """The watchlist kept in the config table, or default when there is none (a row that is not a list of symbol
    names is ignored, with a warning)."""
    if stored is None:
        return list(default)
    if not isinstance(stored, list) or not all(isinstance(s, str) and _SYMBOL.fullmatch(s) for s in stored):
        log.warning("stored watchlist %r is not a list of symbols; using the configured one", str(stored)[:200])
        return list(default)
    return list(dict.fromkeys(stored))


class Watchlist:
    """Adds and removes symbols (any the venue lists) in the engine's watchlist, persisting each change."""

    def __init__(self, engine: Engine, writer: StoreWriter | None) -> None:
        self.engine = engine
        self.writer = writer

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.engine.options.watchlist)

    def _listed(self, symbol: str) -> str:
        """symbol in the venue's spelling (upper case); UnknownSymbol when the venue does not list it."""
        name = symbol.strip().upper()
        if name not in self.engine.state.instruments:
            raise UnknownSymbol(f"{name or repr(symbol)} is not listed on {self.engine.client.label}")
        return name

    def add(self, symbol: str) -> tuple[str, ...]:
        """Append a listed symbol (nothing changes when it is there already); returns the watchlist."""
        name = self._listed(symbol)
        if name not in self.symbols:
            self._set([*self.symbols, name])
        return self.symbols

    def remove(self, symbol: str) -> tuple[str, ...]:
        """Take a symbol out (ValueError when it is not in the watchlist); returns the watchlist."""
        name = symbol.strip().upper()
        if name not in self.symbols:
            raise ValueError(f"{name or repr(symbol)} is not in the watchlist")
        self._set([s for s in self.symbols if s != name])
        return self.symbols

    def _set(self, symbols: list[str]) -> None:
        self.engine.tickers.set_watchlist(symbols)
        if self.writer is not None:
            self.writer.enqueue(SetConfig(WATCHLIST_KEY, symbols))
        self.engine.bus.publish([WatchlistChanged(symbols=tuple(symbols), exchange_ts=0, received_ns=time.time_ns())])
