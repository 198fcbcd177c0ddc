"""200 symbols x 2 timeframes against the embedded exchange: kline topics sharded within the venue's limits, and
after a forced disconnect during which bars closed, every series filled from REST with no missing bar."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.core.candles import CandleBook, interval_ms, missing_starts
from tui_bot.domain.events import ConnectionState
from tui_bot.exchange.bybit.ws import ARGS_CHARS_PER_CONNECTION, args_chars
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.instruments import DEFAULT_SYMBOLS

MINUTE = 60_000
TIMEFRAMES = ("15", "3")
SYMBOLS = [*DEFAULT_SYMBOLS, *(f"K{i:03d}USDT" for i in range(197))]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on a 200-symbol exchange, mid-way through a 15-minute bar, its own bot stopped."""
    settings = fast_settings()
    settings.sim.symbols = list(SYMBOLS)
    settings.sim.step_ms = 100
    rt = await start_runtime(settings, tmp_path / "klines.db")
    bot = getattr(rt, "bot", None)
    if bot is not None:
        await bot.stop()
    sim = sim_of(rt)
    sim.clock.skew_ms = (400_000 - sim.clock.now_ms() % interval_ms("15")) % interval_ms("15")
    yield rt
    await rt.close()


async def books_of(runtime: Runtime) -> list[CandleBook]:
    """A candle book per timeframe over every symbol, fed by the engine."""
    books = []
    for timeframe in TIMEFRAMES:
        book = CandleBook(runtime.client, runtime.writer, history=30, stream_owner=f"test-{timeframe}")
        runtime.engine.listeners.append(book.on_event)
        await book.prepare(SYMBOLS, timeframe)
        books.append(book)
    return books


def newest_closed_on_venue(runtime: Runtime, symbol: str, timeframe: str) -> int:
    return sim_of(runtime).engine.candle_series(symbol, timeframe).live.start - interval_ms(timeframe)


def caught_up(runtime: Runtime, books: list[CandleBook]) -> bool:
    """Every series ends at the venue's newest closed bar."""
    return all(
        (series := book.series(s)) is not None
        and bool(series.starts)
        and series.starts[-1] == newest_closed_on_venue(runtime, s, book.interval)
        for book in books
        for s in SYMBOLS
    )


def assert_no_gap(books: list[CandleBook]) -> None:
    for book in books:
        for symbol in SYMBOLS:
            series = book.series(symbol)
            assert series is not None and len(series.starts) == 30
            assert missing_starts(series.starts, interval_ms(book.interval)) == [], (symbol, book.interval)


def test_missing_starts_names_each_absent_bar() -> None:
    assert missing_starts([0, 3, 6, 9], 3) == []
    assert missing_starts([0, 3, 12, 15, 21], 3) == [6, 9, 18]
    assert missing_starts([], 3) == [] and missing_starts([5], 3) == []


def assert_sharded(runtime: Runtime) -> None:
    """Every kline topic subscribed, no public connection past topics_per_connection or Bybit's args length."""
    client = runtime.client
    assert client.kline_topics == {f"kline.{t}.{s}" for t in TIMEFRAMES for s in SYMBOLS}
    per_connection = runtime.settings.streams.topics_per_connection
    shards = [shard.topics for shard in client.public]
    assert len(shards) >= len(client.kline_topics) // per_connection
    for topics in shards:
        assert 0 < len(topics) <= per_connection
        assert args_chars(topics) <= ARGS_CHARS_PER_CONNECTION


async def test_bars_closed_during_a_disconnect_are_backfilled_with_no_gap(runtime: Runtime) -> None:
    books = await books_of(runtime)  # one test: 400 series of venue history take the sim seconds to make
    assert_sharded(runtime)
    assert caught_up(runtime, books)
    assert_no_gap(books)
    before = {(b.interval, s): b.series(s).starts[-1] for b in books for s in SYMBOLS}  # type: ignore[union-attr]
    sim = sim_of(runtime)
    sim.faults.stall("kline.*", 60)  # bars that close now reach nobody
    assert sim.drop_connections("public") >= len(runtime.client.public)
    sim.clock.skew_ms += 31 * MINUTE  # two 15-minute and ten 3-minute bars close during the outage
    await wait_for(lambda: newest_closed_on_venue(runtime, SYMBOLS[-1], "15") > before[("15", SYMBOLS[-1])])
    sim.faults.stalls.clear()
    await wait_for(lambda: all(shard.stats.state is ConnectionState.LIVE for shard in runtime.client.public))
    await wait_for(lambda: caught_up(runtime, books), timeout=15)
    assert_no_gap(books)
    for book in books:
        step = interval_ms(book.interval)
        assert all(book.series(s).starts[-1] >= before[(book.interval, s)] + 2 * step for s in SYMBOLS)  # type: ignore[union-attr]
    await runtime.writer.flush()
    db = sqlite3.connect(runtime.db_path)
    try:
        sql = "select start from candles where symbol = ? and interval = '3' and confirm = 1 order by start"
        stored = [int(row[0]) for row in db.execute(sql, (SYMBOLS[-1],))]
    finally:
        db.close()
    assert stored[-1] == newest_closed_on_venue(runtime, SYMBOLS[-1], "3")
    assert missing_starts(stored, interval_ms("3")) == []
    for book in books:
        await book.stop()
