"""Fan-out of the engine's changes to subscribers: market data and snapshots coalesced, orders/fills/positions never."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from tui_bot.core.state import PositionMarked
from tui_bot.domain.events import TickerUpdated
from tui_bot.domain.live_ticker import TickerFields, TickerValue, merge_fields
from tui_bot.domain.market import DayPnlChanged, OrderBookChanged, TradesChanged

_SNAPSHOTS: dict[type, Callable[[Any], tuple[str, str]]] = {
    OrderBookChanged: lambda e: ("book", e.symbol),
    TradesChanged: lambda e: ("trades", e.symbol),
    DayPnlChanged: lambda e: ("day_pnl", ""),
}
"""Events that carry a whole snapshot: only the latest per key matters to a subscriber that has not taken it yet."""


class _TickerMerge:
    """Ticker updates of one symbol folded together in place until the subscriber takes them: later fields win."""

    __slots__ = ("fields", "last", "snapshot")

    def __init__(self, first: TickerUpdated) -> None:
        self.snapshot = first.snapshot
        self.last = first
        fields = first.fields
        self.fields: Mapping[str, TickerValue] = (
            TickerFields(dict(fields.raw), fields.codec) if type(fields) is TickerFields else dict(fields)
        )

    def add(self, new: TickerUpdated) -> None:
        """Fold one more update in (a snapshot stays a snapshot)."""
        self.snapshot = self.snapshot or new.snapshot
        self.last = new
        held, fields = self.fields, new.fields
        if type(held) is TickerFields and type(fields) is TickerFields and held.codec is fields.codec:
            held.raw.update(fields.raw)
        else:
            self.fields = merge_fields(held, fields)

    def event(self) -> TickerUpdated:
        """The merged updates as one event, stamped like the latest."""
        return TickerUpdated(
            symbol=self.last.symbol,
            snapshot=self.snapshot,
            fields=self.fields,
            exchange_ts=self.last.exchange_ts,
            received_ns=self.last.received_ns,
        )


class Subscription:
    """One subscriber's inbox: an ordered queue of reliable events plus the latest market data per key.

    Market data holds one entry per symbol and kind however fast it comes; reliable events are never dropped,
    so they queue until taken (a stuck reader's backlog is bounded by nothing but the account's activity).
    """

    def __init__(self) -> None:
        self._reliable: deque[object] = deque()
        self._market: dict[tuple[str, str], object] = {}
        self._wake = asyncio.Event()
        self.coalesced = 0

    def push(self, item: object) -> None:
        if type(item) is TickerUpdated:
            key = ("ticker", item.symbol)
            old = self._market.get(key)
            if old is None:
                self._market[key] = item
            else:
                if type(old) is not _TickerMerge:
                    old = self._market[key] = _TickerMerge(old)  # type: ignore[arg-type]
                old.add(item)
                self.coalesced += 1
        elif isinstance(item, PositionMarked):
            key = ("mark", item.symbol)
            self.coalesced += key in self._market
            self._market[key] = item
        elif type(item) in _SNAPSHOTS:
            key = _SNAPSHOTS[type(item)](item)
            self.coalesced += key in self._market
            self._market[key] = item
        else:
            self._reliable.append(item)
        self._wake.set()

    def take(self) -> list[object]:
        """Take whatever is queued now without waiting: reliable events in order, then market data."""
        self._wake.clear()
        batch = list(self._reliable)
        self._reliable.clear()
        batch.extend(item.event() if type(item) is _TickerMerge else item for item in self._market.values())
        self._market.clear()
        return batch

    async def next_batch(self) -> list[object]:
        """Wait for anything, then take it all (never empty, even if a take() drained the queue meanwhile)."""
        while True:
            await self._wake.wait()
            batch = self.take()
            if batch:
                return batch


class Bus:
    """Publishes each change to every subscription."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []

    def subscribe(self) -> Subscription:
        sub = Subscription()
        self.subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)

    def publish(self, items: list[object]) -> None:
        for sub in self.subscriptions:
            for item in items:
                sub.push(item)
