"""Store write throughput: fills/s and candle rows/s through the StoreWriter into SQLite and PostgreSQL, one run;
and the stats query time over 100k fills on both.

Each backend gets a fresh database; fills go in as RecordExecution ops (insert-or-ignore, then the trade
ledger's upserts), candles as UpsertCandle ops (symbols x intervals x bars, then the same bars again as
updates). Baseline from the same run: the same fills inserted with raw aiosqlite (INSERT OR IGNORE, one
transaction per 500, no ledger), the ceiling the old hand-written store approached. The stats figures: a
third database per backend gets --stats-fills fills of three bots through the writer, then the README's
PnL-by-close-reason SQL and `tui-bot stats`'s read (trades_pnl rows summed in Decimal) are timed, best of 5.

    python -m bench.store --fills 5000 --symbols 200 --bars 10 --stats-fills 100000
    python -m bench.store --pg postgresql://user@host:5432/db   # else a throwaway server when PostgreSQL is installed
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import aiosqlite

from tests.pg_server import PgServer, postgres_bindir
from tests.store.factories import fill
from tests.store.legacy_schema import create_legacy_database
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution, Kline
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.stats_report import outcome_of, stats_rows
from tui_bot.store.codec import EXECUTION_CODEC, encode
from tui_bot.store.db import Database, open_database
from tui_bot.store.ops import RecordExecution, UpsertCandle, WriteOp
from tui_bot.store.repos import count
from tui_bot.store.stats_queries import closed_trade_pnls, pnl_by_close_reason
from tui_bot.store.writer import StoreWriter

INTERVALS = ("1", "15")


def fills(count: int) -> list[Execution]:
    """Round trips in 20 symbols: buy, buy, sell, sell; each round trip one of three bots', closed by one of three
    reasons."""
    sides = (Side.BUY, Side.BUY, Side.SELL, Side.SELL)
    bots = [OrderIdFactory(f"bot{n}") for n in range(3)]
    exits = (OrderReason.TAKE_PROFIT, OrderReason.STOP_LOSS, OrderReason.MANUAL_EXIT)
    made = []
    for i in range(count):
        side, trip = sides[i // 20 % 4], i // 80
        reason = OrderReason.ENTRY if side is Side.BUY else exits[trip // 3 % 3]
        link = bots[trip % 3].new(reason, i)
        price = str(100 + i % 13)
        made.append(
            fill(f"e{i}", side, "0.5", price, fee="0.01", symbol=f"S{i % 20}USDT", exec_time=i, order_link_id=link)
        )
    return made


def candles(symbols: int, bars: int, close: str) -> list[Kline]:
    """Every symbol's bars in every interval."""
    d = Decimal
    return [
        Kline(f"S{s}USDT", interval, b * 60_000, d(100), d(110), d(90), d(close), d(5), d(500), True)
        for s in range(symbols)
        for interval in INTERVALS
        for b in range(bars)
    ]


async def _write(url: str, ops: list[WriteOp]) -> float:
    """Seconds the writer takes to commit ops into url."""
    db = await open_database(url)
    writer = StoreWriter(db, flush_interval=0)
    writer.start()
    await writer.flush()
    started = time.perf_counter()
    for op in ops:
        writer.enqueue(op)
    await writer.flush()
    elapsed = time.perf_counter() - started
    await writer.stop()
    await db.close()
    assert writer.errors == 0
    return elapsed


async def _best_of(runs: int, query: Callable[[], Awaitable[object]]) -> float:
    """The fastest of runs calls of query, in seconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        await query()
        best = min(best, time.perf_counter() - started)
    return best


async def _stats_times(url: str, ops: list[WriteOp]) -> tuple[int, float, float]:
    """Closed trades, and the seconds of the README's SQL and of `tui-bot stats`'s read and sums, over ops' fills."""
    await _write(url, ops)
    db: Database = await open_database(url)
    try:
        trades = await count(db, "trades")
        sql = await _best_of(5, lambda: pnl_by_close_reason(db))

        async def report() -> object:
            return stats_rows([outcome_of(t) for t in await closed_trade_pnls(db)])

        return trades, sql, await _best_of(5, report)
    finally:
        await db.close()


