"""The local order book's rules: snapshot replaces, deltas set and delete levels in update-id order, a gap or a
crossed book waits for the next snapshot; reads are immutable top-N snapshots."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from tui_bot.core.order_book import BookOutcome, OrderBook
from tui_bot.domain.market import BookLevel, OrderBookReceived

D = Decimal


def frame(
    u: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], *, snapshot: bool = False
) -> OrderBookReceived:
    return OrderBookReceived(
        symbol="BTCUSDT",
        depth=50,
        snapshot=snapshot,
        update_id=u,
        seq=u * 10,
        bids=tuple(BookLevel(D(p), D(s)) for p, s in bids),
        asks=tuple(BookLevel(D(p), D(s)) for p, s in asks),
        exchange_ts=u,
        received_ns=0,
    )


def levels(side: tuple[BookLevel, ...]) -> list[tuple[str, str]]:
    return [(str(level.price), str(level.size)) for level in side]


@pytest.fixture
def book() -> OrderBook:
    book = OrderBook("BTCUSDT", 50)
    seeded = book.apply(
        frame(7, [("100.0", "1"), ("99.9", "2"), ("99.5", "3")], [("100.1", "4"), ("100.3", "5")], snapshot=True)
    )
    assert seeded is BookOutcome.APPLIED
    return book


def test_deltas_set_insert_and_delete_levels_in_price_order(book: OrderBook) -> None:
    assert (
        book.apply(frame(8, [("99.9", "0"), ("99.95", "7"), ("100.0", "1.5")], [("100.2", "6"), ("100.3", "0")]))
        is BookOutcome.APPLIED
    )
    top = book.snapshot(10)
    assert top is not None
    assert levels(top.bids) == [("100.0", "1.5"), ("99.95", "7"), ("99.5", "3")]
    assert levels(top.asks) == [("100.1", "4"), ("100.2", "6")]
    assert (top.update_id, top.seq, top.exchange_ts) == (8, 80, 8)
    assert levels(book.snapshot(1).bids) == [("100.0", "1.5")]  # type: ignore[union-attr]


def test_a_repeated_or_older_update_id_changes_nothing(book: OrderBook) -> None:
    before = book.snapshot(10)
    assert book.apply(frame(7, [("100.0", "0")], [])) is BookOutcome.STALE
    assert book.apply(frame(3, [("100.0", "0")], [])) is BookOutcome.STALE
    assert book.snapshot(10) is before


def test_a_skipped_update_id_leaves_the_book_waiting_for_a_snapshot(book: OrderBook) -> None:
    assert book.apply(frame(9, [("100.0", "9")], [])) is BookOutcome.GAP
    assert book.snapshot(10) is None
    assert book.apply(frame(10, [("100.0", "9")], [])) is BookOutcome.WAITING
    assert book.apply(frame(1, [("101.0", "1")], [("101.1", "1")], snapshot=True)) is BookOutcome.APPLIED
    rebuilt = book.snapshot(10)
    assert rebuilt is not None and levels(rebuilt.bids) == [("101.0", "1")] and rebuilt.update_id == 1
    assert book.apply(frame(2, [], [("101.1", "0"), ("101.2", "2")])) is BookOutcome.APPLIED


def test_a_crossed_book_is_not_shown(book: OrderBook) -> None:
    assert book.apply(frame(8, [("100.2", "1")], [])) is BookOutcome.CROSSED
    assert book.snapshot(10) is None
    assert book.apply(frame(9, [], [])) is BookOutcome.WAITING


def test_deleting_a_level_the_book_does_not_hold_changes_nothing(book: OrderBook) -> None:
    assert book.apply(frame(8, [("98.0", "0")], [("105.0", "0")])) is BookOutcome.APPLIED
    top = book.snapshot(10)
    assert top is not None and len(top.bids) == 3 and len(top.asks) == 2


def test_snapshots_are_immutable_cached_until_the_book_moves_and_capped_at_the_depth(book: OrderBook) -> None:
    first = book.snapshot(2)
    assert first is not None and book.snapshot(2) is first
    with pytest.raises(FrozenInstanceError):
        first.bids[0].size = D(9)  # type: ignore[misc]
    assert book.snapshot(500) == book.snapshot(50)
    book.apply(frame(8, [("99.9", "2.5")], []))
    moved = book.snapshot(2)
    assert moved is not first and levels(first.bids) == [("100.0", "1"), ("99.9", "2")]
    assert (first.best_bid, first.best_ask) == (BookLevel(D("100.0"), D("1")), BookLevel(D("100.1"), D("4")))


def test_prices_written_with_different_trailing_zeros_are_one_level(book: OrderBook) -> None:
    book.apply(frame(8, [("100.00", "3")], []))
    book.apply(frame(9, [("100", "0")], []))
    top = book.snapshot(10)
    assert top is not None and levels(top.bids) == [("99.9", "2"), ("99.5", "3")]


def test_a_side_never_holds_more_levels_than_the_topics_depth() -> None:
    book = OrderBook("BTCUSDT", 3)
    book.apply(
        frame(1, [("100", "1"), ("99", "1"), ("98", "1")], [("101", "1"), ("102", "1"), ("103", "1")], snapshot=True)
    )
    book.apply(frame(2, [("100.5", "2")], [("100.8", "2"), ("100.9", "2")]))  # the venue's deletes not sent
    top = book.snapshot(10)
    assert top is not None and levels(top.bids) == [("100.5", "2"), ("100", "1"), ("99", "1")]
    assert levels(top.asks) == [("100.8", "2"), ("100.9", "2"), ("101", "1")]
    assert len(book.bids.levels) == len(book.asks.levels) == 3
