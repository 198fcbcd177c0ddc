"""Ticker msgs/s and CPU of Python WebSocket clients reading the same feed from the embedded exchange.

Clients, each in a fresh child process, one after the other, reading the same feed:
  tui_bot           StreamConnection + the client's public decoder (events counted)
  tui_bot+engine    the same feeding Engine -> consumer -> AccountState (events applied counted)
  pybit+wsaccel     pybit.unified_trading.WebSocket (websocket-client, wsaccel importable)
  pybit-wsaccel     the same with wsaccel blocked before websocket-client is imported
  raw (ceiling)     a bare `websockets` loop: orjson.loads + dict merge per message
  direct            the same work on our transport (ws_direct.connect_direct): the floor for our client, so
                    tui_bot+engine / direct is what our own per-message work costs on equal transport

Feeds, each served by a child process on the other core:
  sim       a SimExchange streaming tickers for N symbols every --step-ms; its slow-peer limit is
            lifted in the child so a slow client is measured instead of disconnected. When its CPU
            reaches ~100 % the server, not the client, is the bottleneck: then compare CPU per msg.
  replay    frames recorded from a SimExchange (same symbols, 100 ms steps), sent unpaced with
            backpressure: the client is the bottleneck, so msgs/s is its ceiling on one core
            (best of --rounds interleaved runs per client, as the machine is shared).

    python -m bench.stream_clients --symbols 100 --step-ms 2 --seconds 2 --rounds 2

`CPU` is the client process's CPU (all threads) over the measured window; `us CPU/msg` and
`msgs/CPU-s` (msgs per second of client CPU) compare clients independently of who was the bottleneck.
Target from the issue: >= 80 % of the raw ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client_ingest import proc_cpu, symbols
from bench.stream_feeds import run_replay_feed, run_sim_feed

CLIENTS = ("tui_bot", "tui_bot+engine", "pybit+wsaccel", "pybit-wsaccel", "raw", "direct")
LABELS = {
    "tui_bot": "tui_bot StreamConnection+decode",
    "tui_bot+engine": "  + Engine + AccountState",
    "pybit+wsaccel": "pybit WebSocket, wsaccel",
    "pybit-wsaccel": "pybit WebSocket, no wsaccel",
    "raw": "raw websockets+orjson (ceiling)",
    "direct": "our transport+orjson (no app work)",
}
TARGET = 0.80
CLIENT_BOUND = 0.9
ROOT = Path(__file__).resolve().parents[1]


# -- clients (each runs in its own child process via --client) ------------------------------------------


def finish(n0: int, cpu0: float, t0: float, n1: int, cpu1: float, t1: float, **extra: object) -> None:
    """Print the window's figures as one JSON line and leave at once (teardown is not measured or waited for)."""
    print("stop", flush=True)
    print(json.dumps({"msgs": n1 - n0, "seconds": t1 - t0, "cpu": cpu1 - cpu0, **extra}), flush=True)
    os._exit(0)


def window(count: Callable[[], int], seconds: float, warmup: float, **extra: object) -> None:
    """Sleep through warmup, then count messages and process CPU over `seconds` (for threaded clients)."""
    time.sleep(warmup)
    print("start", flush=True)
    n0, cpu0, t0 = count(), time.process_time(), time.perf_counter()
    time.sleep(seconds)
    finish(n0, cpu0, t0, count(), time.process_time(), time.perf_counter(), **extra)


async def async_window(count: Callable[[], int], seconds: float, warmup: float) -> None:
    """window() for clients on this event loop."""
    await asyncio.sleep(warmup)
    print("start", flush=True)
    n0, cpu0, t0 = count(), time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    finish(n0, cpu0, t0, count(), time.process_time(), time.perf_counter())


def client_pybit(url: str, names: list[str], seconds: float, warmup: float, wsaccel: bool) -> None:
    """pybit's public WebSocket (its own thread, delta merge and deep copy per message); callbacks counted."""
    if not wsaccel:
        for name in ("wsaccel", "wsaccel.xormask", "wsaccel.utf8validator"):
            sys.modules[name] = None  # type: ignore[assignment]
    import websocket._abnf
    import websocket._utils
    from pybit import unified_trading

    accel = (
        "XorMaskerSimple" in websocket._abnf._mask.__code__.co_names
        and "Utf8Validator" in websocket._utils._validate_utf8.__code__.co_names
    )
    assert accel == wsaccel, f"wsaccel in use: {accel}, wanted {wsaccel}"
    unified_trading.PUBLIC_WSS = url.replace("/linear", "/{CHANNEL_TYPE}")
    received = 0

    def on_ticker(message: dict[str, object]) -> None:
        nonlocal received
        received += 1

    ws = unified_trading.WebSocket(channel_type="linear", testnet=False)
    ws.ticker_stream(symbol=names, callback=on_ticker)
    window(lambda: received, seconds, warmup, wsaccel=accel)


