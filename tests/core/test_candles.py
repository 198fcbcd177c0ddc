"""CandleBook on a runtime against the embedded exchange: REST history stored, live bars followed, closes once."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import fast_settings, sim_of, wait_for
from tui_bot.core.candles import CandleBook
from tui_bot.core.strategies import BUILTINS, load_strategies
from tui_bot.domain.events import KlineUpdated
from tui_bot.domain.models import Kline
from tui_bot.domain.recommendations import Direction
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.store.ops import UpsertCandle
from tui_bot.store.repos import load_candles

MINUTE = 60_000
PAIR = ["BTCUSDT", "ETHUSDT"]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A started runtime whose own trading bot (if wired) is stopped, so the test's book owns the kline topics."""
    rt = await start_runtime(fast_settings(), tmp_path / "candles.db")
    bot = getattr(rt, "bot", None)
    if bot is not None:
        await bot.stop()
    sim = sim_of(rt)
    sim.clock.skew_ms = (100_000 - sim.clock.now_ms() % 180_000) % 180_000  # mid-bar: no close races the test
    yield rt
    await rt.close()


def db_rows(runtime: Runtime, symbol: str, interval: str) -> list[tuple[int, int]]:
    """(start, confirm) of the stored candles, oldest first."""
    db = sqlite3.connect(runtime.db_path)
    try:
        sql = "select start, confirm from candles where symbol = ? and interval = ? order by start"
        return [(int(s), int(c)) for s, c in db.execute(sql, (symbol, interval))]
    finally:
        db.close()


def assert_contiguous(bars: list[Kline], step: int) -> None:
    starts = [b.start for b in bars]
    assert all(b.confirm for b in bars)
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [step] * (len(starts) - 1)


async def test_prepare_stores_history_and_follows_the_stream(runtime: Runtime) -> None:
    book = CandleBook(runtime.client, runtime.writer, history=50)
    runtime.engine.listeners.append(book.on_event)
    await book.prepare(PAIR, "1", runtime.conn)
    assert book.interval == "1" and book.symbols == PAIR
    assert runtime.client.kline_topics == {"kline.1.BTCUSDT", "kline.1.ETHUSDT"}
    for symbol in PAIR:
        bars = book.closed(symbol)
        assert len(bars) == 50 and {b.symbol for b in bars} == {symbol}
        assert_contiguous(bars, MINUTE)
        live = book.live(symbol)
        assert live is not None and not live.confirm and live.start == bars[-1].start + MINUTE
    await runtime.writer.flush()
    rows = db_rows(runtime, "BTCUSDT", "1")
    assert len(rows) == 51 and [c for _, c in rows] == [1] * 50 + [0]
    *stored, open_bar = await load_candles(runtime.conn, "ETHUSDT", "1", 10)
    assert stored == book.closed("ETHUSDT")[-9:] and open_bar.start == book.live("ETHUSDT").start  # type: ignore[union-attr]
    first_live = book.live("BTCUSDT")
    await wait_for(lambda: book.live("BTCUSDT") is not first_live)
    assert book.live("BTCUSDT").start == first_live.start  # type: ignore[union-attr]


async def test_a_closed_bar_is_appended_once_trimmed_and_persisted(runtime: Runtime) -> None:
    book = CandleBook(runtime.client, runtime.writer, history=30)
    closes: list[Kline] = []
    book.listeners.append(closes.append)
    runtime.engine.listeners.append(book.on_event)
    await book.prepare(PAIR, "1", runtime.conn)
    opened = book.live("BTCUSDT")
    assert opened is not None
    sim_of(runtime).clock.skew_ms += MINUTE
    await wait_for(lambda: {k.symbol for k in closes} == set(PAIR))
    bars = book.closed("BTCUSDT")
    assert len(bars) == 30 and bars[-1].start == opened.start and bars[-1].confirm
    assert_contiguous(bars, MINUTE)
    closing = next(k for k in closes if k.symbol == "BTCUSDT")
    book.on_event(KlineUpdated(kline=closing, exchange_ts=0, received_ns=0))
    assert book.closed("BTCUSDT") == bars and len([k for k in closes if k.symbol == "BTCUSDT"]) == 1
    await runtime.writer.flush()
    assert (opened.start, 1) in db_rows(runtime, "BTCUSDT", "1")


