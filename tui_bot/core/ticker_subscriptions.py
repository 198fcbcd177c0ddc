"""Which symbols stream tickers: the watchlist, every symbol with a position or open order, and what owners ask for."""

from __future__ import annotations

import asyncio

from tui_bot.core.state import AccountState
from tui_bot.core.tasks import BackgroundTasks
from tui_bot.exchange.client import ExchangeClient


class TickerSubscriptions:
    """Keeps the client's ticker topics equal to the symbols wanted (and listed), one sync at a time."""

    def __init__(
        self, client: ExchangeClient, state: AccountState, watchlist: list[str], tasks: BackgroundTasks
    ) -> None:
        self.client = client
        self.state = state
        self.watchlist = watchlist
        """The watchlist list itself, changed in place (the bot's analysis reads the same list)."""
        self.tasks = tasks
        self.streamed: set[str] = set()
        self._wanted: dict[str, set[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def want(self, owner: str, symbols: set[str]) -> None:
        """Keep tickers streaming for these symbols on behalf of owner (e.g. phantoms), besides positions and orders."""
        if self._wanted.get(owner) != symbols:
            self._wanted[owner] = set(symbols)
            self.schedule()

    def set_watchlist(self, symbols: list[str]) -> None:
        """Make the watchlist these symbols (in place); tickers follow."""
        self.watchlist[:] = symbols
        self.schedule()

    def desired(self) -> set[str]:
        """Every symbol that should stream: in use by the account, watched, or wanted by an owner."""
        wanted = set().union(*self._wanted.values()) if self._wanted else set()
        return self.state.symbols_in_use() | set(self.watchlist) | wanted

    def schedule(self) -> None:
        """Sync soon, unless a sync is already running."""
        if self._task is None or self._task.done():
            self._task = self.tasks.spawn("engine-tickers", self.sync(), one_off=True)

    async def sync(self) -> None:
        """Stream tickers for the desired listed symbols, and no others."""
        desired = self.desired() & set(self.state.instruments)
        if desired != self.streamed:
            self.streamed = desired
            await self.client.set_ticker_symbols(desired)
