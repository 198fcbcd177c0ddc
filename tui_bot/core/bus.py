"""Fan-out of the engine's changes to subscribers: market data coalesced, orders/fills/positions never."""

from __future__ import annotations

import asyncio
from collections import deque

from tui_bot.core.state import PositionMarked
from tui_bot.domain.events import TickerUpdated


def _merge_ticker(old: TickerUpdated, new: TickerUpdated) -> TickerUpdated:
    """Two ticker events for one symbol as one: later fields win, a snapshot stays a snapshot."""
    return TickerUpdated(symbol=new.symbol, snapshot=old.snapshot or new.snapshot, fields={**old.fields, **new.fields},
                         exchange_ts=new.exchange_ts, received_ns=new.received_ns)


class Subscription:
    """One subscriber's inbox: an ordered queue of reliable events plus the latest market data per key."""

    def __init__(self, max_reliable: int = 100_000) -> None:
        self._reliable: deque[object] = deque()
        self._market: dict[tuple[str, str], object] = {}
        self._wake = asyncio.Event()
        self._max = max_reliable
        self.coalesced = 0
        self.overflowed = False

    def push(self, item: object) -> None:
        if isinstance(item, TickerUpdated):
            key = ("ticker", item.symbol)
            old = self._market.get(key)
            self._market[key] = _merge_ticker(old, item) if isinstance(old, TickerUpdated) else item
            self.coalesced += old is not None
        elif isinstance(item, PositionMarked):
            key = ("mark", item.symbol)
            self.coalesced += key in self._market
            self._market[key] = item
        else:
            if len(self._reliable) >= self._max:
                self.overflowed = True
            self._reliable.append(item)
        self._wake.set()

    async def next_batch(self) -> list[object]:
        """Wait for anything, then take it all: reliable events in order, then market data."""
        await self._wake.wait()
        self._wake.clear()
        batch = list(self._reliable)
        self._reliable.clear()
        batch.extend(self._market.values())
        self._market.clear()
        return batch


class Bus:
    """Publishes each change to every subscription."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def publish(self, items: list[object]) -> None:
        for sub in self._subs:
            for item in items:
                sub.push(item)
