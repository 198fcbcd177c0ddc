"""How fast ticker deltas get into the core's state (receive->applied latency: bench.client_latency).

Frames recorded from the embedded exchange (N symbols, 100 ms steps) are pushed in one process on one
core through the real path: StreamConnection.handle_frame -> the client's public decoder (with each
symbol's price band, as BybitClient has them after loading instruments) -> Engine.feed -> the
engine's consumer task -> AccountState (a few open positions, so marks are recomputed). Baseline, from
the same run: bare orjson.loads + dict merge of the same frames (the raw ceiling); decode_public alone
sits in between.

    python -m bench.client_ingest --symbols 100 --steps 200 --repeat 5

Target from the issue: >= 40k deltas/s on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import orjson
import websockets

from tui_bot.core.engine import Engine, EngineOptions
from tui_bot.domain.enums import Side
from tui_bot.domain.events import Event
from tui_bot.domain.metrics import ConnectionStats, RestStats
from tui_bot.domain.models import Instrument, Position, Wallet
from tui_bot.domain.numbers import ZERO
from tui_bot.exchange.bybit.parse import Decoded, PriceBand, PublicDecoder
from tui_bot.exchange.bybit.ws import StreamConnection

INGEST_TARGET = 40_000
CHUNK = 64


def symbols(count: int) -> list[str]:
    """The three majors, then synthetic SIMnnnUSDT symbols."""
    majors = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    return (majors + [f"SIM{i:03d}USDT" for i in range(count)])[:count]


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- recorded frames ------------------------------------------------------------------------------


async def record_frames(names: list[str], steps: int, step_seconds: float = 0.1, seed: int = 7) -> list[str]:
    """Ticker frames exactly as a SimExchange sends them: one snapshot per topic, then `steps` steps of deltas."""
    from tui_bot.sim.server import SimExchange

    sim = SimExchange(symbols=names, step_seconds=step_seconds, autostep=False, seed=seed)
    urls = await sim.start()
    frames: list[str] = []
    try:
        async with websockets.connect(urls.public_ws, max_size=None, max_queue=None) as ws:
            topics = [f"tickers.{s}" for s in names]
            for start in range(0, len(topics), 10):
                await ws.send(
                    orjson.dumps(
                        {"op": "subscribe", "req_id": f"r{start}", "args": topics[start : start + 10]}
                    ).decode()
                )

            async def read() -> None:
                async for raw in ws:
                    if '"topic"' in raw[:20]:
                        frames.append(raw)

            reader = asyncio.create_task(read())
            while len(frames) < len(topics):
                await asyncio.sleep(0.01)
            await sim.step(steps)
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


# -- a minimal exchange client for the in-process ingest -------------------------------------------


class StandInClient:
    """Just enough of ExchangeClient for Engine.start(): instruments, a small account, no sockets of its own."""

    label = "BENCH"
    live_money = False
    private_live = True
    trade_ready = False

    def __init__(self, instruments: list[Instrument], positions: list[Position]) -> None:
        self.instruments = instruments
        self.positions = positions

    async def start(self, sink: Callable[[list[Event]], None]) -> None:
        self.sink = sink

    async def stop(self) -> None:
        return None

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def clock_offset_ms(self) -> int:
        return 0

    def connection_stats(self) -> dict[str, ConnectionStats]:
        return {}

    def rest_stats(self) -> RestStats:
        return RestStats()

    async def set_ticker_symbols(self, symbols: set[str]) -> None:
        return None

    async def fetch_instruments(self) -> list[Instrument]:
        return self.instruments

    async def fetch_positions(self) -> list[Position]:
        return self.positions

    async def fetch_open_orders(self) -> list[object]:
        return []

    async def fetch_wallet(self) -> Wallet:
        balance = Decimal(10_000)
        return Wallet(balance, balance, balance, balance, ZERO, ZERO, ZERO)

    async def fetch_executions(self, since_ms: int) -> list[object]:
        return []

    async def fetch_order_history(self, since_ms: int) -> list[object]:
        return []


def public_decoder(names: list[str]) -> Callable[[str | bytes, int], Decoded]:
    """The decoder BybitClient gives its public shards: ticker prices checked against each symbol's price filter."""
    from tui_bot.sim.instruments import market_specs

    bands = {
        s: PriceBand(spec.instrument.min_price, spec.instrument.max_price) for s, spec in market_specs(names).items()
    }
    return PublicDecoder(bands).decode


def stand_in_engine(names: list[str], open_positions: int, *, client: type[StandInClient] = StandInClient) -> Engine:
    """An Engine over a stand-in client, with a long position in the first open_positions symbols."""
    from tui_bot.sim.instruments import market_specs

    specs = market_specs(names)
    positions = [
        Position(s, Side.BUY, specs[s].instrument.min_qty * 10, specs[s].start_price, updated_time=1, seq=1)
        for s in names[:open_positions]
    ]
    stand_in = client([spec.instrument for spec in specs.values()], positions)
    return Engine(stand_in, EngineOptions(supervise_every_s=1.0, reconcile_interval_s=3600))  # type: ignore[arg-type]


