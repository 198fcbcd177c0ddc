"""Order round trips over the trade WebSocket vs REST, through the real runtime, against the embedded exchange.

A SimExchange runs in a child process (the other core); this process starts the full runtime on it
(`start_runtime`, venue `custom`: BybitClient, private/trade/public streams, engine, store, order
service) and places small BTCUSDT market orders through `OrderService.place`, alternating the path
(trade WS, REST, trade WS, ...) and the side (buy, buy, sell, sell, ...) so drift hits both paths alike,
one order at a time, paced under the exchange's 10 order creates/s per key. For every order the
engine's own timers give, from the moment the order was sent:
  ack           the order.create reply (trade WS) or the HTTP response (REST, pybit in a thread)
  first event   the first private order/execution event for it applied by the engine
  fill          its execution applied by the engine

    python -m bench.order_rtt --orders 100 --rate 8

Target from the issue: trade-WS ack p50 at least 30 % below REST's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from bench.client_ingest import proc_cpu
from tui_bot.domain.enums import Side
from tui_bot.domain.events import StreamModeChanged
from tui_bot.domain.metrics import percentile
from tui_bot.runtime import Runtime, start_runtime

TARGET = 0.30
SYMBOL = "BTCUSDT"


def run_sim(queue: mp.Queue, step_ms: float) -> None:
    """Child process: the embedded exchange with the default symbols; puts its URLs, keys and admin URL on queue."""
    from tui_bot.sim.server import SimExchange

    async def main() -> None:
        sim = SimExchange(step_seconds=step_ms / 1000, balance=Decimal(1_000_000), idle_timeout=3600)
        urls = await sim.start()
        queue.put((urls.rest, urls.public_ws, urls.private_ws, urls.trade_ws, sim.api_key, sim.api_secret, urls.admin))
        await asyncio.Event().wait()

    asyncio.run(main())


@contextlib.contextmanager
def sim_process(step_ms: float) -> Iterator[tuple[mp.Process, tuple[str, ...]]]:
    """The embedded exchange in a child process (the other core): the process and what run_sim put on the queue."""
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=run_sim, args=(queue, step_ms), daemon=True)
    proc.start()
    try:
        yield proc, queue.get(timeout=30)
    finally:
        proc.terminate()
        proc.join(5)


async def start(urls: tuple[str, ...], db_path: Path) -> Runtime:
    """The full runtime on venue `custom` pointed at the child exchange (keys through the environment)."""
    from tui_bot.config import ExchangeSettings, Settings

    rest, public_ws, private_ws, trade_ws, key, secret, _admin = urls
    os.environ["BYBIT_API_KEY"], os.environ["BYBIT_API_SECRET"] = key, secret
    settings = Settings()
    settings.exchange = ExchangeSettings(
        venue="custom", rest_url=rest, public_ws_url=public_ws, private_ws_url=private_ws, trade_ws_url=trade_ws
    )
    runtime = await start_runtime(settings, db_path)
    deadline = time.monotonic() + 10
    while not (runtime.client.trade_ready and runtime.client.private_live and SYMBOL in runtime.engine.state.tickers):
        if time.monotonic() > deadline:
            raise RuntimeError("trade/private streams or the BTCUSDT ticker did not come up")
        await asyncio.sleep(0.05)
    return runtime


async def place_all(
    runtime: Runtime, count: int, warmup: int, rate: float, qty: Decimal, fill_timeout: float
) -> list[tuple[str, str]]:
    """Place warmup + 2*count orders alternating WS/REST; returns (via, orderLinkId) of the measured ones."""
    health = runtime.engine.health
    placed: list[tuple[str, str]] = []
    interval = 1 / rate
    next_at = time.monotonic()
    for index in range(warmup + 2 * count):
        via = "ws" if index % 2 == 0 else "rest"
        side = Side.BUY if (index // 2) % 2 == 0 else Side.SELL
        runtime.orders.via = via
        ack = await runtime.orders.place(SYMBOL, side, qty)
        deadline = time.monotonic() + fill_timeout
        while not health.timers[ack.order_link_id].filled_ns and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        if index >= warmup:
            placed.append((via, ack.order_link_id))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return placed


def stats(values: list[float]) -> tuple[int, float, float, float, float]:
    """(count, p50, p95, p99, max) by nearest rank."""
    ordered = sorted(values)
    return (
        len(ordered),
        percentile(ordered, 50),
        percentile(ordered, 95),
        percentile(ordered, 99),
        ordered[-1] if ordered else 0.0,
    )


def report(
    runtime: Runtime, placed: list[tuple[str, str]], server_cpu: float, elapsed: float, switches: list[str]
) -> None:
    """Per path: ack, first private event and fill latencies from the engine's order timers."""
    timers = runtime.engine.health.timers
    print(
        f"{len(placed)} market orders of {SYMBOL}, alternating trade WS / REST; ms from send "
        f"(sim CPU {server_cpu:.0%} over {elapsed:.0f} s)"
    )
    print(f"{'path':6}{'measure':13}{'n':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    p50 = {}
    for via in ("ws", "rest"):
        mine = [timers[link] for v, link in placed if v == via]
        for name, attr in (("ack", "acked_ns"), ("first event", "first_event_ns"), ("fill", "filled_ns")):
            values = [(getattr(t, attr) - t.sent_ns) / 1e6 for t in mine if getattr(t, attr)]
            n, *figures = stats(values)
            if name == "ack":
                p50[via] = figures[0]
            print(f"{via:6}{name:13}{n:>5}" + "".join(f"{value:>8.2f}" for value in figures))
    for via in ("ws", "rest"):
        mine = [timers[link] for v, link in placed if v == via]
        early = sum(1 for t in mine if t.first_event_ns and t.first_event_ns < t.acked_ns)
        print(f"{via:6}private event applied before the ack: {early} of {len(mine)}")
    print(
        f"engine: {len(switches)} switches of the account feed during the run"
        f"{' (' + '; '.join(switches) + ')' if switches else ''}, mode {runtime.engine.mode.value} at the end"
    )
    engine_view = {via: runtime.engine.health.order_ack_ms[via].summary() for via in ("ws", "rest")}
    print(
        f"engine health order_ack_ms p50: ws {engine_view['ws'].p50:.2f} ms, rest {engine_view['rest'].p50:.2f} ms "
        "(includes the warmup orders)"
    )
    below = 1 - p50["ws"] / p50["rest"] if p50.get("rest") else 0.0
    verdict = "met" if below >= TARGET else "NOT met"
    print(
        f"trade-WS ack p50 is {below:.0%} below REST's ({p50['ws']:.2f} vs {p50['rest']:.2f} ms); "
        f"target >= {TARGET:.0%}: {verdict}"
    )


async def run(args: argparse.Namespace) -> None:
    with sim_process(args.step_ms) as (proc, urls), tempfile.TemporaryDirectory() as tmp:
        runtime = await start(urls, Path(tmp) / "bench.db")
        try:
            subscription = runtime.engine.bus.subscribe()
            cpu0, started = proc_cpu(proc.pid), time.monotonic()
            placed = await place_all(runtime, args.orders, args.warmup, args.rate, Decimal(args.qty), args.fill_timeout)
            elapsed = time.monotonic() - started
            switches = [
                f"{item.mode.value}: {item.reason}"
                for item in await subscription.next_batch()
                if isinstance(item, StreamModeChanged)
            ]
            report(runtime, placed, (proc_cpu(proc.pid) - cpu0) / elapsed, elapsed, switches)
        finally:
            await runtime.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100, help="measured orders per path")
    parser.add_argument("--warmup", type=int, default=4, help="orders placed first and not measured")
    parser.add_argument(
        "--rate", type=float, default=8.0, help="orders/s over both paths (the sim allows 10/s per key)"
    )
    parser.add_argument("--qty", default="0.001")
    parser.add_argument("--step-ms", type=float, default=100.0, help="sim market step")
    parser.add_argument("--fill-timeout", type=float, default=2.0, help="seconds to wait for each order's fill")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
