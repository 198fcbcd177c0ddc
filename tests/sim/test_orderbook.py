"""The book orders fill against, as REST /v5/market/orderbook and orderbook.{depth}.{symbol} show it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.conftest import SignedRest
from tests.golden import assert_matches_golden
from tests.sim.rest_helpers import (
    assert_error,
    client_for,
    executions,
    extra_client,
    ok,
    order,
    place,
)
from tests.sim.ws_helpers import (
    is_topic,
    open_ws,
    recv_json,
    recv_until,
    send,
    subscribe_public,
    urls,
)
from tui_bot.domain.enums import Side
from tui_bot.sim.admin import apply_fault
from tui_bot.sim.market import SymbolMarket
from tui_bot.sim.orderbook import LEVEL1_RESEND_MS, BookStream
from tui_bot.sim.server import SimExchange

BOOK50 = "orderbook.50.BTCUSDT"
Book = dict[str, dict[Decimal, str]]


@pytest.fixture
async def mrest(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    client = client_for(manual_sim)
    yield client
    await client.close()


async def rest_book(rest: SignedRest, limit: int | None = None, symbol: str = "BTCUSDT") -> dict[str, Any]:
    params: dict[str, Any] = {"category": "linear", "symbol": symbol}
    if limit is not None:
        params["limit"] = limit
    return ok(await rest.get("/v5/market/orderbook", params, signed=False))


def as_book(data: dict[str, Any]) -> Book:
    """A book keyed by Decimal price (b and a), from snapshot or REST data."""
    return {side: {Decimal(price): size for price, size in data[side]} for side in ("b", "a")}


def apply_delta(book: Book, data: dict[str, Any]) -> None:
    """Bybit's delta rules: size "0" deletes a level, another size inserts or replaces; each entry changes something."""
    for side in ("b", "a"):
        for price, size in data[side]:
            if size == "0":
                assert Decimal(price) in book[side], f"delete of a level the client never had: {side} {price}"
                del book[side][Decimal(price)]
            else:
                assert book[side].get(Decimal(price)) != size, f"a delta repeats an unchanged level: {side} {price}"
                book[side][Decimal(price)] = size


def assert_sorted(data: dict[str, Any], *, whole_book: bool = True) -> None:
    """Bids descend and asks ascend; a whole book is not crossed either."""
    bids = [Decimal(p) for p, _ in data["b"]]
    asks = [Decimal(p) for p, _ in data["a"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks), "bids descend, asks ascend"
    assert not whole_book or bids[0] < asks[0], "the book is not crossed"


# -- REST ---------------------------------------------------------------------------------------------


async def test_rest_orderbook_shape_default_limit_and_ticker_top(manual_sim: SimExchange, mrest: SignedRest) -> None:
    reply = await mrest.get("/v5/market/orderbook", {"category": "linear", "symbol": "BTCUSDT"}, signed=False)
    assert_matches_golden(reply, "rest_orderbook")
    book = reply["result"]
    assert list(book) == ["s", "b", "a", "ts", "u", "seq", "cts"]
    assert (len(book["b"]), len(book["a"])) == (25, 25), "Bybit's default limit for linear is 25"
    assert_sorted(book)
    market = manual_sim.engine.markets["BTCUSDT"]
    assert [Decimal(x) for x in book["b"][0]] == [market.bid1_price, market.bid1_size]
    assert [Decimal(x) for x in book["a"][0]] == [market.ask1_price, market.ask1_size]
    assert (book["u"], book["seq"], book["cts"]) == (market.book_u, market.book_seq, market.book_ts)
    assert book["ts"] >= book["cts"]


@pytest.mark.parametrize("limit", [1, 200, 1000])
async def test_rest_orderbook_limit_gives_that_many_levels(mrest: SignedRest, limit: int) -> None:
    book = await rest_book(mrest, limit)
    assert (len(book["b"]), len(book["a"])) == (limit, limit)
    assert_sorted(book)
    prices = [Decimal(p) for p, _ in book["b"] + book["a"]]
    assert len(set(prices)) == len(prices)
    assert all(Decimal(size) > 0 for _, size in book["b"] + book["a"])


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"category": "linear", "symbol": "BTCUSDT", "limit": "0"}, r"limit out of range"),
        ({"category": "linear", "symbol": "BTCUSDT", "limit": "1001"}, r"limit out of range"),
        ({"category": "linear", "symbol": "BTCUSDT", "limit": "ten"}, r"limit invalid type"),
        ({"category": "linear"}, r"symbol is required"),
        ({"category": "linear", "symbol": "BTCUSDX"}, r"symbol invalid"),
        ({"category": "spot", "symbol": "BTCUSDT"}, r"category spot is not supported"),
        ({"symbol": "BTCUSDT"}, r"category is required"),
    ],
)
async def test_rest_orderbook_rejects_bad_parameters(mrest: SignedRest, params: dict[str, str], pattern: str) -> None:
    assert_error(await mrest.get("/v5/market/orderbook", params, signed=False), 10001, pattern)