async def _raw_sqlite(path: Path, executions: list[Execution]) -> float:
    """Seconds raw aiosqlite takes to INSERT OR IGNORE the fills, 500 per transaction."""
    create_legacy_database(path).close()
    columns = EXECUTION_CODEC.columns
    sql = f"INSERT OR IGNORE INTO executions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    rows = [[encode(v) if not isinstance(v, Decimal | bool) else (str(v) if isinstance(v, Decimal) else int(v))
             for v in EXECUTION_CODEC.params(e).values()] for e in executions]  # fmt: skip
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        started = time.perf_counter()
        for at in range(0, len(rows), 500):
            await conn.execute("BEGIN IMMEDIATE")
            for row in rows[at : at + 500]:
                await conn.execute(sql, row)
            await conn.execute("COMMIT")
        return time.perf_counter() - started


@contextlib.contextmanager
def _postgresql(given: str | None) -> Iterator[tuple[str, str, str] | None]:
    """URLs of three fresh PostgreSQL databases: given thrice (created by the caller), or on a throwaway server."""
    if given:
        yield given, given, given
        return
    bindir = postgres_bindir()
    if bindir is None:
        yield None
        return
    server = PgServer(bindir)
    try:
        server.init()
        server.start()
        fills_db, candles_db, stats_db = (server.socket_url(server.create_database()) for _ in range(3))
        yield fills_db, candles_db, stats_db
        server.stop("immediate")
    finally:
        server.remove()


async def main(args: argparse.Namespace) -> None:
    executions = fills(args.fills)
    fill_ops: list[WriteOp] = [RecordExecution(e) for e in executions]
    first = [UpsertCandle(k) for k in candles(args.symbols, args.bars, "101")]
    candle_ops: list[WriteOp] = [*first, *(UpsertCandle(k) for k in candles(args.symbols, args.bars, "102"))]
    stats_ops: list[WriteOp] = [RecordExecution(e) for e in fills(args.stats_fills)]
    with tempfile.TemporaryDirectory() as tmp, _postgresql(args.pg) as pg:
        folder = Path(tmp)
        raw = await _raw_sqlite(folder / "raw.db", executions)
        print(f"raw aiosqlite INSERT OR IGNORE (no ledger): {len(executions) / raw:10,.0f} fills/s")
        targets = [
            ("sqlite", f"sqlite:///{folder / 'f.db'}", f"sqlite:///{folder / 'c.db'}", f"sqlite:///{folder / 's.db'}")
        ]
        if pg is not None:
            targets.append(("postgresql", *pg))
        for name, fills_url, candles_url, _ in targets:
            fill_s = await _write(fills_url, fill_ops)
            candle_s = await _write(candles_url, candle_ops)
            print(
                f"{name:10} StoreWriter: {len(fill_ops) / fill_s:10,.0f} fills/s"
                f"   {len(candle_ops) / candle_s:10,.0f} candle rows/s (insert, then update)"
            )
        for name, _, _, stats_url in targets:
            trades, sql_s, report_s = await _stats_times(stats_url, stats_ops)
            print(
                f"{name:10} stats over {len(stats_ops):,} fills ({trades:,} trades): README SQL {sql_s * 1000:8.1f} ms"
                f"   tui-bot stats read + Decimal sums {report_s * 1000:8.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=5000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--bars", type=int, default=10)
    parser.add_argument("--stats-fills", type=int, default=100_000, help="fills under the stats query (default 100k)")
    parser.add_argument("--pg", help="a PostgreSQL URL to an empty database (default: a throwaway server)")
    asyncio.run(main(parser.parse_args()))
