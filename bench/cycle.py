"""Analysis-cycle latency after a bar boundary with warm candles: incremental indicators beside recomputing them.

For each watchlist size, every symbol holds `--history` closed bars on each of two timeframes (15m and 3m, a
seeded random walk per symbol). The timed part is what the bar boundary costs: the closed bar of every symbol and
timeframe arrives as a confirmed kline event at the candle books (where the incremental path feeds its
indicators), then the cycle's analysis runs the three rule strategies over every symbol on both timeframes
(`CycleAnalysis.propose`, the same call a cycle makes) and the gates decide. The same run times both paths:

  recompute    strategies get a copy of the bars and recompute EMA/RSI/ATR over the whole history (as before)
  incremental  strategies read talipp indicators kept per (symbol, timeframe) and fed one bar at a time

    python -m bench.cycle [--sizes 50 200 400] [--boundaries 5] [--history 200]

It also times the feature extraction recorded with each idea (`core/features.py`, once per symbol and timeframe
with an idea; inside the cycle figures too): microseconds per symbol, warm, on each path.

Klines come from an in-memory history (no sockets): the figures (wall and process CPU time, median of the
boundaries) are the core's work from the bars' arrival to the decisions, the part that grows with the watchlist;
the stream's delivery, the cycle's wait for late bars, and recording the ideas (store rows, phantoms) are not in
them. Target (issue 14): <= 1 s at 200 symbols x 2 timeframes.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from decimal import Decimal
from typing import cast

from tui_bot.core.candles import CandleBook
from tui_bot.core.cycle import CycleAnalysis, decide, gate_book, interval_ms
from tui_bot.core.features import market_features
from tui_bot.core.state import AccountState
from tui_bot.domain.events import KlineUpdated
from tui_bot.domain.models import Instrument, Kline
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.exchange.client import ExchangeClient

TIMEFRAMES = ("15", "3")
START_MS = 1_784_712_600_000 - 1_784_712_600_000 % interval_ms("15")
TICK = Decimal("0.01")


def instrument(symbol: str) -> Instrument:
    return Instrument(
        symbol,
        symbol.removesuffix("USDT"),
        "USDT",
        tick_size=TICK,
        min_price=TICK,
        max_price=Decimal(1_000_000),
        qty_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal(1000),
        max_market_qty=Decimal(1000),
        min_notional=Decimal(5),
        price_scale=2,
    )


class Walks:
    """Seeded random-walk bars per (symbol, timeframe), generated on demand in start order."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._last: dict[tuple[str, str], tuple[int, float]] = {}
        self._rngs: dict[tuple[str, str], random.Random] = {}

    def next_bar(self, symbol: str, timeframe: str) -> Kline:
        key = (symbol, timeframe)
        if key not in self._rngs:
            self._rngs[key] = random.Random(f"{self.seed}-{symbol}-{timeframe}")
        rng = self._rngs[key]
        start, close = self._last.get(key, (START_MS - interval_ms(timeframe), 50 + rng.random() * 100))
        start += interval_ms(timeframe)
        moved = max(close * (1 + rng.gauss(0, 0.004)), 1.0)
        high = max(close, moved) * (1 + rng.random() * 0.002)
        low = min(close, moved) * (1 - rng.random() * 0.002)
        self._last[key] = (start, moved)
        o, h, lo, c = (Decimal(f"{v:.2f}") for v in (close, high, low, moved))
        return Kline(symbol, timeframe, start, o, h, lo, c, Decimal(1), Decimal(1), confirm=True)


class HistorySource:
    """The two calls a candle book makes of an exchange client, answered from the walks (history only)."""

    def __init__(self, walks: Walks) -> None:
        self.walks = walks

    async def set_kline_streams(self, symbols: set[str], interval: str, *, owner: str = "candles") -> None:
        return None

    async def fetch_klines(self, symbol: str, interval: str, limit: int) -> list[Kline]:
        return [self.walks.next_bar(symbol, interval) for _ in range(limit)]