@pytest.fixture
async def whale(manual_sim: SimExchange) -> AsyncIterator[SignedRest]:
    """An account rich enough to take several levels of the book at once."""
    client = extra_client(manual_sim, "WHALE", Decimal("100000000"))
    yield client
    await client.close()


async def test_a_market_buy_takes_the_asks_rest_shows_level_by_level(whale: SignedRest) -> None:
    asks = (await rest_book(whale, 5))["a"]
    qty = sum(Decimal(size) for _, size in asks[:3])
    order_id = await place(whale, order("Buy", qty=str(qty)))
    fills = sorted(await executions(whale, orderId=order_id), key=lambda f: Decimal(f["execPrice"]))
    assert [(f["execPrice"], f["execQty"]) for f in fills] == [(price, size) for price, size in asks[:3]]


async def test_a_market_sell_takes_the_bids_rest_shows_and_part_of_the_next(whale: SignedRest) -> None:
    bids = (await rest_book(whale, 3))["b"]
    part = (Decimal(bids[1][1]) / 2).quantize(Decimal("0.001"), ROUND_DOWN)
    order_id = await place(whale, order("Sell", qty=str(Decimal(bids[0][1]) + part)))
    fills = sorted(await executions(whale, orderId=order_id), key=lambda f: -Decimal(f["execPrice"]))
    assert [(f["execPrice"], Decimal(f["execQty"])) for f in fills] == [
        (bids[0][0], Decimal(bids[0][1])),
        (bids[1][0], part),
    ]


# -- WebSocket ------------------------------------------------------------------------------------------


async def test_snapshot_then_deltas_rebuild_the_rest_book(manual_sim: SimExchange, mrest: SignedRest) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await send(ws, {"req_id": "ob", "op": "subscribe", "args": [BOOK50]})
        assert (await recv_json(ws))["op"] == "subscribe"
        snapshot = await recv_json(ws)
        assert_matches_golden(snapshot, "ws_orderbook_snapshot")
        assert (snapshot["topic"], snapshot["type"]) == (BOOK50, "snapshot")
        assert_sorted(snapshot["data"])
        rest = await rest_book(mrest, 50)
        assert (snapshot["data"]["b"], snapshot["data"]["a"]) == (rest["b"], rest["a"])
        assert (snapshot["data"]["u"], snapshot["data"]["seq"], snapshot["cts"]) == (
            rest["u"],
            rest["seq"],
            rest["cts"],
        )
        book, last = as_book(snapshot["data"]), snapshot["data"]
        for _ in range(15):
            await manual_sim.step(1)
            delta = await recv_until(ws, is_topic(BOOK50), 5)
            assert_matches_golden(delta, "ws_orderbook_delta")
            assert delta["type"] == "delta" and delta["data"]["s"] == "BTCUSDT"
            assert_sorted(delta["data"], whole_book=False)
            assert delta["data"]["u"] == last["u"] + 1 and delta["data"]["seq"] > last["seq"]
            apply_delta(book, delta["data"])
            rest = await rest_book(mrest, 50)
            assert book == as_book(rest), "snapshot + deltas must equal the book REST shows"
            assert delta["cts"] == rest["cts"]
            last = delta["data"]