# -- part 1: max ingest ----------------------------------------------------------------------------


def ceiling_pass(frames: list[str]) -> float:
    """Seconds for bare orjson.loads + merging each delta into a per-topic dict (the raw ceiling)."""
    loads = orjson.loads
    book: dict[str, dict[str, object]] = {}
    start = time.perf_counter()
    for frame in frames:
        msg = loads(frame)
        topic, data = msg["topic"], msg["data"]
        current = book.get(topic)
        if current is None or msg["type"] == "snapshot":
            book[topic] = dict(data)
        else:
            current.update(data)
    return time.perf_counter() - start


def decode_pass(decode: Callable[[str | bytes, int], Decoded], frames: list[str]) -> float:
    """Seconds for the public decoder alone, stamped as ws.py stamps frames."""
    now = time.time_ns
    start = time.perf_counter()
    for frame in frames:
        decode(frame, now())
    return time.perf_counter() - start


async def ingest_pass(conn: StreamConnection, engine: Engine, frames: list[str]) -> float:
    """Seconds from the first frame handed to the connection until the engine has applied the last one.

    Frames go in bursts of CHUNK, as a socket read delivers them; the consumer runs between bursts.
    """
    handle, now = conn.handle_frame, time.time_ns
    start = time.perf_counter()
    for first in range(0, len(frames), CHUNK):
        for frame in frames[first : first + CHUNK]:
            handle(frame, now())
        await asyncio.sleep(0)
    await engine.drain()
    return time.perf_counter() - start


@dataclass
class IngestFigures:
    frames: int
    ceiling: float
    decode: float
    ingest: float
    ingest_bus: float
    applied: int


async def measure_ingest(frames: list[str], names: list[str], repeat: int, open_positions: int) -> IngestFigures:
    """Best-of-repeat rates of the ceiling, the decoder and the full ingest path (with and without a bus subscriber)."""
    engine = stand_in_engine(names, open_positions)
    await engine.start()
    decode = public_decoder(names)
    conn = StreamConnection("public-1", "ws://127.0.0.1:9/v5/public/linear", decode=decode, on_events=engine.feed)
    engine_sub = stand_in_engine(names, open_positions)
    await engine_sub.start()
    subscription = engine_sub.bus.subscribe()
    conn_sub = StreamConnection(
        "public-1", "ws://127.0.0.1:9/v5/public/linear", decode=decode, on_events=engine_sub.feed
    )
    best = [float("inf")] * 4
    applied_before = engine.health.applied_rate.total
    try:
        for _ in range(repeat):
            times = (
                ceiling_pass(frames),
                decode_pass(decode, frames),
                await ingest_pass(conn, engine, frames),
                await ingest_pass(conn_sub, engine_sub, frames),
            )
            await subscription.next_batch()
            best = [min(old, new) for old, new in zip(best, times, strict=True)]
    finally:
        await engine.stop()
        await engine_sub.stop()
    applied = (engine.health.applied_rate.total - applied_before) // repeat
    ceiling, decode, ingest, ingest_bus = (len(frames) / seconds for seconds in best)
    return IngestFigures(len(frames), ceiling, decode, ingest, ingest_bus, applied)


# -- part 2: receive->applied at a paced rate over sockets ---------------------------------------------


# -- report -------------------------------------------------------------------------------------------


def print_ingest(fig: IngestFigures, names: int, positions: int) -> bool:
    print(
        f"ingest: {fig.frames:,} ticker frames recorded from the embedded exchange ({names} symbols, 100 ms steps, "
        f"{names} snapshots + deltas), {positions} open positions; best of interleaved passes, one core"
    )
    print(f"  {'path':58}{'frames/s':>11}{'us/frame':>10}{'of ceiling':>12}")
    rows = (
        ("raw ceiling: orjson.loads + dict merge", fig.ceiling),
        ("decode_public only", fig.decode),
        ("handle_frame -> decode -> Engine.feed -> consumer -> state", fig.ingest),
        ("  the same + one bus subscriber (as the console has)", fig.ingest_bus),
    )
    for name, rate in rows:
        print(f"  {name:58}{rate:>11,.0f}{1e6 / rate:>10.2f}{rate / fig.ceiling:>11.0%}")
    ok = fig.ingest >= INGEST_TARGET
    print(f"  events applied per pass: {fig.applied:,} (frames {fig.frames:,})")
    print(f"  target >= {INGEST_TARGET:,} deltas/s on one core: {'met' if ok else 'NOT met'} ({fig.ingest:,.0f}/s)")
    return ok


async def run(args: argparse.Namespace) -> None:
    names = symbols(args.symbols)
    frames = await record_frames(names, args.steps)
    figures = await measure_ingest(frames, names, args.repeat, args.positions)
    print_ingest(figures, len(names), args.positions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100, help="symbols in the recorded ingest feed")
    parser.add_argument("--steps", type=int, default=200, help="market steps recorded (frames ~ symbols x steps)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved passes; the best of each is shown")
    parser.add_argument("--positions", type=int, default=3, help="open positions re-marked by the tickers")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    gc.collect()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
