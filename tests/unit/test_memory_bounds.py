"""What a 24/7 process keeps per message stays bounded: the ticker number memo."""

from __future__ import annotations

import gc
import tracemalloc
from decimal import Decimal

import orjson

from tui_bot.core.state import AccountState
from tui_bot.exchange.bybit.parse import decode_public
from tui_bot.exchange.bybit.parse_ticker import DECIMAL_CACHE_SIZE

MEMO_BOUND_BYTES = 1_200_000
"""DECIMAL_CACHE_SIZE's stated bound (about 1.1 MB), with a little room."""
PEAK_BOUND_BYTES = 1_500_000
"""The same while the memo is being filled (its table resizes), and the last update itself."""


def _read_prices(state: AccountState, start: int, count: int) -> None:
    """Stream count deltas with prices never seen before and read each one, as the bot's price sweep does."""
    for i in range(start, start + count):
        raw = orjson.dumps(
            {
                "topic": "tickers.BTCUSDT",
                "type": "delta",
                "ts": i,
                "data": {"symbol": "BTCUSDT", "lastPrice": f"{i / 10:.1f}", "bid1Size": f"{i}.25"},
            }
        )
        [event] = decode_public(raw, i)
        state.apply(event)
        ticker = state.tickers["BTCUSDT"]
        assert ticker.last_price == Decimal(i) / 10 and ticker.bid1_size == Decimal(f"{i}.25")


def test_the_ticker_number_memo_stays_under_its_stated_bound_however_many_prices_are_read() -> None:
    state = AccountState()
    _read_prices(state, 1_000_000, 10)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        _read_prices(state, 2_000_000, 30_000)
        gc.collect()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept - before < MEMO_BOUND_BYTES, f"{kept - before:,} bytes kept after reading 60,000 new numbers"
    assert peak - before < PEAK_BOUND_BYTES, f"{peak - before:,} bytes at the peak"


def test_a_number_read_again_after_the_memo_dropped_it_reads_the_same() -> None:
    state = AccountState()
    _read_prices(state, 3_000_000, 1)
    _read_prices(state, 4_000_000, 2 * DECIMAL_CACHE_SIZE)
    _read_prices(state, 3_000_000, 1)
