"""Store write throughput: fills/s and candle rows/s through the StoreWriter into SQLite and PostgreSQL, one run.

Each backend gets a fresh database; fills go in as RecordExecution ops (insert-or-ignore, then the trade
ledger's upserts), candles as UpsertCandle ops (symbols x intervals x bars, then the same bars again as
updates). Baseline from the same run: the same fills inserted with raw aiosqlite (INSERT OR IGNORE, one
transaction per 500, no ledger), the ceiling the old hand-written store approached.

    python -m bench.store --fills 5000 --symbols 200 --bars 10
    python -m bench.store --pg postgresql://user@host:5432/db   # else a throwaway server when PostgreSQL is installed
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiosqlite

from tests.pg_server import PgServer, postgres_bindir
from tests.store.factories import fill
from tests.store.legacy_schema import create_legacy_database
from tui_bot.domain.enums import Side
from tui_bot.domain.models import Execution, Kline
from tui_bot.store.codec import EXECUTION_CODEC, encode
from tui_bot.store.db import open_database
from tui_bot.store.ops import RecordExecution, UpsertCandle, WriteOp
from tui_bot.store.writer import StoreWriter

INTERVALS = ("1", "15")


def fills(count: int) -> list[Execution]:
    """Round trips in 20 symbols: buy, buy, sell, sell."""
    sides = (Side.BUY, Side.BUY, Side.SELL, Side.SELL)
    return [
        fill(f"e{i}", sides[i // 20 % 4], "0.5", str(100 + i % 13), fee="0.01", symbol=f"S{i % 20}USDT", exec_time=i)
        for i in range(count)
    ]


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
def _postgresql(given: str | None) -> Iterator[tuple[str, str] | None]:
    """URLs of two fresh PostgreSQL databases: under given (created by the caller), or on a throwaway server."""
    if given:
        yield given, given
        return
    bindir = postgres_bindir()
    if bindir is None:
        yield None
        return
    server = PgServer(bindir)
    try:
        server.init()
        server.start()
        yield server.socket_url(server.create_database()), server.socket_url(server.create_database())
        server.stop("immediate")
    finally:
        server.remove()


async def main(args: argparse.Namespace) -> None:
    executions = fills(args.fills)
    fill_ops: list[WriteOp] = [RecordExecution(e) for e in executions]
    first = [UpsertCandle(k) for k in candles(args.symbols, args.bars, "101")]
    candle_ops: list[WriteOp] = [*first, *(UpsertCandle(k) for k in candles(args.symbols, args.bars, "102"))]
    with tempfile.TemporaryDirectory() as tmp, _postgresql(args.pg) as pg:
        folder = Path(tmp)
        raw = await _raw_sqlite(folder / "raw.db", executions)
        print(f"raw aiosqlite INSERT OR IGNORE (no ledger): {len(executions) / raw:10,.0f} fills/s")
        targets = [("sqlite", f"sqlite:///{folder / 'f.db'}", f"sqlite:///{folder / 'c.db'}")]
        if pg is not None:
            targets.append(("postgresql", *pg))
        for name, fills_url, candles_url in targets:
            fill_s = await _write(fills_url, fill_ops)
            candle_s = await _write(candles_url, candle_ops)
            print(
                f"{name:10} StoreWriter: {len(fill_ops) / fill_s:10,.0f} fills/s"
                f"   {len(candle_ops) / candle_s:10,.0f} candle rows/s (insert, then update)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=5000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--bars", type=int, default=10)
    parser.add_argument("--pg", help="a PostgreSQL URL to an empty database (default: a throwaway server)")
    asyncio.run(main(parser.parse_args()))