async def client_tui_bot(url: str, names: list[str], seconds: float, warmup: float, engine: bool) -> None:
    """Our StreamConnection + public decoder; with engine, feeding Engine -> AccountState (applied events counted)."""
    from bench.client_ingest import public_decoder, stand_in_engine
    from tui_bot.domain.events import ConnectionState, Event
    from tui_bot.exchange.bybit.ws import StreamConnection

    events = 0

    def on_events(batch: list[Event]) -> None:
        nonlocal events
        events += len(batch)

    core = stand_in_engine(names, 3) if engine else None
    if core is not None:
        await core.start()
    conn = StreamConnection("public-1", url, decode=public_decoder(names), on_events=core.feed if core else on_events)
    await conn.subscribe(f"tickers.{s}" for s in names)
    conn.start()
    while conn.stats.state is not ConnectionState.LIVE:
        await asyncio.sleep(0.01)
    await async_window((lambda: core.health.applied_rate.total) if core else (lambda: events), seconds, warmup)


def ticker_book() -> tuple[dict[str, dict[str, object]], Callable[[bytes], bool]]:
    """The raw clients' work per message: orjson.loads and a dict merge; returns (book, apply)."""
    import orjson

    loads = orjson.loads
    book: dict[str, dict[str, object]] = {}

    def apply(raw: bytes) -> bool:
        msg = loads(raw)
        topic = msg.get("topic")
        if topic is None:
            return False
        data = msg["data"]
        current = book.get(topic)
        if current is None or msg["type"] == "snapshot":
            book[topic] = dict(data)
        else:
            current.update(data)
        return True

    return book, apply


def subscribe_frame(names: list[str]) -> str:
    return json.dumps({"op": "subscribe", "req_id": "raw", "args": [f"tickers.{s}" for s in names]})


async def client_raw(url: str, names: list[str], seconds: float, warmup: float) -> None:
    """The ceiling: websockets (no compression, no protocol pings) + orjson.loads + a dict merge per message."""
    import websockets

    received = 0
    _, apply = ticker_book()

    async def read(ws: websockets.ClientConnection) -> None:
        nonlocal received
        async for raw in ws:
            received += apply(raw)  # type: ignore[arg-type]

    async with websockets.connect(url, ping_interval=None, max_size=None, compression=None) as ws:
        await ws.send(subscribe_frame(names))
        reader = asyncio.create_task(read(ws))
        await async_window(lambda: received, seconds, warmup)
        reader.cancel()


async def client_direct(url: str, names: list[str], seconds: float, warmup: float) -> None:
    """The raw client's work on our transport: messages handed over as parsed, no recv() loop."""
    from tui_bot.exchange.bybit.ws_direct import connect_direct

    received = 0
    _, apply = ticker_book()

    def on_message(raw: bytes, received_ns: int) -> None:
        nonlocal received
        received += apply(raw)

    async with connect_direct(url, on_message, max_size=None, close_timeout=1, open_timeout=10) as ws:
        await ws.send(subscribe_frame(names))
        await async_window(lambda: received, seconds, warmup)


def run_client(name: str, url: str, names: list[str], seconds: float, warmup: float) -> None:
    """Child-process entry: connect one client, measure, print the figures and exit."""
    if name.startswith("pybit"):
        client_pybit(url, names, seconds, warmup, wsaccel=name == "pybit+wsaccel")
    elif name == "raw":
        asyncio.run(client_raw(url, names, seconds, warmup))
    elif name == "direct":
        asyncio.run(client_direct(url, names, seconds, warmup))
    else:
        asyncio.run(client_tui_bot(url, names, seconds, warmup, engine=name == "tui_bot+engine"))


# -- orchestration -------------------------------------------------------------------------------------


@dataclass
class Row:
    feed: str
    client: str
    msgs: int
    seconds: float
    cpu: float
    server_cpu: float
    error: str = ""

    @property
    def rate(self) -> float:
        return self.msgs / self.seconds if self.seconds else 0.0

    @property
    def per_cpu_s(self) -> float:
        return self.msgs / self.cpu if self.cpu else 0.0


def run_child(feed: str, client: str, command: list[str], server_pid: int, timeout: float) -> Row:
    """Run one client child; server CPU is read when it announces the start and the end of its window."""
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server: list[float] = []
    result = None
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() in ("start", "stop"):
            server.append(proc_cpu(server_pid))
        elif line.startswith("{"):
            result = json.loads(line)
    stderr = child.stderr.read() if child.stderr else ""
    child.wait(timeout)
    if result is not None and not result["msgs"]:
        return Row(feed, client, 0, 0, 0, 0, "received nothing in the window (client stopped reading)")
    if result is None or len(server) != 2:
        return Row(feed, client, 0, 0, 0, 0, (stderr.strip().splitlines() or ["failed"])[-1])
    return Row(
        feed, client, result["msgs"], result["seconds"], result["cpu"], (server[1] - server[0]) / result["seconds"]
    )