async def test_deep_levels_keep_their_size_so_a_delta_is_smaller_than_the_book(manual_sim: SimExchange) -> None:
    topic = "orderbook.1000.BTCUSDT"
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_public(ws, [topic])
        snapshot = await recv_until(ws, is_topic(topic), 5)
        book = as_book(snapshot["data"])
        await manual_sim.step(5)
        deltas = [await recv_until(ws, is_topic(topic), 5) for _ in range(5)]
    assert [d["type"] for d in deltas] == ["delta"] * 5
    for delta in deltas:
        apply_delta(book, delta["data"])
        assert len(delta["data"]["b"]) + len(delta["data"]["a"]) < 1000, "a step moves the edges, not every level"
    assert len(book["b"]) == len(book["a"]) == 1000


async def test_level1_sends_snapshots_only_matching_the_ticker(manual_sim: SimExchange) -> None:
    topic = "orderbook.1.BTCUSDT"
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_public(ws, [topic, "tickers.BTCUSDT"])
        await manual_sim.step(4)
        frames = [await recv_json(ws, 5)]
        while sum(f.get("topic") == topic for f in frames) < 5:
            frames.append(await recv_json(ws, 5))
    books = [f for f in frames if f.get("topic") == topic]
    assert len(books) == 5 and all(f["type"] == "snapshot" for f in books)
    assert all(list(f)[:3] == ["topic", "ts", "type"] for f in books), "level 1 puts ts before type"
    assert all(len(f["data"]["b"]) == len(f["data"]["a"]) == 1 for f in books)
    ticker: dict[str, str] = {}
    for frame in frames:
        if frame.get("topic") == "tickers.BTCUSDT":
            ticker.update(frame["data"])
    last = books[-1]["data"]
    assert (last["b"][0], last["a"][0]) == (
        [ticker["bid1Price"], ticker["bid1Size"]],
        [ticker["ask1Price"], ticker["ask1Size"]],
    )


def test_an_unchanged_level1_book_is_sent_again_after_3s_with_the_same_u(manual_sim: SimExchange) -> None:
    market: SymbolMarket = manual_sim.engine.markets["BTCUSDT"]
    stream = BookStream("orderbook.1.BTCUSDT", market, 1)
    first = stream.snapshot(1_000)
    assert stream.update(1_000 + LEVEL1_RESEND_MS - 1) is None
    again = stream.update(1_000 + LEVEL1_RESEND_MS)
    assert again is not None and again["type"] == "snapshot" and again["data"] == first["data"]
    assert stream.update(1_000 + LEVEL1_RESEND_MS + 1) is None
    deep = BookStream("orderbook.50.BTCUSDT", market, 50)
    assert deep.update(1_000 + 10 * LEVEL1_RESEND_MS) is None, "deeper books send nothing while unchanged"


async def test_first_snapshot_of_a_fresh_exchange_has_u_1(manual_sim: SimExchange) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_public(ws, ["orderbook.1000.ETHUSDT"])
        snapshot = await recv_until(ws, is_topic("orderbook.1000.ETHUSDT"), 5)
    assert snapshot["data"]["u"] == 1, "Bybit: u=1 is the snapshot of a (re)started service"
    assert len(snapshot["data"]["b"]) == len(snapshot["data"]["a"]) == 1000


@pytest.mark.parametrize(
    "topic", ["orderbook.500.BTCUSDT", "orderbook.25.BTCUSDT", "orderbook.050.BTCUSDT", "orderbook.BTCUSDT"]
)
async def test_depths_bybit_does_not_serve_are_refused(sim: SimExchange, topic: str) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        ack = await subscribe_public(ws, [topic], req_id="d")
    assert (ack["success"], ack["ret_msg"]) == (False, f"error:handler not found,topic:{topic}")


async def test_orderbook_of_an_unknown_symbol_is_refused(sim: SimExchange) -> None:
    async with open_ws(urls(sim).public_ws) as ws:
        ack = await subscribe_public(ws, ["orderbook.50.BTCUSDX"])
    assert (ack["success"], ack["ret_msg"]) == (False, "Invalid symbol :[orderbook.50.BTCUSDX]")


