"""Exchange fill -> position visible to a reader in another process through Redis, beside a REST position read.

A child process runs the embedded exchange (no added latency: loopback), `tui-bot listen --redis` runs as another
child on that exchange, publishing to a throwaway redis-server this script starts, and a LiveState reader runs in a
third (bench/fanout_reader.py). Times are CLOCK_MONOTONIC (perf_counter), one clock for every process on the host.
A round is one market order of bot b0 (open, then close, alternately); its latency runs from the exchange
emitting the fill to the reader applying the change that shows b0's position at its new size, split at the change
message reaching the reader. After each round a signed REST `position/list` is timed, the read a bot without the
listener would make. Per fill it also counts the listener's, the reader's and Redis's CPU time and Redis's
commands (EXEC = one transaction). Then 10 bots x 3 symbols hold positions (marks move every exchange step), the
listener's CPU and Redis's ops/s are measured, and the rounds are run again under that load.

The same run first does all of it with the listener and reader of a baseline (`--baseline main`: that git ref's
tui_bot, exported to a temp dir), then with this checkout's, and prints them side by side.

    python -m bench.fanout --rounds 200 --load-s 10 [--baseline main]

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
from asyncio.subprocess import PIPE
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


class ReaderProcess:
    """bench/fanout_reader.py on a tree: when b0's position was seen at each size, position count, CPU time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: asyncio.Queue[tuple[int, int, Decimal]] = asyncio.Queue()
        self._answers: asyncio.Queue[str] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, tree: Path, redis_url: str) -> ReaderProcess:
        script = Path(__file__).with_name("fanout_reader.py")
        env = {**os.environ, "PYTHONPATH": str(tree)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), redis_url, stdin=PIPE, stdout=PIPE, env=env, cwd=tree
        )
        reader = cls(process)
        await asyncio.wait_for(reader._answers.get(), 60)  # "ready"
        return reader

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := (await self.process.stdout.readline()).decode().split():
            if line[0] == "seen":
                self.seen.put_nowait((int(line[1]), int(line[2]), Decimal(line[3])))
            else:
                self._answers.put_nowait(line[-1])

    async def ask(self, what: str) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{what}\n".encode())
        return int(await asyncio.wait_for(self._answers.get(), 10))

    async def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 10)
        if self.process.returncode is None:
            self.process.kill()
        self._task.cancel()


@dataclass
class Phase:
    """One phase's samples (ms) and its per-fill costs."""

    fanout: list[float]
    to_reader: list[float]
    in_reader: list[float]
    reads: list[float]
    costs: dict[str, float]