async def analyses(symbols: list[str], history: int, incremental: bool, seed: int) -> tuple[Walks, list[CycleAnalysis]]:
    """One warm analysis per timeframe: `history` closed bars per symbol, one cycle run already."""
    walks = Walks(seed)
    client = cast(ExchangeClient, HistorySource(walks))
    built: list[CycleAnalysis] = []
    for timeframe in TIMEFRAMES:
        book = CandleBook(client, None, history=history, stream_owner=f"bench-{timeframe}")
        await book.prepare(symbols, timeframe)
        built.append(CycleAnalysis(book, symbols, incremental=incremental))
    return walks, built


async def one_boundary(walks: Walks, built: list[CycleAnalysis], state: AccountState) -> tuple[float, float, int]:
    """Deliver the next closed bar of every symbol and timeframe, analyse and decide; (wall s, CPU s, ideas)."""
    bars = [(analysis, walks.next_bar(s, analysis.candles.interval)) for analysis in built for s in analysis.watchlist]
    began, cpu = time.perf_counter(), time.process_time()
    for analysis, bar in bars:
        analysis.candles.on_event(KlineUpdated(kline=bar, exchange_ts=0, received_ns=0))
    ideas = 0
    for analysis in built:
        timeframe = analysis.candles.interval
        settings = TradingSettings(timeframe=timeframe)  # type: ignore[arg-type]
        now = max(b.start for a, b in bars if a is analysis) + interval_ms(timeframe)
        proposals = await analysis.propose(settings, state, now)
        decide(proposals, gate_book(state, settings, {}), "bench", now)
        ideas += len(proposals)
    return time.perf_counter() - began, time.process_time() - cpu, ideas


def feature_us(built: list[CycleAnalysis]) -> float:
    """CPU microseconds to extract the market features of one symbol at one timeframe (warm: a second pass)."""
    series = [analysis.bars(analysis.candles, s) for analysis in built for s in analysis.watchlist]
    for bars in series:
        market_features(bars)
    began = time.process_time()
    for bars in series:
        market_features(bars)
    return (time.process_time() - began) / len(series) * 1e6


async def measure(size: int, history: int, boundaries: int, incremental: bool) -> tuple[float, float, int, float]:
    """Median wall and CPU seconds of a boundary, the ideas of the last one, and feature extraction µs/symbol."""
    symbols = [f"S{i:03d}USDT" for i in range(size)]
    state = AccountState(instruments={s: instrument(s) for s in symbols})
    walks, built = await analyses(symbols, history, incremental, seed=size)
    await one_boundary(walks, built, state)  # the first cycle after start builds the indicator state
    walls: list[float] = []
    cpus: list[float] = []
    ideas = 0
    for _ in range(boundaries):
        wall, cpu, ideas = await one_boundary(walks, built, state)
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus), ideas, feature_us(built)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 400])
    parser.add_argument("--boundaries", type=int, default=5)
    parser.add_argument("--history", type=int, default=200)
    args = parser.parse_args(argv)
    print(
        f"{'symbols':>8} {'x tf':>4} {'recompute ms':>19} {'incremental ms':>19} {'speed-up':>9} {'ideas':>6}"
        f" {'features CPU us/sym':>20}"
    )
    print(f"{'':>13} {'wall / CPU':>19} {'wall / CPU':>19} {'(CPU)':>9} {'':>6} {'recompute / incr.':>20}")
    for size in args.sizes:
        slow_wall, slow_cpu, ideas_slow, slow_us = asyncio.run(
            measure(size, args.history, args.boundaries, incremental=False)
        )
        fast_wall, fast_cpu, ideas_fast, fast_us = asyncio.run(
            measure(size, args.history, args.boundaries, incremental=True)
        )
        same = "" if ideas_slow == ideas_fast else f"  (ideas differ: {ideas_slow} vs {ideas_fast})"
        slow = f"{slow_wall * 1000:.1f} / {slow_cpu * 1000:.1f}"
        fast = f"{fast_wall * 1000:.1f} / {fast_cpu * 1000:.1f}"
        features = f"{slow_us:.0f} / {fast_us:.0f}"
        print(
            f"{size:>8} {len(TIMEFRAMES):>4} {slow:>19} {fast:>19} {slow_cpu / fast_cpu:>8.1f}x {ideas_fast:>6}"
            f" {features:>20}{same}"
        )
    print("median of", args.boundaries, "boundaries each; bars in, analysis and gates out, one process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
