"""Closed and live candles of the tracked symbols at one interval: stored, REST history, then the kline stream.

A bar that arrives more than one interval after the newest closed bar (bars closed while the stream was away, as
across a reconnect) has the missing bars fetched from REST (GET /v5/market/kline) at once, so a series keeps one
bar per interval (`missing_starts` is the check).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from tui_bot.core.tasks import FAILURE_PAUSE_S
from tui_bot.domain.events import Event, KlineUpdated
from tui_bot.domain.models import Kline
from tui_bot.exchange.client import ExchangeClient
from tui_bot.store.db import Database
from tui_bot.store.ops import UpsertCandle
from tui_bot.store.repos import load_candles
from tui_bot.store.writer import StoreWriter

log = logging.getLogger(__name__)
MAX_REST_KLINES = 1000
_INTERVAL_MS = {"D": 86_400_000}


def interval_ms(timeframe: str) -> int:
    """Length of one bar of a Bybit interval ("1".."720" minutes, or "D") in ms."""
    return _INTERVAL_MS.get(timeframe) or int(timeframe) * 60_000


def missing_starts(starts: Sequence[int], step: int) -> list[int]:
    """The bar starts absent between the first and the last of these ascending starts (none: every consecutive
    pair is exactly one step apart)."""
    return [gap for a, b in zip(starts, starts[1:], strict=False) for gap in range(a + step, b, step)]


class CandleSeries:
    """Closed bars of one symbol (oldest first, unique starts, at most `limit`) and its live bar."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bars: list[Kline] = []
        self.starts: list[int] = []
        self.live: Kline | None = None
        self.edits = 0
        """Changes other than a new newest bar (a bar inserted before it, or one replaced by a different one)."""

    def add_closed(self, bar: Kline) -> bool:
        """Insert or replace the closed bar at bar.start; True when its start was new."""
        at = bisect.bisect_left(self.starts, bar.start)
        if at < len(self.starts) and self.starts[at] == bar.start:
            if self.bars[at] != bar:
                self.edits += 1
                self.bars[at] = bar
            return False
        if at < len(self.starts):
            self.edits += 1
        self.bars.insert(at, bar)
        self.starts.insert(at, bar.start)
        self.resize(self.limit)
        if self.live is not None and self.live.start <= bar.start:
            self.live = None
        return True

    def resize(self, limit: int) -> None:
        """Keep at most limit closed bars (the newest)."""
        self.limit = max(limit, 1)
        if len(self.bars) > self.limit:
            del self.bars[: -self.limit], self.starts[: -self.limit]

    def set_live(self, bar: Kline) -> None:
        """Take bar as the open bar unless an older one or a bar already closed."""
        if self.starts and bar.start <= self.starts[-1]:
            return
        if self.live is None or bar.start >= self.live.start:
            self.live = bar


