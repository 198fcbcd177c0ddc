"""A local order book kept from one topic's snapshot and deltas by the venue's rules, read as immutable top-N snapshots.

Rules (bybit-v5.md §5.6): a snapshot replaces the book; a delta sets each level it names (size 0 deletes it) and
must carry the update id after the last one applied. An older or repeated id is ignored; a skipped id, or a book
whose best bid reaches its best ask, leaves the book unusable until the next snapshot (the feed asks for one).
Levels are held as the BookLevel objects the decoder made, so a snapshot of the top levels allocates one tuple
per side and nothing else, and it is cached until the book moves again.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal
from enum import StrEnum

from tui_bot.domain.market import BookLevel, BookSnapshot, OrderBookReceived


class BookOutcome(StrEnum):
    """What applying one frame did to the book."""

    APPLIED = "applied"
    STALE = "stale"  # an update id already applied: ignored
    WAITING = "waiting"  # a delta while no snapshot is held (after a gap): ignored
    GAP = "gap"  # an update id was skipped: the book waits for a snapshot
    CROSSED = "crossed"  # the best bid reached the best ask: the book waits for a snapshot

    @property
    def needs_snapshot(self) -> bool:
        return self is BookOutcome.GAP or self is BookOutcome.CROSSED


class _BookSide:
    """One side: level by price, and the prices in ascending order; never more than `depth` levels."""

    __slots__ = ("depth", "descending", "levels", "prices")

    def __init__(self, descending: bool, depth: int) -> None:
        self.descending, self.depth = descending, depth
        self.levels: dict[Decimal, BookLevel] = {}
        self.prices: list[Decimal] = []

    def replace(self, levels: tuple[BookLevel, ...]) -> None:
        self.levels = {level.price: level for level in levels}
        self.prices = sorted(self.levels)
        if len(self.prices) > self.depth:
            self._trim()

    def update(self, levels: tuple[BookLevel, ...]) -> None:
        """Set or delete (size 0) each level; deleting a level not held changes nothing."""
        held, prices = self.levels, self.prices
        for level in levels:
            price = level.price
            if level.size:
                if price not in held:
                    insort(prices, price)
                held[price] = level
            elif held.pop(price, None) is not None:
                del prices[bisect_left(prices, price)]
        if len(prices) > self.depth:  # a level pushed out without its delete: the topic no longer shows it
            self._trim()

    def _trim(self) -> None:
        """Drop the worst levels beyond depth."""
        prices = self.prices
        cut = len(prices) - self.depth if self.descending else self.depth
        worst, self.prices = (prices[:cut], prices[cut:]) if self.descending else (prices[cut:], prices[:cut])
        for price in worst:
            del self.levels[price]

    def best(self) -> Decimal | None:
        prices = self.prices
        if not prices:
            return None
        return prices[-1] if self.descending else prices[0]

    def top(self, count: int) -> tuple[BookLevel, ...]:
        """The best `count` levels (at least 1), best first."""
        held = self.levels
        chosen = self.prices[-count:][::-1] if self.descending else self.prices[:count]
        return tuple([held[price] for price in chosen])


class OrderBook:
    """One symbol's book from one depth topic."""

    def __init__(self, symbol: str, depth: int) -> None:
        self.symbol, self.depth = symbol, depth
        self.bids, self.asks = _BookSide(descending=True, depth=depth), _BookSide(descending=False, depth=depth)
        self.update_id = self.seq = self.exchange_ts = 0
        self.synced = False
        self._snapshots: dict[int, BookSnapshot] = {}

    def apply(self, frame: OrderBookReceived) -> BookOutcome:
        """Fold one frame in by the rules above."""
        if frame.snapshot:
            self.bids.replace(frame.bids)
            self.asks.replace(frame.asks)
            return self._moved(frame)
        if not self.synced:
            return BookOutcome.WAITING
        if frame.update_id <= self.update_id:
            return BookOutcome.STALE
        if frame.update_id != self.update_id + 1:
            self.synced = False
            return BookOutcome.GAP
        self.bids.update(frame.bids)
        self.asks.update(frame.asks)
        return self._moved(frame)

    def _moved(self, frame: OrderBookReceived) -> BookOutcome:
        self.update_id, self.seq, self.exchange_ts = frame.update_id, frame.seq, frame.exchange_ts
        self._snapshots.clear()
        bid, ask = self.bids.best(), self.asks.best()
        self.synced = bid is None or ask is None or bid < ask
        return BookOutcome.APPLIED if self.synced else BookOutcome.CROSSED

    def snapshot(self, levels: int) -> BookSnapshot | None:
        """The best `levels` of each side (at most the topic's depth), or None while the book waits for a snapshot."""
        if not self.synced:
            return None
        count = max(1, min(levels, self.depth))
        held = self._snapshots.get(count)
        if held is None:
            held = self._snapshots[count] = BookSnapshot(
                self.symbol, self.bids.top(count), self.asks.top(count), self.update_id, self.seq, self.exchange_ts
            )
        return held
