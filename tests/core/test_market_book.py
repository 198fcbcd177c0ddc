"""The market view's order book and trade tape against the embedded exchange over real sockets.

The exchange is stepped by hand, so every delta is known: the core's book must equal the exchange's own REST
book after each one; a withheld delta (the book-gap fault) or a crossed book is counted in health and rebuilt
from a new snapshot; frames with bad numbers are refused and counted, and change nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from tests.conftest import SignedRest
from tests.core.conftest import wait_for
from tests.golden import load_fixture
from tui_bot.core.market_feed import PUBLISHED_LEVELS
from tui_bot.core.market_view import MarketView
from tui_bot.domain.market import BookSnapshot, OrderBookChanged, TradesChanged
from tui_bot.exchange.bybit.ws import StreamConnection
from tui_bot.runtime import Runtime
from tui_bot.sim.admin import apply_fault
from tui_bot.sim.server import SimExchange

BTC = "BTCUSDT"
BOOK = f"orderbook.50.{BTC}"
TAPE = f"publicTrade.{BTC}"


def view(rt: Runtime) -> MarketView:
    assert rt.market is not None
    return rt.market


async def rest_book(sim: SimExchange, limit: int = 50) -> dict[str, list[tuple[Decimal, Decimal]]]:
    """The exchange's book as its REST endpoint shows it (the oracle)."""
    assert sim.urls is not None
    client = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    try:
        reply = await client.get(
            "/v5/market/orderbook", {"category": "linear", "symbol": BTC, "limit": limit}, signed=False
        )
    finally:
        await client.close()
    return {side: [(Decimal(p), Decimal(s)) for p, s in reply["result"][side]] for side in ("b", "a")}


def as_levels(book: BookSnapshot | None) -> dict[str, list[tuple[Decimal, Decimal]]]:
    assert book is not None
    return {"b": [(lv.price, lv.size) for lv in book.bids], "a": [(lv.price, lv.size) for lv in book.asks]}


async def selected(rt: Runtime) -> int:
    """Select BTCUSDT and wait for its book's first snapshot; returns its update id."""
    await view(rt).select_symbol("btcusdt")
    await wait_for(lambda: view(rt).book(BTC) is not None)
    book = view(rt).book(BTC)
    assert book is not None
    return book.update_id


async def step_and_follow(rt: Runtime, sim: SimExchange, update_id: int) -> int:
    """One exchange step; wait until the core's book has applied its delta; returns the new update id."""
    await sim.step(1)
    await wait_for(lambda: (b := view(rt).book(BTC, 50)) is not None and b.update_id == update_id + 1)
    return update_id + 1


def shard_of(rt: Runtime, topic: str) -> StreamConnection:
    (shard,) = [conn for conn in rt.client.public if topic in conn.topics]
    return shard


async def test_book_equals_the_exchanges_rest_book_after_every_delta(stepped: Runtime, manual_sim: SimExchange) -> None:
    update_id = await selected(stepped)
    assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)
    for _ in range(20):
        update_id = await step_and_follow(stepped, manual_sim, update_id)
        assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)
    top = view(stepped).book(BTC)
    assert top is not None and len(top.bids) == len(top.asks) == PUBLISHED_LEVELS
    assert stepped.engine.health.book_resyncs == {}


async def test_a_skipped_update_id_is_counted_and_the_book_rebuilt_from_a_new_snapshot(
    stepped: Runtime, manual_sim: SimExchange
) -> None:
    update_id = await selected(stepped)
    apply_fault(manual_sim, "book-gap", {"topic": BOOK})
    await manual_sim.step(1)  # its delta is withheld
    await manual_sim.step(1)  # this one skips an update id
    await wait_for(lambda: stepped.engine.health.book_resyncs == {"gap": 1})
    await wait_for(lambda: (b := view(stepped).book(BTC, 50)) is not None and b.update_id != update_id)
    assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)
    rebuilt = view(stepped).book(BTC, 50)
    assert rebuilt is not None
    await step_and_follow(stepped, manual_sim, rebuilt.update_id)
    assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)
    assert stepped.engine.health.book_resyncs == {"gap": 1}


def book_frame(update_id: int, bids: list[list[str]], asks: list[list[str]], **data: Any) -> bytes:
    frame = load_fixture("ws_orderbook_delta")
    frame["data"].update({"s": BTC, "b": bids, "a": asks, "u": update_id, **data})
    return orjson.dumps(frame)