async def test_stored_bars_stand_in_when_rest_history_fails(runtime: Runtime) -> None:
    first = CandleBook(runtime.client, runtime.writer, history=20)
    await first.prepare(["BTCUSDT"], "3", runtime.conn)
    await runtime.writer.flush()
    sim_of(runtime).faults.rest_errors.extend([10016] * 3)
    book = CandleBook(runtime.client, runtime.writer, history=200)
    await book.prepare(["BTCUSDT"], "3", runtime.conn)
    assert not sim_of(runtime).faults.rest_errors
    assert book.closed("BTCUSDT") == first.closed("BTCUSDT") and len(first.closed("BTCUSDT")) == 20
    assert book.live("BTCUSDT") is None and runtime.client.kline_topics == {"kline.3.BTCUSDT"}


async def test_history_merges_with_stored_bars_and_other_intervals_are_ignored(runtime: Runtime) -> None:
    first = CandleBook(runtime.client, runtime.writer, history=20)
    await first.prepare(["BTCUSDT"], "3", runtime.conn)
    oldest = first.closed("BTCUSDT")[0]
    ancient = Kline("BTCUSDT", "3", oldest.start - 3 * MINUTE, *(Decimal(1000),) * 4, confirm=True)
    runtime.writer.enqueue(UpsertCandle(ancient))
    await runtime.writer.flush()
    book = CandleBook(runtime.client, runtime.writer, history=21)
    await book.prepare(["BTCUSDT"], "3", runtime.conn)
    bars = book.closed("BTCUSDT")
    assert len(bars) == 21 and bars[1:] == first.closed("BTCUSDT")
    assert_contiguous(bars, 3 * MINUTE)
    assert bars[0].start == ancient.start and bars[0].close != ancient.close  # REST replaces what was stored
    stray = Kline("BTCUSDT", "1", bars[-1].start + 3 * MINUTE, *(Decimal(1),) * 4, confirm=True)
    book.on_event(KlineUpdated(kline=stray, exchange_ts=0, received_ns=0))
    book.on_event(
        KlineUpdated(
            kline=Kline("SOLUSDT", "3", stray.start, *(Decimal(1),) * 4, confirm=True), exchange_ts=0, received_ns=0
        )
    )
    assert book.closed("BTCUSDT") == bars and book.closed("SOLUSDT") == []


async def test_switching_interval_resets_the_book_and_the_streams(runtime: Runtime) -> None:
    book = CandleBook(runtime.client, None, history=10)
    await book.prepare(PAIR, "1")
    await book.prepare(["ETHUSDT"], "5")
    assert book.symbols == ["ETHUSDT"] and book.closed("BTCUSDT") == []
    assert {b.interval for b in book.closed("ETHUSDT")} == {"5"} and len(book.closed("ETHUSDT")) == 10
    assert_contiguous(book.closed("ETHUSDT"), 5 * MINUTE)
    assert runtime.client.kline_topics == {"kline.5.ETHUSDT"}


async def test_builtins_run_on_real_exchange_candles(runtime: Runtime) -> None:
    strategies = load_strategies(list(BUILTINS))
    symbols = sorted(runtime.engine.state.instruments)
    directions: set[Direction] = set()
    for interval in ("1", "60"):
        book = CandleBook(runtime.client, None, history=200)
        await book.prepare(symbols, interval)
        for symbol in symbols:
            inst = runtime.engine.state.instruments[symbol]
            bars = book.closed(symbol)
            assert len(bars) == 200
            for strategy in strategies:
                proposal = strategy.propose(symbol, bars, inst)
                directions.add(proposal.direction)
                assert proposal.entry == bars[-1].close and 0 <= proposal.confidence <= 1
                if proposal.direction is not Direction.HOLD:
                    assert (
                        proposal.rr is not None
                        and inst.price_ok(proposal.stop_loss)
                        and inst.price_ok(proposal.take_profit)
                    )
    assert directions & {Direction.LONG, Direction.SHORT}
