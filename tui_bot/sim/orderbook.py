"""Depth views of the book the matcher fills against: GET /v5/market/orderbook and orderbook.{depth}.{symbol}."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import Side
from tui_bot.domain.models import Instrument
from tui_bot.sim import wire
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.market import BOOK_DEPTH, Level, SymbolMarket
from tui_bot.sim.params import Params, require_linear

DEPTHS = (1, 50, 200, 1000)  # Bybit's linear stream depths (orderbook.500 went offline on 2025-09-30)
REST_DEFAULT_LIMIT = 25
LEVEL1_RESEND_MS = 3000  # an unchanged level-1 book is pushed again, same u, after this long


def _decimal_levels(levels: list[Level], inst: Instrument) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(ticks) * inst.tick_size, Decimal(steps) * inst.qty_step) for ticks, steps in levels]


def book_data(market: SymbolMarket, bids: list[Level], asks: list[Level], *, u: int, seq: int) -> wire.Wire:
    """Stream data {s, b, a, u, seq} of levels given in ticks and qty steps."""
    inst = market.instrument
    return wire.orderbook_to_wire(
        inst.symbol, _decimal_levels(bids, inst), _decimal_levels(asks, inst), inst, update_id=u, seq=seq
    )


def orderbook(engine: ExchangeEngine, raw: dict[str, Any]) -> dict[str, Any]:
    """GET /v5/market/orderbook: limit levels a side (1-1000, default 25) of the book orders fill against."""
    p = Params(raw, from_query=True)
    require_linear(p)
    market = engine.market(p.symbol(required=True))
    limit = p.integer("limit", default=REST_DEFAULT_LIMIT, low=1, high=BOOK_DEPTH) or REST_DEFAULT_LIMIT
    data = book_data(
        market,
        market.book_levels(Side.SELL, limit),
        market.book_levels(Side.BUY, limit),
        u=market.book_u,
        seq=market.book_seq,
    )
    return wire.orderbook_rest(data, ts=engine.clock.now_ms(), cts=market.book_ts)


def _changes(old: dict[int, int], new: dict[int, int]) -> list[Level]:
    """Levels that are new or resized, and removed ones with size 0."""
    changed = [(ticks, steps) for ticks, steps in new.items() if old.get(ticks) != steps]
    return changed + [(ticks, 0) for ticks in old if ticks not in new]


class BookStream:
    """One orderbook.{depth}.{symbol} topic: the book its subscribers hold and the frames that move it.

    The topic numbers its own frames: `u` starts at the book's update id when the topic is set up (1 on a fresh
    exchange, as after a Bybit restart) and rises by exactly one with each frame that changes the book, so a
    subscriber can tell a missed frame from a quiet book; a re-sent level-1 snapshot keeps its `u`.
    """

    def __init__(self, topic: str, market: SymbolMarket, depth: int) -> None:
        self.topic, self.market, self.depth = topic, market, depth
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.seq = self.cts = self.pushed_ms = 0
        self.u = market.book_u
        self._capture()

    def _view(self) -> tuple[dict[int, int], dict[int, int]]:
        return (
            dict(self.market.book_levels(Side.SELL, self.depth)),
            dict(self.market.book_levels(Side.BUY, self.depth)),
        )

    def _capture(self, view: tuple[dict[int, int], dict[int, int]] | None = None) -> None:
        self.bids, self.asks = view or self._view()
        self.seq, self.cts = self.market.book_seq, self.market.book_ts

    def _message(self, type_: str, bids: list[Level], asks: list[Level], now: int) -> wire.Wire:
        data = book_data(self.market, bids, asks, u=self.u, seq=self.seq)
        return wire.orderbook_message(self.topic, type_, now, data, self.cts, depth=self.depth)

    def snapshot(self, now: int) -> wire.Wire:
        """The whole book as the subscribers hold it: bids descending, asks ascending."""
        self.pushed_ms = now
        return self._message("snapshot", sorted(self.bids.items(), reverse=True), sorted(self.asks.items()), now)

    def update(self, now: int) -> wire.Wire | None:
        """The frame that brings subscribers to the current book (level 1: snapshots only), or None."""
        view = self._view()
        if view == (self.bids, self.asks):
            resend = self.depth == 1 and now - self.pushed_ms >= LEVEL1_RESEND_MS
            return self.snapshot(now) if resend else None
        self.u += 1
        if self.depth == 1:
            self._capture(view)
            return self.snapshot(now)
        bids, asks = _changes(self.bids, view[0]), _changes(self.asks, view[1])
        self._capture(view)
        self.pushed_ms = now
        return self._message("delta", sorted(bids, reverse=True), sorted(asks), now)