class CandleBook:
    """Keeps closed candles per symbol for the strategies, fed by stored rows, REST history and the kline stream.

    `on_event` is an Engine listener (synchronous); confirmed bars are persisted once each through the writer.
    """

    def __init__(
        self, client: ExchangeClient, writer: StoreWriter | None, *, history: int = 200, stream_owner: str = "candles"
    ) -> None:
        self.client = client
        self.writer = writer
        self.history = history
        self.stream_owner = stream_owner  # whose kline topics these are: another book's stay subscribed
        self.listeners: list[Callable[[Kline], None]] = []
        self._interval = ""
        self._series: dict[str, CandleSeries] = {}
        self._preparing = False
        self._gaps: dict[str, int] = {}  # symbol -> bars to ask REST for
        self._filling: set[str] = set()
        self._filler: asyncio.Task[None] | None = None

    @property
    def interval(self) -> str:
        """The tracked interval ("" until prepared)."""
        return self._interval

    @property
    def symbols(self) -> list[str]:
        return list(self._series)

    def closed(self, symbol: str) -> list[Kline]:
        """Closed bars of symbol, oldest first (empty when not tracked)."""
        series = self._series.get(symbol)
        return list(series.bars) if series is not None else []

    def series(self, symbol: str) -> CandleSeries | None:
        """The closed bars of symbol as held (not a copy; None when not tracked)."""
        return self._series.get(symbol)

    def live(self, symbol: str) -> Kline | None:
        """The still-open bar of symbol, if known."""
        series = self._series.get(symbol)
        return series.live if series is not None else None

    async def prepare(self, symbols: list[str], interval: str, conn: Database | None = None) -> None:
        """Track exactly these symbols at interval: stored bars, live klines subscribed, then REST history.

        The stream is subscribed before REST is read so that no bar closing in between is missed; REST asks for
        history + 1 bars because its newest one is still open.
        """
        if interval != self._interval:
            self._series = {}
        self._interval = interval
        self._series = {s: self._series.get(s) or CandleSeries(self.history) for s in symbols}
        for series in self._series.values():
            series.resize(self.history)
        if conn is not None:
            for symbol in symbols:
                self._merge_stored(symbol, await load_candles(conn, symbol, interval, self.history))
        self._preparing = True  # a gap seen meanwhile is filled by the history read below
        try:
            await self.client.set_kline_streams(set(symbols), interval, owner=self.stream_owner)
            await self._fetch({s: min(self.history + 1, MAX_REST_KLINES) for s in symbols})
        finally:
            self._preparing = False

    async def _fetch(self, wants: dict[str, int]) -> int:
        """Read the newest `wants[symbol]` bars of each symbol from REST and merge them; how many failed (logged)."""
        interval = self._interval
        fetched = await asyncio.gather(
            *(self.client.fetch_klines(s, interval, limit) for s, limit in wants.items()), return_exceptions=True
        )
        failed = 0
        for symbol, result in zip(wants, fetched, strict=True):
            if isinstance(result, BaseException):
                failed += 1
                log.warning("kline history of %s %s failed: %s", symbol, interval, result)
            elif interval == self._interval and symbol in self._series:
                self._merge_rest(symbol, result)
        return failed

    def _check_gap(self, series: CandleSeries, bar: Kline) -> None:
        """Have the bars between the newest closed one and bar (when any are missing) fetched from REST."""
        if not series.starts or self._preparing or bar.symbol in self._filling:
            return
        behind = (bar.start - series.starts[-1]) // interval_ms(self._interval) - 1
        if behind <= 0:
            return
        wanted = min(behind + 2, series.limit + 1, MAX_REST_KLINES)  # the missing bars, bar itself and the open one
        self._gaps[bar.symbol] = max(self._gaps.get(bar.symbol, 0), wanted)
        if self._filler is None or self._filler.done():
            self._filler = asyncio.get_running_loop().create_task(self._fill_gaps())

    async def _fill_gaps(self) -> None:
        """Fetch the bars of every symbol found behind, until none is."""
        while self._gaps:
            wants, self._gaps = self._gaps, {}
            log.info("%d %s kline series behind the stream: filled from REST", len(wants), self._interval)
            self._filling = set(wants)  # their frames meanwhile would only ask for the same bars again
            try:
                failed = await self._fetch(wants)
            finally:
                self._filling = set()
            if failed:
                await asyncio.sleep(FAILURE_PAUSE_S)  # the next frame of a series still behind asks again

    async def stop(self) -> None:
        """Stop filling gaps (the book stays readable)."""
        if self._filler is not None:
            self._filler.cancel()
            await asyncio.gather(self._filler, return_exceptions=True)

    def _merge_stored(self, symbol: str, bars: Iterable[Kline]) -> None:
        series = self._series[symbol]
        for bar in bars:
            if bar.confirm:
                series.add_closed(bar)

    def _merge_rest(self, symbol: str, bars: list[Kline]) -> None:
        """REST bars oldest first: all but the newest are closed; the newest is the still-open bar."""
        series = self._series[symbol]
        for bar in bars[:-1]:
            closed = bar if bar.confirm else replace(bar, confirm=True)
            series.add_closed(closed)
            self._store(closed)
        if bars:
            newest = bars[-1]
            if newest.confirm:
                series.add_closed(newest)
            else:
                series.set_live(newest)
            self._store(newest)

    def on_event(self, event: Event) -> None:
        """Engine listener: replace the live bar; append (and persist) each confirmed bar once."""
        if not isinstance(event, KlineUpdated):
            return
        bar = event.kline
        series = self._series.get(bar.symbol)
        if series is None or bar.interval != self._interval:
            return
        self._check_gap(series, bar)
        if not bar.confirm:
            series.set_live(bar)
            return
        if series.add_closed(bar):
            self._store(bar)
            for listener in self.listeners:
                listener(bar)

    def _store(self, bar: Kline) -> None:
        if self.writer is not None:
            self.writer.enqueue(UpsertCandle(bar))