def trade_frame(**item: Any) -> bytes:
    frame = load_fixture("ws_public_trade")
    frame["data"][0].update(item)
    return orjson.dumps(frame)


def push(sim: SimExchange, topic: str, frames: list[bytes]) -> None:
    for peer in sim.public.subscribers[topic]:
        for frame in frames:
            peer.send(frame.decode())


async def test_malformed_book_and_trade_frames_are_refused_counted_and_change_nothing(
    stepped: Runtime, manual_sim: SimExchange
) -> None:
    update_id = await selected(stepped)
    before = view(stepped).book(BTC, 50)
    assert before is not None and before.best_bid is not None
    price = str(before.best_bid.price)
    push(
        manual_sim,
        BOOK,
        [
            book_frame(update_id + 1, [[price, "1e3"]], []),
            book_frame(update_id + 1, [[price, "-2"]], []),
            book_frame(update_id + 1, [["0.00", "1"]], []),
            book_frame(update_id + 1, [[price, "1", "2"]], []),
            book_frame(update_id + 1, [[price, "1"]], [], s="ETHUSDT"),
        ],
    )
    push(manual_sim, TAPE, [trade_frame(v="0"), trade_frame(p="１０４２５０"), trade_frame(S="Up")])
    shard = shard_of(stepped, BOOK)
    await wait_for(lambda: shard.stats.decode_errors == 8)
    assert shard.stats.rejected == {"number": 2, "sign": 1, "range": 2, "malformed": 2, "topic": 1}
    assert view(stepped).book(BTC, 50) is before and view(stepped).trades(BTC) == ()
    await step_and_follow(stepped, manual_sim, update_id)  # the exchange's own next delta applies: no gap
    assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)
    assert stepped.engine.health.book_resyncs == {}


async def test_a_crossed_book_is_counted_and_rebuilt(stepped: Runtime, manual_sim: SimExchange) -> None:
    update_id = await selected(stepped)
    book = view(stepped).book(BTC, 50)
    assert book is not None and book.best_ask is not None
    push(manual_sim, BOOK, [book_frame(update_id + 1, [[str(book.best_ask.price + 1), "1.000"]], [])])
    await wait_for(lambda: stepped.engine.health.book_resyncs == {"crossed": 1})
    await wait_for(lambda: view(stepped).book(BTC, 50) is not None)
    assert as_levels(view(stepped).book(BTC, 50)) == await rest_book(manual_sim)


async def test_the_last_trades_are_kept_newest_first_and_changes_reach_the_bus_once_per_symbol(
    stepped: Runtime, manual_sim: SimExchange
) -> None:
    sub = stepped.engine.bus.subscribe()
    view(stepped).feed.trades_kept = 5
    update_id = await selected(stepped)
    printed: list[str] = []
    for _ in range(12):
        trades = manual_sim.engine.markets[BTC].pending_trades
        update_id = await step_and_follow(stepped, manual_sim, update_id)
        printed += [t.trade_id for t in trades]
    assert len(printed) > 5
    await wait_for(lambda: [t.trade_id for t in view(stepped).trades(BTC)] == printed[::-1][:5])
    batch = sub.take()
    books = [e for e in batch if isinstance(e, OrderBookChanged)]
    tapes = [e for e in batch if isinstance(e, TradesChanged)]
    assert len(books) == 1 and books[0].book == view(stepped).book(BTC), "the latest book, coalesced"
    assert len(tapes) == 1 and tapes[0].trades == view(stepped).trades(BTC)
    assert sub.coalesced >= 11


async def test_the_tape_starts_with_the_trades_printed_before_the_symbol_was_selected(
    stepped: Runtime, manual_sim: SimExchange
) -> None:
    """GET /v5/market/recent-trade fills the tape under the stream: each trade once, newest first."""
    market = manual_sim.engine.markets[BTC]
    await manual_sim.step(6)
    before = [t.trade_id for t in market.tape]
    assert before, "the exchange printed trades while nobody looked"
    update_id = await selected(stepped)
    await wait_for(lambda: [t.trade_id for t in view(stepped).trades(BTC)][-len(before) :] == before[::-1])
    for _ in range(4):
        update_id = await step_and_follow(stepped, manual_sim, update_id)
    printed = [t.trade_id for t in market.tape]
    await wait_for(lambda: [t.trade_id for t in view(stepped).trades(BTC)] == printed[::-1])
    assert len(printed) > len(before), "and the stream's trades follow, none twice"
