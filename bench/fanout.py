"""Exchange fill -> position visible to a reader in another process through Redis, beside a REST position read.

A child process runs the embedded exchange (no added latency: loopback), this process a LiveState reader, and
`tui-bot listen --redis` runs as another child on that exchange, publishing to a throwaway redis-server this script
starts. Times are CLOCK_MONOTONIC (perf_counter), one clock for every process on the host.
A round is one market order of bot b0 (open, then close, alternately); its latency runs from the exchange
emitting the fill to the reader applying the change that shows b0's position at its new size. After each round a
signed REST `position/list` is timed, the read a bot without the listener would make. Then 10 bots x 3 symbols
hold positions (marks move every exchange step) and the listener's CPU and Redis's ops/s are measured, and the
rounds are run again under that load.

    python -m bench.fanout --rounds 200 --load-s 10

Target from the issue: fill -> reader p99 <= 5 ms on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from bench.client_ingest import proc_cpu
from bench.order_rtt import stats
from tests.redis_server import RedisServer, redis_binary
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.exchange.bybit.signing import rest_signature
from tui_bot.live.connection import connect
from tui_bot.live.reader import LiveState
from tui_bot.sim.server import SimExchange

TARGET_P99_MS = 5.0
SYMBOL = "BTCUSDT"
ORDER_INTERVAL_S = 0.125
BOTS, PER_BOT = 10, 3
LOAD_SYMBOLS = [f"B{bot}S{n}USDT" for bot in range(BOTS) for n in range(PER_BOT)]


@dataclass(frozen=True)
class Venue:
    """What the child exchange tells: its URLs and key, and each load symbol's price and qty step."""

    rest: str
    public_ws: str
    private_ws: str
    trade_ws: str
    key: str
    secret: str
    markets: dict[str, tuple[Decimal, Decimal]]


def run_sim(ready: mp.Queue, stamps: mp.Queue) -> None:
    """Child process: the embedded exchange (no added latency); puts when it emits each fill on stamps."""

    async def main() -> None:
        sim = SimExchange(symbols=[SYMBOL, *LOAD_SYMBOLS], balance=Decimal(10_000_000), latency_ms=0, idle_timeout=3600)
        urls = await sim.start()
        emit = sim.engine.emit_executions

        def timed_emit(account: Any, execs: list[Any]) -> None:
            stamps.put(time.perf_counter_ns())  # CLOCK_MONOTONIC: the same clock in every process on the host
            emit(account, execs)

        sim.engine.emit_executions = timed_emit  # type: ignore[method-assign]
        engine = sim.engine
        markets = {s: (engine.markets[s].last_price, engine.instruments[s].qty_step) for s in LOAD_SYMBOLS}
        ready.put(
            Venue(urls.rest, urls.public_ws, urls.private_ws, urls.trade_ws, sim.api_key, sim.api_secret, markets)
        )
        await asyncio.Event().wait()

    asyncio.run(main())


