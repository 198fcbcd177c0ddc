"""Phantom trades: rejected or unapproved recommendations followed on live prices to their TP, SL or timeout."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from tui_bot.domain.events import Event, TickerUpdated
from tui_bot.domain.recommendations import Recommendation
from tui_bot.store.ops import SavePhantom
from tui_bot.store.rows import PhantomRow
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
_SAVE_EVERY_MS = 5_000


def follow(phantom: PhantomRow, price: Decimal, now_ms: int, timeout_ms: int) -> PhantomRow:
    """The phantom after one price: excursions widened, closed as a win at TP, a loss at SL, or at timeout."""
    sign = phantom.side.sign
    move = (price - phantom.entry) * sign
    favourable = max(phantom.max_favourable, move)
    adverse = max(phantom.max_adverse, -move)
    outcome = None
    if (price - phantom.tp) * sign >= 0:
        outcome, price = "win", phantom.tp
    elif (phantom.sl - price) * sign >= 0:
        outcome, price = "loss", phantom.sl
    elif now_ms - phantom.opened_ms >= timeout_ms:
        outcome = "timeout"
    if outcome is None:
        return replace(phantom, max_favourable=favourable, max_adverse=adverse)
    return replace(
        phantom, max_favourable=favourable, max_adverse=adverse, outcome=outcome, exit_price=price, closed_ms=now_ms
    )


class PhantomTracker:
    """Open phantoms in memory, moved on every ticker of their symbol; the store gets opens, closes and
    excursions at most every few seconds."""

    def __init__(
        self,
        writer: StoreWriter | None,
        timeout_hours: Callable[[], Decimal],
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.writer = writer
        self.timeout_hours = timeout_hours
        self.now_ms = now_ms
        self.open: dict[str, PhantomRow] = {}
        self._per_symbol: Counter[str] = Counter()
        self.closed_count = 0
        self._saved_ms: dict[str, int] = {}
        self.closed_listeners: list[Callable[[PhantomRow], None]] = []
        """Told of each phantom as it closes (after it is saved)."""

    def restore(self, phantoms: list[PhantomRow]) -> None:
        """Resume following phantoms still open in the store."""
        for phantom in phantoms:
            if phantom.closed_ms is None and phantom.id not in self.open:
                self.open[phantom.id] = phantom
                self._per_symbol[phantom.symbol] += 1

    def start(self, rec: Recommendation, price: Decimal | None = None) -> PhantomRow:
        """Follow a recommendation from its entry (or the current price when given)."""
        phantom = PhantomRow(
            id=f"ph-{rec.id}",
            recommendation_id=rec.id,
            symbol=rec.symbol,
            side=rec.side,
            entry=price or rec.entry,
            sl=rec.stop_loss,
            tp=rec.take_profit,
            opened_ms=self.now_ms(),
            features=rec.features,
        )
        if phantom.id not in self.open:
            self._per_symbol[phantom.symbol] += 1
        self.open[phantom.id] = phantom
        self._save(phantom)
        return phantom

    @property
    def symbols(self) -> set[str]:
        return set(self._per_symbol)

    def on_price(self, symbol: str, price: Decimal) -> list[PhantomRow]:
        """Move every open phantom of the symbol; returns those that closed."""
        now = self.now_ms()
        timeout_ms = int(self.timeout_hours() * 3_600_000)
        closed: list[PhantomRow] = []
        for phantom_id, phantom in list(self.open.items()):
            if phantom.symbol != symbol:
                continue
            moved = follow(phantom, price, now, timeout_ms)
            if moved.closed_ms is not None:
                del self.open[phantom_id]
                self._per_symbol[symbol] -= 1
                if not self._per_symbol[symbol]:
                    del self._per_symbol[symbol]
                self.closed_count += 1
                closed.append(moved)
                self._save(moved)
                self._saved_ms.pop(phantom_id, None)
                for listener in self.closed_listeners:
                    listener(moved)
                log.info(
                    "phantom %s %s %s closed: %s at %s",
                    moved.symbol,
                    moved.side.value,
                    moved.recommendation_id,
                    moved.outcome,
                    moved.exit_price,
                )
            else:
                self.open[phantom_id] = moved
                if moved != phantom and now - self._saved_ms.get(phantom_id, 0) >= _SAVE_EVERY_MS:
                    self._save(moved)
        return closed

    def expire(self, prices: dict[str, Decimal]) -> list[PhantomRow]:
        """Close phantoms past their timeout even when their symbol is quiet."""
        closed: list[PhantomRow] = []
        for symbol in list(self._per_symbol):
            if symbol in prices:
                closed += self.on_price(symbol, prices[symbol])
        return closed

    def on_event(self, event: Event, last_price: Callable[[str], Decimal | None]) -> None:
        """Engine listener body: a ticker of a followed symbol moves its phantoms at the merged last price."""
        if isinstance(event, TickerUpdated) and event.symbol in self._per_symbol:
            price = last_price(event.symbol)
            if price:
                self.on_price(event.symbol, price)

    def _save(self, phantom: PhantomRow) -> None:
        self._saved_ms[phantom.id] = self.now_ms()
        if self.writer is not None:
            self.writer.enqueue(SavePhantom(phantom))
