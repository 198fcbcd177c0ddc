"""Seeded, deterministic price process per symbol: fair, last, mark and index prices and a book."""

from __future__ import annotations

import math
import random
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice

from tui_bot.domain.enums import Side, TickDirection
from tui_bot.domain.models import Instrument, PublicTrade, Ticker
from tui_bot.domain.numbers import ZERO, floor_to_step, round_to_step
from tui_bot.sim.instruments import MarketSpec

_SECONDS_PER_YEAR = 365 * 86_400
BOOK_DEPTH = 1000  # levels a side: Bybit's deepest linear book (REST limit and orderbook.1000)
_SIZE_CYCLE = 4096  # resting sizes below the top repeat every this many ticks
Level = tuple[int, int]  # (price in ticks, size in qty steps)
TAPE_KEPT = 1000
"""Trades the tape keeps per symbol: the most GET /v5/market/recent-trade hands out for linear."""


@dataclass(frozen=True, slots=True)
class MarketState:
    """What a market resumes from: its prices, 24h figures, open interest, funding rate and trade count."""

    symbol: str
    last_price: Decimal
    fair_price: float
    prev_price_24h: Decimal
    high_24h: Decimal
    low_24h: Decimal
    volume_24h: Decimal
    turnover_24h: Decimal
    open_interest: Decimal
    funding_rate: Decimal
    trade_seq: int