class Stack:
    """Exchange, Redis, listener and reader of one tree."""

    def __init__(self, tree: Path, server: RedisServer, venue: Venue, stamps: mp.Queue) -> None:
        self.tree, self.server, self.venue, self.stamps = tree, server, venue, stamps
        self.rest = Rest(venue)
        self.folder = Path(tempfile.mkdtemp(prefix="tui-bot-fanout-"))
        self.listener = start_listener(venue, server.url, self.folder, tree)
        self.redis = connect(server.url, decode=True)
        self.reader: ReaderProcess | None = None

    async def up(self) -> None:
        self.reader = await ReaderProcess.start(self.tree, self.server.url)

    def forget(self) -> None:
        """Drop the stamps of fills before the next round's."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.stamps.get_nowait()

    async def emitted_ns(self) -> int:
        return int(await asyncio.get_running_loop().run_in_executor(None, self.stamps.get, True, 10))

    async def seen(self, want: Decimal) -> tuple[int, int]:
        """When the reader got the message and showed b0 at size want."""
        assert self.reader is not None
        while True:
            recv_ns, shown_ns, size = await asyncio.wait_for(self.reader.seen.get(), 10)
            if size == want:
                return recv_ns, shown_ns

    async def counters(self) -> dict[str, float]:
        """CPU seconds of listener, reader and Redis; Redis commands, EXECs and PUBLISHes so far."""
        assert self.reader is not None
        counts, cpu, calls = (
            await self.redis.info("stats"),
            await self.redis.info("cpu"),
            await self.redis.info("commandstats"),
        )
        return {
            "listener CPU ms": proc_cpu(self.listener.pid) * 1e3,
            "reader CPU ms": await self.reader.ask("cpu") / 1e6,
            "Redis CPU ms": (cpu["used_cpu_sys"] + cpu["used_cpu_user"]) * 1e3,
            "Redis commands": counts["total_commands_processed"],
            "EXEC (round trips)": calls.get("cmdstat_exec", {}).get("calls", 0),
            "PUBLISH": calls.get("cmdstat_publish", {}).get("calls", 0),
        }

    async def rounds(self, count: int) -> Phase:
        """count fills of b0 (open, close, ...), each timed in stages, and a REST position read after each."""
        phase = Phase([], [], [], [], {})
        qty = Decimal("0.010")
        before = await self.counters()
        for index in range(count):
            self.forget()
            want = qty if index % 2 == 0 else Decimal(0)
            await self.rest.order("b0", SYMBOL, "Buy" if index % 2 == 0 else "Sell", qty)
            recv_ns, shown_ns = await self.seen(want)
            emitted = await self.emitted_ns()
            phase.fanout.append((shown_ns - emitted) / 1e6)
            phase.to_reader.append((recv_ns - emitted) / 1e6)
            phase.in_reader.append((shown_ns - recv_ns) / 1e6)
            phase.reads.append(await self.rest.position_list(SYMBOL))
        after = await self.counters()
        phase.costs = {name: (after[name] - before[name]) / count for name in after}
        return phase

    async def open_load(self) -> None:
        """Each of 10 bots opens a position in 3 symbols of its own (about 20 USDT each)."""
        assert self.reader is not None
        for index, symbol in enumerate(LOAD_SYMBOLS):
            price, step = self.venue.markets[symbol]
            qty = max(step, (Decimal(20) / price // step) * step)
            await self.rest.order(f"b{index // PER_BOT}", symbol, "Buy", qty)
        deadline = time.monotonic() + 30
        while await self.reader.ask("count") < len(LOAD_SYMBOLS):
            if time.monotonic() > deadline:
                raise RuntimeError("the reader never showed the 30 positions")
            await asyncio.sleep(0.05)

    async def measure_load(self, seconds: float) -> tuple[float, float]:
        """The listener's CPU share and Redis's commands/s over seconds."""
        before = (await self.redis.info("stats"))["total_commands_processed"]
        cpu, started = proc_cpu(self.listener.pid), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        after = (await self.redis.info("stats"))["total_commands_processed"]
        return (proc_cpu(self.listener.pid) - cpu) / elapsed, (after - before) / elapsed

    async def close(self) -> None:
        self.listener.terminate()
        self.listener.wait(15)
        if self.reader is not None:
            await self.reader.stop()
        await self.redis.aclose()
        await self.rest.session.close()


def start_listener(venue: Venue, redis_url: str, folder: Path, tree: Path) -> subprocess.Popen[str]:
    """`tui-bot listen --redis` of tree on the embedded exchange (venue custom, keys through the environment)."""
    (folder / "listen.toml").write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{venue.rest}"\npublic_ws_url = "{venue.public_ws}"\n'
        f'private_ws_url = "{venue.private_ws}"\ntrade_ws_url = "{venue.trade_ws}"\n'
        f'[listen]\nlog_file = "{folder / "listen.log"}"\nhealth_interval_s = 60\n[trading]\nrun_cycles = false\n'
    )
    env = {**os.environ, "BYBIT_API_KEY": venue.key, "BYBIT_API_SECRET": venue.secret, "PYTHONPATH": str(tree)}
    args = ["--config", str(folder / "listen.toml"), "--db", str(folder / "listen.db"), "listen", "--redis", redis_url]
    command = [sys.executable, "-m", "tui_bot.cli", *args]
    return subprocess.Popen(command, env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def export_tree(ref: str) -> Path:
    """ref's tui_bot package, exported from git into a temp dir (the baseline's listener and reader run from it)."""
    folder = Path(tempfile.mkdtemp(prefix="tui-bot-fanout-baseline-"))
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "tui_bot"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


async def run_tree(tree: Path, binary: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both phases on a fresh exchange, Redis, listener and reader of tree."""
    server = RedisServer(binary)
    server.start()
    ready: mp.Queue = mp.Queue()
    stamps: mp.Queue = mp.Queue()
    child = mp.Process(target=run_sim, args=(ready, stamps), daemon=True)
    child.start()
    stack = Stack(tree, server, ready.get(timeout=60), stamps)
    try:
        await stack.up()
        await stack.rounds(10)  # warm-up
        quiet = await stack.rounds(args.rounds)
        await stack.open_load()
        cpu, ops = await stack.measure_load(args.load_s)
        return {"quiet": quiet, "loaded": await stack.rounds(args.rounds), "cpu": cpu, "ops": ops}
    finally:
        await stack.close()
        child.terminate()
        child.join(5)
        server.remove()


def show(label: str, runs: dict[str, dict[str, Any]], phase: str) -> None:
    """One table block: each tree's latency stages, then its per-fill costs, side by side."""
    names = list(runs)
    print(label)
    print(f"  {'':34}" + "".join(f"{name + ' p50/p95/p99':>28}" for name in names))
    rows = (
        ("fill -> reader via Redis (ms)", "fanout"),
        ("  fill -> message at reader", "to_reader"),
        ("  message -> visible in reader", "in_reader"),
        ("REST position/list read (ms)", "reads"),
    )
    for title, field in rows:
        cells = []
        for name in names:
            _, p50, p95, p99, _ = stats(getattr(runs[name][phase], field))
            cells.append(f"{p50:.2f} / {p95:.2f} / {p99:.2f}")
        print(f"  {title:34}" + "".join(f"{cell:>28}" for cell in cells))
    print("  per fill:")
    for cost in runs[names[0]][phase].costs:
        print(f"    {cost:32}" + "".join(f"{runs[name][phase].costs[cost]:>28.3f}" for name in names))


async def main(args: argparse.Namespace) -> int:
    binary = redis_binary()
    if binary is None:
        print("redis-server not found", file=sys.stderr)
        return 1
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    trees = {"current": Path(__file__).resolve().parents[1]}
    if args.baseline:
        trees = {f"baseline {args.baseline}": export_tree(args.baseline), **trees}
    runs = {name: await run_tree(tree, binary, args) for name, tree in trees.items()}
    show("quiet (only b0's position):", runs, "quiet")
    print(f"10 bots x 3 symbols open, marks moving every 100 ms, over {args.load_s:.0f} s:")
    for name, run in runs.items():
        print(f"  {name}: listener CPU {run['cpu']:.1%} of one core, Redis {run['ops']:,.0f} commands/s (INFO stats)")
    show("under that load:", runs, "loaded")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    worst = max(stats(runs["current"][phase].fanout)[3] for phase in ("quiet", "loaded"))
    print(
        f"target fill -> reader p99 <= {TARGET_P99_MS} ms (current): {'met' if worst <= TARGET_P99_MS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="fills measured per phase")
    parser.add_argument("--load-s", type=float, default=10.0, help="seconds the 10 x 3 load is measured")
    parser.add_argument("--baseline", default="main", help="git ref run first for comparison ('' for none)")
    sys.exit(asyncio.run(main(parser.parse_args())))
