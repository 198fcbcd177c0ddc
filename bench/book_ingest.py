"""How fast order-book deltas get into the market view's book, beside the ticker ingest of the same run.

Frames recorded from the embedded exchange (orderbook.50 of the majors, 100 ms steps; one snapshot per topic,
then one delta a step) are pushed in one process on one core through the real path: StreamConnection.handle_frame
-> the client's public decoder -> Engine.feed -> the market feed (an engine listener) -> OrderBook -> an
OrderBookChanged to one bus subscriber. Also shown: the decoder alone and OrderBook.apply alone (decoded
frames). The baseline row is client_ingest's ticker path (handle_frame -> decode -> Engine.feed -> state) on
ticker frames recorded in the same run; new code has no "before", so the ticker figure is the yardstick.

    python -m bench.book_ingest --steps 2000 --repeat 5

Bybit pushes orderbook.50 every 20 ms (50 deltas/s a symbol); the console shows one symbol's book.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import Callable

import orjson
import websockets

from bench.client_ingest import (
    StandInClient,
    ingest_pass,
    public_decoder,
    record_frames,
    stand_in_engine,
)
from tui_bot.core.market_feed import MarketFeed
from tui_bot.core.order_book import BookOutcome, OrderBook
from tui_bot.domain.market import OrderBookReceived
from tui_bot.domain.models import PublicTrade
from tui_bot.exchange.bybit.parse import Decoded
from tui_bot.exchange.bybit.ws import StreamConnection

SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
DEPTH = 50


class BookStandIn(StandInClient):
    """The ingest bench's stand-in client, able to 'stream' books (there is no socket: frames are pushed)."""

    async def set_market_streams(self, symbols: set[str], depth: int) -> None:
        return None

    async def fetch_recent_trades(self, symbol: str, limit: int) -> list[PublicTrade]:
        return []

    async def restart_book_stream(self, symbol: str, depth: int) -> None:
        raise AssertionError(f"book {symbol} lost its sequence: the recorded frames must not skip an update id")


async def record_books(names: list[str], steps: int, seed: int = 7) -> list[str]:
    """orderbook.{DEPTH} frames exactly as a SimExchange sends them: a snapshot per topic, then a delta a step."""
    from tui_bot.sim.server import SimExchange

    sim = SimExchange(symbols=names, autostep=False, seed=seed)
    urls = await sim.start()
    frames: list[str] = []
    try:
        async with websockets.connect(urls.public_ws, max_size=None, max_queue=None) as ws:
            await ws.send(orjson.dumps({"op": "subscribe", "args": [f"orderbook.{DEPTH}.{s}" for s in names]}).decode())

            async def read() -> None:
                async for raw in ws:
                    if '"topic"' in raw[:20]:
                        frames.append(raw)

            reader = asyncio.create_task(read())
            while len(frames) < len(names):
                await asyncio.sleep(0.01)
            for _ in range(steps):
                await sim.step(1)
            seen = -1
            while seen != len(frames):
                seen = len(frames)
                await asyncio.sleep(0.2)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    finally:
        await sim.stop()
    return frames


def decode_pass(decode: Callable[[str | bytes, int], Decoded], frames: list[str]) -> float:
    start = time.perf_counter()
    for frame in frames:
        decode(frame, 0)
    return time.perf_counter() - start


def apply_pass(events: list[OrderBookReceived]) -> float:
    """Seconds for fresh books to apply the decoded frames (every one must apply)."""
    books = {s: OrderBook(s, DEPTH) for s in SYMBOLS}
    start = time.perf_counter()
    for event in events:
        if books[event.symbol].apply(event) is not BookOutcome.APPLIED:
            raise AssertionError(f"{event.symbol} update {event.update_id} did not apply")
    return time.perf_counter() - start


async def measure(books: list[str], tickers: list[str], repeat: int) -> dict[str, float]:
    """Best-of-repeat frames/s of each row, passes interleaved."""
    decode = public_decoder(SYMBOLS)
    events = [e for f in books for e in decode(f, 0) if isinstance(e, OrderBookReceived)]  # type: ignore[union-attr]
    ticker_engine = stand_in_engine(SYMBOLS, 3)
    await ticker_engine.start()
    ticker_conn = StreamConnection("public-1", "ws://127.0.0.1:9", decode=decode, on_events=ticker_engine.feed)
    best = {"ticker": float("inf"), "decode": float("inf"), "apply": float("inf"), "book": float("inf")}
    try:
        for _ in range(repeat):
            book_engine = stand_in_engine(SYMBOLS, 3, client=BookStandIn)
            await book_engine.start()
            feed = MarketFeed(book_engine, depth=DEPTH)
            book_engine.listeners.append(feed.on_event)
            await feed.want("bench", set(SYMBOLS))
            subscription = book_engine.bus.subscribe()
            book_conn = StreamConnection("public-1", "ws://127.0.0.1:9", decode=decode, on_events=book_engine.feed)
            times = {
                "ticker": await ingest_pass(ticker_conn, ticker_engine, tickers),
                "decode": decode_pass(decode, books),
                "apply": apply_pass(events),
                "book": await ingest_pass(book_conn, book_engine, books),
            }
            await subscription.next_batch()
            await book_engine.stop()
            best = {key: min(best[key], times[key]) for key in best}
    finally:
        await ticker_engine.stop()
    return {key: (len(tickers) if key == "ticker" else len(books)) / seconds for key, seconds in best.items()}


def levels_per_delta(frames: list[str]) -> float:
    deltas = [orjson.loads(f)["data"] for f in frames if '"delta"' in f[:60]]
    return sum(len(d["b"]) + len(d["a"]) for d in deltas) / max(len(deltas), 1)


async def run(args: argparse.Namespace) -> None:
    books = await record_books(SYMBOLS, args.steps)
    tickers = await record_frames(SYMBOLS, args.steps)
    rates = await measure(books, tickers, args.repeat)
    print(
        f"book ingest: {len(books):,} orderbook.{DEPTH} frames recorded from the embedded exchange ({len(SYMBOLS)} "
        f"symbols, {len(SYMBOLS)} snapshots + deltas, {levels_per_delta(books):.1f} levels a delta); ticker baseline: "
        f"{len(tickers):,} ticker frames of the same symbols; best of {args.repeat} interleaved passes, one core"
    )
    print(f"  {'path':66}{'frames/s':>11}{'us/frame':>10}")
    rows = (
        ("baseline: tickers, handle_frame -> decode -> Engine.feed -> state", rates["ticker"]),
        ("book frames: decode_public only", rates["decode"]),
        ("book frames: OrderBook.apply only (decoded)", rates["apply"]),
        ("book frames: handle_frame -> decode -> feed -> book -> bus subscriber", rates["book"]),
    )
    for name, rate in rows:
        print(f"  {name:66}{rate:>11,.0f}{1e6 / rate:>10.2f}")
    print(f"  one symbol's orderbook.{DEPTH} at Bybit's 50 deltas/s uses {50 / rates['book']:.2%} of a core")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="market steps recorded (one delta per symbol each)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved passes; the best of each is shown")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    gc.collect()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