class Rest:
    """Signed REST calls on the embedded exchange (real HMAC over loopback)."""

    def __init__(self, venue: Venue) -> None:
        self.base, self.key, self.secret = venue.rest, venue.key, venue.secret
        self.session = aiohttp.ClientSession()
        self._next_order = 0.0

    def _headers(self, payload: str) -> dict[str, str]:
        ts = str(int(time.time() * 1000))
        sign = rest_signature(self.secret, ts, self.key, "5000", payload)
        return {"X-BAPI-API-KEY": self.key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000", "X-BAPI-SIGN": sign}

    async def order(self, bot: str, symbol: str, side: str, qty: Decimal) -> None:
        """A market order as bot, paced under the exchange's 10 order creates/s per key."""
        await asyncio.sleep(max(0.0, self._next_order - time.monotonic()))
        self._next_order = time.monotonic() + ORDER_INTERVAL_S
        body = {"category": "linear", "symbol": symbol, "side": side, "orderType": "Market", "qty": str(qty)}
        body["orderLinkId"] = OrderIdFactory(bot).new(OrderReason.ENTRY)
        payload = json.dumps(body)
        async with self.session.post(f"{self.base}/v5/order/create", data=payload, headers=self._headers(payload)) as r:
            reply = await r.json()
        if reply["retCode"] != 0:
            raise RuntimeError(f"order refused: {reply}")

    async def position_list(self, symbol: str) -> float:
        """One signed position/list read; returns its round trip in ms."""
        query = f"category=linear&symbol={symbol}"
        started = time.perf_counter_ns()
        async with self.session.get(f"{self.base}/v5/position/list?{query}", headers=self._headers(query)) as r:
            await r.json()
        return (time.perf_counter_ns() - started) / 1e6


class FillClock:
    """When the exchange emitted each fill, and when the reader saw b0's position change (perf_counter ns)."""

    def __init__(self, stamps: mp.Queue, reader: LiveState) -> None:
        self.stamps = stamps
        self.want: Decimal | None = None
        self.seen = asyncio.Event()
        self.seen_ns = 0
        self._reader = reader
        reader.listeners.append(self._changed)

    def forget(self) -> None:
        """Drop the stamps of fills before the next round's."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.stamps.get_nowait()

    async def emitted_ns(self) -> int:
        return int(await asyncio.get_running_loop().run_in_executor(None, self.stamps.get, True, 10))

    def _changed(self, _touched: object) -> None:
        pos = self._reader.bot_positions("b0").get(SYMBOL)
        size = pos.size if pos is not None else Decimal(0)
        if self.want is not None and size == self.want and not self.seen.is_set():
            self.seen_ns = time.perf_counter_ns()
            self.seen.set()


async def rounds(rest: Rest, clock: FillClock, count: int) -> tuple[list[float], list[float]]:
    """count fills of b0 (open, close, ...): fill -> reader ms, and a REST position read's ms after each."""
    fanout, reads = [], []
    qty = Decimal("0.010")
    for index in range(count):
        clock.forget()
        clock.seen.clear()
        clock.want = qty if index % 2 == 0 else Decimal(0)
        await rest.order("b0", SYMBOL, "Buy" if index % 2 == 0 else "Sell", qty)
        await asyncio.wait_for(clock.seen.wait(), 10)
        fanout.append((clock.seen_ns - await clock.emitted_ns()) / 1e6)
        reads.append(await rest.position_list(SYMBOL))
    return fanout, reads


async def open_load(venue: Venue, rest: Rest, reader: LiveState) -> None:
    """Each of 10 bots opens a position in 3 symbols of its own (about 20 USDT each)."""
    for index, symbol in enumerate(LOAD_SYMBOLS):
        price, step = venue.markets[symbol]
        qty = max(step, (Decimal(20) / price // step) * step)
        await rest.order(f"b{index // PER_BOT}", symbol, "Buy", qty)
    deadline = time.monotonic() + 30
    while sum(len(held) for held in reader.positions().values()) < len(LOAD_SYMBOLS):
        if time.monotonic() > deadline:
            raise RuntimeError("the reader never showed the 30 positions")
        await asyncio.sleep(0.05)


async def measure_load(listener: subprocess.Popen[str], redis_url: str, seconds: float) -> tuple[float, float]:
    """The listener's CPU share and Redis's commands/s over seconds."""
    client = connect(redis_url, decode=True)
    try:
        before = (await client.info("stats"))["total_commands_processed"]
        cpu, started = proc_cpu(listener.pid), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        after = (await client.info("stats"))["total_commands_processed"]
        return (proc_cpu(listener.pid) - cpu) / elapsed, (after - before) / elapsed
    finally:
        await client.aclose()


def start_listener(venue: Venue, redis_url: str, folder: Path) -> subprocess.Popen[str]:
    """`tui-bot listen --redis` on the embedded exchange (venue custom, keys through the environment)."""
    (folder / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{venue.rest}"\npublic_ws_url = "{venue.public_ws}"\n'
        f'private_ws_url = "{venue.private_ws}"\ntrade_ws_url = "{venue.trade_ws}"\n'
        f'[listen]\nlog_file = "{folder / "listen.log"}"\nhealth_interval_s = 60\n[trading]\nrun_cycles = false\n'
    )
    env = {**os.environ, "BYBIT_API_KEY": venue.key, "BYBIT_API_SECRET": venue.secret}
    args = ["--config", str(folder / "listen.toml"), "--db", str(folder / "listen.db"), "listen", "--redis", redis_url]
    command = [sys.executable, "-m", "tui_bot.cli", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def show(label: str, fanout: list[float], reads: list[float]) -> float:
    """Print one table block; returns the fan-out p99."""
    print(f"{label}")
    print(f"  {'measure':32}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    p99 = 0.0
    for name, values in (("fill -> reader via Redis (ms)", fanout), ("REST position/list read (ms)", reads)):
        n, p50, p95, p99_, top = stats(values)
        p99 = p99_ if values is fanout else p99
        print(f"  {name:32}{n:>5}{p50:>8.2f}{p95:>8.2f}{p99_:>8.2f}{top:>8.2f}")
    return p99


async def main(args: argparse.Namespace) -> int:
    binary = redis_binary()
    if binary is None:
        print("redis-server not found", file=sys.stderr)
        return 1
    server = RedisServer(binary)
    server.start()
    ready: mp.Queue = mp.Queue()
    stamps: mp.Queue = mp.Queue()
    child = mp.Process(target=run_sim, args=(ready, stamps), daemon=True)
    child.start()
    venue: Venue = ready.get(timeout=60)
    rest = Rest(venue)
    reader = LiveState(server.url)
    folder = Path(tempfile.mkdtemp(prefix="tui-bot-fanout-"))
    listener = start_listener(venue, server.url, folder)
    try:
        await reader.start()
        clock = FillClock(stamps, reader)
        deadline = time.monotonic() + 60
        while not (reader.ready.is_set() and reader.listener_alive):
            if listener.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the listener did not come up: {listener.stderr.read() if listener.stderr else ''}")
            await asyncio.sleep(0.05)
        await rounds(rest, clock, 10)  # warm-up
        quiet = show("quiet (only b0's position):", *await rounds(rest, clock, args.rounds))
        await open_load(venue, rest, reader)
        cpu, ops = await measure_load(listener, server.url, args.load_s)
        print(f"10 bots x 3 symbols open, marks moving every 100 ms, over {args.load_s:.0f} s:")
        print(f"  listener CPU {cpu:.1%} of one core, Redis {ops:,.0f} commands/s (INFO stats)")
        loaded = show("under that load:", *await rounds(rest, clock, args.rounds))
        worst = max(quiet, loaded)
        print(f"target fill -> reader p99 <= {TARGET_P99_MS} ms: {'met' if worst <= TARGET_P99_MS else 'NOT met'}")
    finally:
        listener.terminate()
        listener.wait(15)
        await reader.close()
        await rest.session.close()
        child.terminate()
        child.join(5)
        server.remove()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="fills measured per phase")
    parser.add_argument("--load-s", type=float, default=10.0, help="seconds the 10 x 3 load is measured")
    sys.exit(asyncio.run(main(parser.parse_args())))