class SymbolMarket:
    """One symbol's market, advanced one step at a time by the exchange clock."""

    def __init__(self, spec: MarketSpec, seed: int, step_seconds: float, now_ms: int) -> None:
        self.spec = spec
        self.instrument: Instrument = spec.instrument
        self._rng = random.Random(f"{seed}:{spec.instrument.symbol}")
        self._sigma = spec.annual_vol * math.sqrt(step_seconds / _SECONDS_PER_YEAR)
        self._fair = float(spec.start_price)
        self.step_count = 0
        self.trade_seq = 0
        self.last_price = spec.start_price
        self.prev_last_price = spec.start_price
        self.tick_direction = TickDirection.ZERO_PLUS
        self.bid1_price = spec.start_price - spec.instrument.tick_size
        self.ask1_price = spec.start_price
        self.bid1_size = spec.top_size
        self.ask1_size = spec.top_size
        self.mark_price = spec.start_price
        self.index_price = spec.start_price
        self.prev_price_24h = round_to_step(spec.start_price * Decimal("0.985"), self.instrument.tick_size)
        self.prev_price_1h = round_to_step(spec.start_price * Decimal("0.998"), self.instrument.tick_size)
        self.high_24h = round_to_step(spec.start_price * Decimal("1.021"), self.instrument.tick_size)
        self.low_24h = round_to_step(spec.start_price * Decimal("0.973"), self.instrument.tick_size)
        self.volume_24h = floor_to_step(spec.top_size * 40_000, self.instrument.qty_step)
        self.turnover_24h = (self.volume_24h * spec.start_price).quantize(Decimal("0.0001"))
        self.open_interest = floor_to_step(spec.top_size * 20_000, self.instrument.qty_step)
        self.funding_rate = Decimal("0.0001")
        self.pending_trades: list[PublicTrade] = []
        self.tape: deque[PublicTrade] = deque(maxlen=TAPE_KEPT)
        """The latest trades, oldest first (the stream's pending_trades are drained each step; this stays)."""
        self.cross_seq = 0  # matching-engine sequence: every book change and every trade advances it
        self.book_u = 0  # update id of the book: 1 after start (Bybit's "restarted" snapshot), +1 per change
        self.book_seq = 0
        self.book_ts = now_ms
        self._now_ms = now_ms
        self._tick_f = float(spec.instrument.tick_size)
        self._min_ticks = int(spec.instrument.min_price / spec.instrument.tick_size)
        self._max_ticks = int(spec.instrument.max_price / spec.instrument.tick_size)
        self._top_steps = int(spec.top_size / spec.instrument.qty_step)
        self._bid_ticks = self._min_ticks
        sizes = random.Random(f"{seed}:{spec.instrument.symbol}:book")
        self._depth_steps = array(
            "l", (max(int(self._top_steps * sizes.uniform(0.3, 2.0)), 1) for _ in range(_SIZE_CYCLE))
        )
        self._reprice()

    @property
    def tick(self) -> Decimal:
        return self.instrument.tick_size

    def _to_tick(self, value: float) -> Decimal:
        """Nearest tick price (never below minPrice), via integer tick counts for speed."""
        ticks = max(round(value / self._tick_f), self._min_ticks)
        return Decimal(ticks) * self.tick

    def _size(self, scale: float) -> Decimal:
        """A book size of scale × the top size, on the qty grid and at least one step."""
        return Decimal(max(int(self._top_steps * scale), 1)) * self.instrument.qty_step

    def _reprice(self) -> None:
        """Derive book, mark and index prices from the fair price."""
        fair = self._to_tick(self._fair)
        self.index_price = fair
        self.mark_price = self._to_tick(self._fair * (1 + 0.00002 * self._rng.uniform(-1, 1)))
        self._bid_ticks = max(int(self._fair / self._tick_f), self._min_ticks)
        self.bid1_price = Decimal(self._bid_ticks) * self.tick
        self.ask1_price = Decimal(self._bid_ticks + 1) * self.tick
        self.bid1_size = self._size(self._rng.uniform(0.2, 1.8))
        self.ask1_size = self._size(self._rng.uniform(0.2, 1.8))
        self.cross_seq += 1
        self.book_u += 1
        self.book_seq = self.cross_seq
        self.book_ts = self._now_ms

    def step(self, now_ms: int) -> None:
        """Advance the price process by one step and maybe print a market trade."""
        self.step_count += 1
        self._now_ms = now_ms
        shock = self._rng.gauss(0.0, 1.0)
        self._fair *= math.exp(self._sigma * shock - 0.5 * self._sigma * self._sigma)
        self._reprice()
        if self._rng.random() < 0.6:
            taker = Side.BUY if self._rng.random() < 0.5 else Side.SELL
            price = self.ask1_price if taker is Side.BUY else self.bid1_price
            self.print_trade(taker, price, self._size(self._rng.uniform(0.001, 0.2)), now_ms)
        if self._rng.random() < 0.05:
            delta = self._rng.choice((-1, 1)) * self.spec.top_size
            self.open_interest = max(self.open_interest + delta, self.spec.top_size)

    def print_trade(self, taker: Side, price: Decimal, size: Decimal, now_ms: int) -> None:
        """Record a trade on the tape and update last price and 24h statistics."""
        if price > self.last_price:
            self.tick_direction = TickDirection.PLUS
        elif price < self.last_price:
            self.tick_direction = TickDirection.MINUS
        elif self.tick_direction in (TickDirection.PLUS, TickDirection.ZERO_PLUS):
            self.tick_direction = TickDirection.ZERO_PLUS
        else:
            self.tick_direction = TickDirection.ZERO_MINUS
        self.prev_last_price = self.last_price
        self.last_price = price
        self.high_24h = max(self.high_24h, price)
        self.low_24h = min(self.low_24h, price)
        self.volume_24h += size
        self.turnover_24h += (size * price).quantize(Decimal("0.0001"))
        self.trade_seq += 1
        self.cross_seq += 1
        trade = PublicTrade(
            trade_id=f"{self.instrument.symbol_id:04d}-{self.trade_seq:012d}",
            symbol=self.instrument.symbol,
            taker_side=taker,
            price=price,
            size=size,
            time=now_ms,
            tick_direction=self.tick_direction.value,
            seq=self.cross_seq,
        )
        self.pending_trades.append(trade)
        self.tape.append(trade)

    def set_price(self, price: Decimal, now_ms: int) -> None:
        """Move the market to price at once (admin control for rehearsals and tests)."""
        self._now_ms = now_ms
        self._fair = float(price)
        self.last_price = self._to_tick(float(price))
        self._reprice()
        self.mark_price = self.last_price
        self.index_price = self.last_price
        self.print_trade(Side.BUY, self.last_price, self.instrument.qty_step, now_ms)

    def saved_state(self) -> MarketState:
        """What a restarted exchange resumes this market from."""
        return MarketState(
            self.instrument.symbol, self.last_price, self._fair, self.prev_price_24h, self.high_24h, self.low_24h,
            self.volume_24h, self.turnover_24h, self.open_interest, self.funding_rate, self.trade_seq,
        )  # fmt: skip

    def resume(self, saved: MarketState, now_ms: int) -> None:
        """Continue from a saved state (the book is derived afresh; its update ids start over, as after a restart)."""
        self._now_ms = now_ms
        self._fair = saved.fair_price
        self.last_price = self.prev_last_price = saved.last_price
        self.prev_price_24h, self.high_24h, self.low_24h = saved.prev_price_24h, saved.high_24h, saved.low_24h
        self.volume_24h, self.turnover_24h = saved.volume_24h, saved.turnover_24h
        self.open_interest, self.funding_rate, self.trade_seq = saved.open_interest, saved.funding_rate, saved.trade_seq
        self._reprice()

    def take_trades(self) -> list[PublicTrade]:
        """Return and clear the trades printed since the last call."""
        trades, self.pending_trades = self.pending_trades, []
        return trades

    def _walk(self, taker: Side) -> Iterator[Level]:
        """The side a taker of `taker` side walks (asks for a buyer), best first, as (ticks, steps)."""
        if taker is Side.BUY:
            best, top, end = (
                self._bid_ticks + 1,
                self.ask1_size,
                min(self._bid_ticks + 1 + BOOK_DEPTH, self._max_ticks + 1),
            )
        else:
            best, top, end = self._bid_ticks, self.bid1_size, max(self._bid_ticks - BOOK_DEPTH, self._min_ticks - 1)
        yield best, int(top / self.instrument.qty_step)
        sizes = self._depth_steps  # fixed per price below the top, so the book stands while the price moves
        for ticks in range(best + taker.sign, end, taker.sign):
            yield ticks, sizes[ticks % _SIZE_CYCLE]

    def book_levels(self, taker: Side, depth: int = BOOK_DEPTH) -> list[Level]:
        """At most depth levels of the side a taker of `taker` side walks, as (ticks, steps), best first."""
        return list(islice(self._walk(taker), depth))

    def book(self, taker: Side) -> Iterator[tuple[Decimal, Decimal]]:
        """The same levels as (price, size), produced as the matcher walks them."""
        tick, step = self.tick, self.instrument.qty_step
        for ticks, steps in self._walk(taker):
            yield Decimal(ticks) * tick, Decimal(steps) * step

    def protective_price(self, taker: Side) -> Decimal:
        """The IOC limit price a market order is converted to (a 3% band, as Bybit does)."""
        band = Decimal("0.03") * taker.sign
        return round_to_step(self.last_price * (1 + band), self.tick)

    def price_for(self, trigger_by: str) -> Decimal:
        """The price a trigger watches: LastPrice, MarkPrice or IndexPrice."""
        if trigger_by == "MarkPrice":
            return self.mark_price
        if trigger_by == "IndexPrice":
            return self.index_price
        return self.last_price

    def next_funding_time(self) -> int:
        """The next funding settlement time (every fundingInterval minutes, UTC aligned)."""
        period = self.instrument.funding_interval_min * 60_000
        return (self._now_ms // period + 1) * period

    def ticker(self) -> Ticker:
        """The current ticker snapshot."""
        pcnt = ZERO
        if self.prev_price_24h:
            pcnt = ((self.last_price - self.prev_price_24h) / self.prev_price_24h).quantize(Decimal("0.000001"))
        return Ticker(
            symbol=self.instrument.symbol,
            last_price=self.last_price,
            mark_price=self.mark_price,
            index_price=self.index_price,
            bid1_price=self.bid1_price,
            bid1_size=self.bid1_size,
            ask1_price=self.ask1_price,
            ask1_size=self.ask1_size,
            prev_price_24h=self.prev_price_24h,
            price_24h_pcnt=pcnt,
            high_price_24h=self.high_24h,
            low_price_24h=self.low_24h,
            prev_price_1h=self.prev_price_1h,
            open_interest=self.open_interest,
            open_interest_value=(self.open_interest * self.mark_price).quantize(Decimal("0.01")),
            turnover_24h=self.turnover_24h,
            volume_24h=self.volume_24h,
            funding_rate=self.funding_rate,
            next_funding_time=self.next_funding_time(),
            tick_direction=self.tick_direction.value,
            ts=self._now_ms,
        )