async def follow(ws: ClientConnection, book: Book, until_u: int) -> Book:
    """Apply this socket's orderbook frames to book until it reaches update id until_u."""
    while True:
        frame = await recv_until(ws, is_topic(BOOK50), 5)
        if frame["type"] == "snapshot":
            book = as_book(frame["data"])
        else:
            apply_delta(book, frame["data"])
        if frame["data"]["u"] == until_u:
            return book


async def test_late_subscriber_converges_with_the_early_one(manual_sim: SimExchange, mrest: SignedRest) -> None:
    async with open_ws(urls(manual_sim).public_ws) as early, open_ws(urls(manual_sim).public_ws) as late:
        await subscribe_public(early, [BOOK50])
        first = await recv_until(early, is_topic(BOOK50), 5)
        await manual_sim.step(3)
        manual_sim.engine.markets["BTCUSDT"].set_price(Decimal("104900"), manual_sim.clock.now_ms())
        await subscribe_public(late, [BOOK50])
        joined = await recv_until(late, is_topic(BOOK50), 5)
        assert joined["type"] == "snapshot" and joined["data"]["u"] == first["data"]["u"] + 3, (
            "a late subscriber gets the book the others hold, not one they have not been sent"
        )
        await manual_sim.step(2)
        oracle = await rest_book(mrest, 50)
        early_book = await follow(early, as_book(first["data"]), joined["data"]["u"] + 2)
        late_book = await follow(late, as_book(joined["data"]), joined["data"]["u"] + 2)
    assert early_book == late_book == as_book(oracle)


async def test_each_frame_raises_u_by_one_even_when_the_book_moved_twice_between_frames(
    manual_sim: SimExchange, mrest: SignedRest
) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_public(ws, [BOOK50])
        book = await recv_until(ws, is_topic(BOOK50), 5)
        data, frames = book["data"], []
        for _ in range(3):
            market = manual_sim.engine.markets["BTCUSDT"]
            market.set_price(market.last_price + 5 * market.tick, manual_sim.clock.now_ms())  # as the admin price does
            await manual_sim.step(1)
            frames.append(await recv_until(ws, is_topic(BOOK50), 5))
        oracle = await rest_book(mrest, 50)
    assert [f["data"]["u"] for f in frames] == [data["u"] + 1, data["u"] + 2, data["u"] + 3]
    held = as_book(data)
    for frame in frames:
        apply_delta(held, frame["data"])
    assert held == as_book(oracle)


async def test_book_gap_fault_withholds_a_delta_so_the_next_skips_an_update_id(manual_sim: SimExchange) -> None:
    async with open_ws(urls(manual_sim).public_ws) as ws:
        await subscribe_public(ws, [BOOK50, "orderbook.200.BTCUSDT"])
        first = (await recv_until(ws, is_topic(BOOK50), 5))["data"]["u"]
        apply_fault(manual_sim, "book-gap", {"topic": BOOK50})
        await manual_sim.step(2)
        after = await recv_until(ws, is_topic(BOOK50), 5)
        await manual_sim.step(1)
        then = await recv_until(ws, is_topic(BOOK50), 5)
    assert (after["type"], after["data"]["u"], then["data"]["u"]) == ("delta", first + 2, first + 3)
    assert manual_sim.faults.book_gaps == {}, "consumed"


def test_book_sides_touch_and_deeper_levels_stay_put_when_the_price_moves(manual_sim: SimExchange) -> None:
    market = manual_sim.engine.markets["BTCUSDT"]
    bids, asks = market.book_levels(Side.SELL, 50), market.book_levels(Side.BUY, 50)
    assert asks[0][0] == bids[0][0] + 1, "one tick spread"
    market.set_price(market.last_price + 2 * market.tick, manual_sim.clock.now_ms())
    moved = dict(market.book_levels(Side.BUY, 50))
    kept = [(ticks, steps) for ticks, steps in asks[5:] if ticks in moved]
    assert kept and all(moved[ticks] == steps for ticks, steps in kept), "a level below the top keeps its size"