def measure_feed(feed: str, args: argparse.Namespace) -> list[Row]:
    """Start the feed, run every client against it (interleaved rounds on replay), keep each client's best round."""
    target = run_sim_feed if feed == "sim" else run_replay_feed
    names = symbols(args.symbols)
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=target, args=(queue, names, args.step_ms, args.replay_steps), daemon=True)
    proc.start()
    best: dict[str, Row] = {}
    try:
        url = queue.get(timeout=60)
        for _ in range(args.rounds if feed == "replay" else 1):
            for client in args.clients.split(","):
                command = [
                    sys.executable,
                    "-m",
                    "bench.stream_clients",
                    "--client",
                    client,
                    "--url",
                    url,
                    "--symbols",
                    str(args.symbols),
                    "--seconds",
                    str(args.seconds),
                    "--warmup",
                    str(args.warmup),
                ]
                row = run_child(feed, client, command, proc.pid, args.seconds + 60)
                if client not in best or row.rate > best[client].rate:
                    best[client] = row
    finally:
        proc.terminate()
        proc.join(5)
    return list(best.values())


def report(rows: list[Row], args: argparse.Namespace) -> None:
    offered = args.symbols * 1000 / args.step_ms
    print(
        f"{args.symbols} symbols; sim feed: step {args.step_ms:g} ms (offered <= {offered:,.0f} msgs/s); "
        f"replay feed: {args.replay_steps} recorded 100 ms steps sent unpaced, best of {args.rounds} interleaved runs; "
        f"{args.seconds:g} s measured per run"
    )
    print(
        f"{'feed':7}{'client':34}{'msgs/s':>9}{'CPU':>6}{'us CPU/msg':>11}{'msgs/CPU-s':>11}"
        f"{'rate/ceil':>10}{'eff/ceil':>9}{'srv CPU':>8}"
    )
    for feed in dict.fromkeys(r.feed for r in rows):
        group = [r for r in rows if r.feed == feed]
        ceiling = next((r for r in group if r.client == "raw" and r.msgs), None)
        for r in group:
            if r.error:
                print(f"{feed:7}{LABELS.get(r.client, r.client):34}  failed: {r.error[:80]}")
                continue
            rate_ratio = f"{r.rate / ceiling.rate:.0%}" if ceiling else "-"
            eff_ratio = f"{r.per_cpu_s / ceiling.per_cpu_s:.0%}" if ceiling and ceiling.per_cpu_s else "-"
            print(
                f"{feed:7}{LABELS.get(r.client, r.client):34}{r.rate:>9,.0f}{r.cpu / r.seconds:>6.0%}"
                f"{1e6 * r.cpu / max(r.msgs, 1):>11.1f}{r.per_cpu_s:>11,.0f}{rate_ratio:>10}{eff_ratio:>9}"
                f"{r.server_cpu:>8.0%}"
            )
    print("rate/ceil = msgs/s vs the raw loop on the same feed; eff/ceil = msgs per client CPU-second vs the raw loop.")
    for feed in dict.fromkeys(r.feed for r in rows):
        group = {r.client: r for r in rows if r.feed == feed and not r.error}
        ours, ceiling = group.get("tui_bot+engine") or group.get("tui_bot"), group.get("raw")
        if not (ours and ceiling):
            continue
        name = LABELS[ours.client].strip()
        if ceiling.cpu / ceiling.seconds < CLIENT_BOUND:
            print(
                f"{feed}: the feed was the bottleneck (server {ceiling.server_cpu:.0%} CPU, raw client "
                f"{ceiling.cpu / ceiling.seconds:.0%}): msgs/s only show who kept up; {name} needs "
                f"{ours.per_cpu_s / ceiling.per_cpu_s:.0%} of the ceiling's msgs per CPU-second"
            )
            continue
        ratio = ours.rate / ceiling.rate
        print(
            f"{feed}: clients were the bottleneck; target >= {TARGET:.0%} of the raw ceiling ({name}): "
            f"{'met' if ratio >= TARGET else 'NOT met'} ({ratio:.0%} of its msgs/s)"
        )
        floor = group.get("direct")
        if floor:
            print(
                f"{feed}: on equal transport ({LABELS['direct']}) {name} reaches {ours.rate / floor.rate:.0%} "
                f"of its msgs/s: our own work is {1e6 * (ours.cpu / ours.msgs - floor.cpu / floor.msgs):.1f} us CPU/msg"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument(
        "--step-ms", type=float, default=2.0, help="sim feed step (2 ms: faster than the sim can go here)"
    )
    parser.add_argument("--replay-steps", type=int, default=100, help="100 ms steps recorded for the replay feed")
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per client run")
    parser.add_argument("--warmup", type=float, default=0.4)
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved runs per client on the replay feed (best kept)"
    )
    parser.add_argument("--feeds", default="sim,replay")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        run_client(args.client, args.url, symbols(args.symbols), args.seconds, args.warmup)
        return 1
    rows = [row for feed in args.feeds.split(",") for row in measure_feed(feed, args)]
    report(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
