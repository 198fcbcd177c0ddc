"""Kline history and live bars per symbol and interval, consistent with the live last price."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from decimal import Decimal

from tui_bot.domain.models import Kline
from tui_bot.domain.numbers import ZERO, floor_to_step, round_to_step
from tui_bot.sim.intervals import bar_length_ms, bar_start, shift_bar

HISTORY_CHUNK = 1000
INITIAL_HISTORY = 200
"""Closed bars made when a series is first asked for (Bybit's default kline limit); older ones as queries reach them
(the walk back draws the same numbers in any chunks, so the bars are the same)."""
_MS_PER_YEAR = 365 * 86_400_000


class CandleSeries:
    """Closed bars (oldest first) plus the live bar of one interval."""

    def __init__(
        self,
        symbol: str,
        interval: str,
        *,
        seed: int,
        price: Decimal,
        tick: Decimal,
        qty_step: Decimal,
        annual_vol: float,
        now_ms: int,
    ) -> None:
        self.symbol = symbol
        self.interval = interval
        self._tick = tick
        self._qty_step = qty_step
        self._rng = random.Random(f"{seed}:{symbol}:kline:{interval}")
        start = bar_start(interval, now_ms)
        self._sigma = annual_vol * math.sqrt(bar_length_ms(interval, start) / _MS_PER_YEAR)
        self.live = Kline(symbol, interval, start, price, price, price, price, ZERO, ZERO)
        self.closed: list[Kline] = []
        self._extend_history(INITIAL_HISTORY)

    def _price(self, value: float) -> Decimal:
        return max(round_to_step(Decimal(repr(value)), self._tick), self._tick)

    def _extend_history(self, count: int) -> None:
        """Walk the price backwards from the oldest known bar to add `count` older bars."""
        anchor = self.closed[0] if self.closed else self.live
        close = float(anchor.open)
        start = anchor.start
        older: list[Kline] = []
        for _ in range(count):
            start = shift_bar(self.interval, start, -1)
            opened = close / math.exp(self._sigma * self._rng.gauss(0.0, 1.0))
            wick = abs(self._rng.gauss(0.0, 0.5)) * self._sigma
            high = max(opened, close) * (1 + wick)
            low = min(opened, close) * (1 - wick * self._rng.random())
            volume = floor_to_step(Decimal(repr(self._rng.uniform(50, 500))), self._qty_step)
            o, h, lo, c = (self._price(v) for v in (opened, high, low, close))
            h = max(h, o, c)
            lo = min(lo, o, c)
            turnover = (volume * (o + c) / 2).quantize(Decimal("0.0001"))
            older.append(Kline(self.symbol, self.interval, start, o, h, lo, c, volume, turnover, True))
            close = float(o)
        older.reverse()
        self.closed[:0] = older

    def on_trade(self, price: Decimal, qty: Decimal, now_ms: int) -> list[Kline]:
        """Fold a trade into the live bar; return bars that closed (confirm=True) because time moved on."""
        finished = self.roll(now_ms)
        bar = self.live
        self.live = replace(
            bar,
            high=max(bar.high, price),
            low=min(bar.low, price),
            close=price,
            volume=bar.volume + qty,
            turnover=bar.turnover + (qty * price).quantize(Decimal("0.0001")),
        )
        return finished

    def roll(self, now_ms: int) -> list[Kline]:
        """Close the live bar when now_ms is past its end and open the next at the last close.

        After a clock jump of more than HISTORY_CHUNK bars (the admin clock skew) the flat bars in between are
        skipped: the live bar opens at now_ms's bar, so a jump of years costs no more than one chunk.
        """
        finished: list[Kline] = []
        if now_ms >= shift_bar(self.interval, self.live.start, HISTORY_CHUNK + 1):
            done = replace(self.live, confirm=True)
            self.closed.append(done)
            finished.append(done)
            self.live = Kline(
                self.symbol,
                self.interval,
                bar_start(self.interval, now_ms),
                done.close,
                done.close,
                done.close,
                done.close,
            )
            return finished
        while now_ms >= shift_bar(self.interval, self.live.start, 1):
            done = replace(self.live, confirm=True)
            self.closed.append(done)
            finished.append(done)
            nxt = shift_bar(self.interval, done.start, 1)
            self.live = Kline(self.symbol, self.interval, nxt, done.close, done.close, done.close, done.close)
        return finished

    def query(self, start: int | None, end: int | None, limit: int) -> list[Kline]:
        """Bars in [start, end], newest first, at most `limit` (the live bar included)."""
        while len(self.closed) < 20 * HISTORY_CHUNK and self._reaches_past_oldest(start, end, limit):
            self._extend_history(HISTORY_CHUNK)
        bars = [*self.closed, self.live]
        if end is not None:
            bars = [b for b in bars if b.start <= end]
        if start is not None:
            bars = [b for b in bars if b.start >= start]
        if start is not None and end is None:
            bars = bars[:limit]
        return list(reversed(bars[-limit:]))

    def _reaches_past_oldest(self, start: int | None, end: int | None, limit: int) -> bool:
        """True when a query wants bars older than the oldest made: from before it, or more than there are to end."""
        if start is not None:
            return start < self.closed[0].start
        if end is None:
            return len(self.closed) + 1 < limit
        return sum(1 for bar in self.closed if bar.start <= end) + (self.live.start <= end) < limit
