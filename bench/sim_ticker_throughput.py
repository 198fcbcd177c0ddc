"""How many ticker deltas/s the embedded exchange pushes to raw `websockets` clients.

Runs two servers in child processes, one after the other, and reads both with the same clients:
  baseline  a bare aiohttp WebSocket server sending pre-encoded ticker-sized frames as fast as it can
            (no market, no pacing: the transport's ceiling on this machine)
  sim       the embedded exchange with N symbols, every client subscribed to every tickers topic
and prints msgs/s, client-observed inter-message gaps, server CPU and RSS side by side.

    python -m bench.sim_ticker_throughput --symbols 200 --clients 4 --step-ms 10 --seconds 5 [--latency-ms 3]

The `websockets` reader is what a Python client gets (it saturates its own core first); the frame counter
parses only frame headers, so its figure is the exchange's push capacity on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass

import websockets


@dataclass
class Figures:
    name: str
    msgs: int
    seconds: float
    server_cpu_s: float
    server_rss_mb: float
    p50_gap_ms: float
    p99_gap_ms: float

    @property
    def rate(self) -> float:
        return self.msgs / self.seconds


def symbols(count: int) -> list[str]:
    majors = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    return (majors + [f"SIM{i:03d}USDT" for i in range(count)])[:count]


def _proc_stats(pid: int) -> tuple[float, float]:
    """(cpu seconds, rss MB) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
    return cpu, rss


def run_sim_server(port_queue: mp.Queue, count: int, step_ms: int, latency_ms: float = 0.0) -> None:
    from tui_bot.sim.server import SimExchange

    async def main() -> None:
        sim = SimExchange(symbols=symbols(count), step_seconds=step_ms / 1000, latency_ms=latency_ms)
        urls = await sim.start()
        port_queue.put(urls.public_ws)
        await asyncio.Event().wait()

    asyncio.run(main())


def run_baseline_server(port_queue: mp.Queue, count: int, step_ms: int) -> None:
    """The same fan-out unpaced, with no market, no diffing and no encoding: frames are prepared once."""
    from aiohttp import web

    frames = [
        json.dumps(
            {
                "topic": f"tickers.{s}",
                "type": "delta",
                "ts": 1,
                "cs": 1,
                "data": {
                    "symbol": s,
                    "bid1Price": "104250.30",
                    "bid1Size": "1.234",
                    "ask1Price": "104250.40",
                    "ask1Size": "0.567",
                    "markPrice": "104250.35",
                },
            }
        )
        for s in symbols(count)
    ]

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.send_str(json.dumps({"success": True, "op": "subscribe"}))
        try:
            while not ws.closed:
                for frame in frames:
                    await ws.send_str(frame)
                await asyncio.sleep(0)
        except ConnectionError:
            pass
        return ws

    async def main() -> None:
        app = web.Application()
        app.add_routes([web.get("/v5/public/linear", handler)])
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        port_queue.put(f"ws://127.0.0.1:{port}/v5/public/linear")
        await asyncio.Event().wait()

    asyncio.run(main())


async def read_client(url: str, topics: list[str], seconds: float, warmup: float, gaps: list[float]) -> int:
    async with websockets.connect(url, max_size=None, max_queue=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "req_id": "b", "args": topics}))
        deadline_warm = time.monotonic() + warmup
        while time.monotonic() < deadline_warm:
            await ws.recv()
        count = 0
        last = time.monotonic()
        end = last + seconds
        while (now := time.monotonic()) < end:
            await ws.recv()
            count += 1
            gaps.append(now - last)
            last = now
        return count


async def count_frames(url: str, topics: list[str], seconds: float, warmup: float, gaps: list[float]) -> int:
    """A minimal reader that parses only WebSocket frame headers: it measures the server, not the client."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"GET /v5/public/linear HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    payload = json.dumps({"op": "subscribe", "req_id": "b", "args": topics}).encode()
    mask = b"\x00\x00\x00\x00"
    header = (
        bytes([0x81, 0xFE]) + len(payload).to_bytes(2, "big")
        if len(payload) < 65536
        else bytes([0x81, 0xFF]) + len(payload).to_bytes(8, "big")
    )
    writer.write(header + mask + payload)
    buffer = b""
    count = 0
    start = time.monotonic()
    counting_from = start + warmup
    end = counting_from + seconds
    last = counting_from
    while (now := time.monotonic()) < end:
        buffer += await reader.read(1 << 20)
        pos = 0
        while len(buffer) - pos >= 2:
            size = buffer[pos + 1] & 0x7F
            head = 2
            if size == 126:
                if len(buffer) - pos < 4:
                    break
                size, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
            elif size == 127:
                if len(buffer) - pos < 10:
                    break
                size, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
            if len(buffer) - pos < head + size:
                break
            pos += head + size
            if now >= counting_from:
                count += 1
        buffer = buffer[pos:]
        if now >= counting_from:
            gaps.append(now - last)
            last = now
    writer.close()
    return count


def measure(name: str, target, count: int, clients: int, step_ms: int, seconds: float, reader=read_client) -> Figures:
    queue: mp.Queue = mp.Queue()
    proc = mp.Process(target=target, args=(queue, count, step_ms), daemon=True)
    proc.start()
    url = queue.get(timeout=30)
    topics = [f"tickers.{s}" for s in symbols(count)]
    gaps: list[float] = []
    cpu0, _ = _proc_stats(proc.pid)

    async def run() -> list[int]:
        return await asyncio.gather(*(reader(url, topics, seconds, 1.0, gaps) for _ in range(clients)))

    started = time.monotonic()
    counts = asyncio.run(run())
    elapsed = time.monotonic() - started - 1.0
    cpu1, rss = _proc_stats(proc.pid)
    proc.terminate()
    proc.join(5)
    gaps.sort()
    return Figures(
        name, sum(counts), elapsed, cpu1 - cpu0, rss, statistics.median(gaps) * 1000, gaps[int(len(gaps) * 0.99)] * 1000
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--step-ms", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the exchange's network latency")
    args = parser.parse_args()
    common = (args.symbols, args.clients, args.step_ms, args.seconds)
    sim_server = functools.partial(run_sim_server, latency_ms=args.latency_ms)
    rows = [
        measure("baseline / websockets reader", run_baseline_server, *common),
        measure("sim / websockets reader", sim_server, *common),
        measure("baseline / frame counter", run_baseline_server, *common, reader=count_frames),
        measure("sim / frame counter", sim_server, *common, reader=count_frames),
    ]
    client_cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{args.symbols} symbols, {args.clients} clients, step {args.step_ms} ms, latency {args.latency_ms:g} ms, "
        f"{args.seconds:.0f} s measured "
        f"(ideal {args.symbols * args.clients * 1000 / args.step_ms:,.0f} msgs/s)"
    )
    print(f"{'':30}{'msgs/s':>12}{'server CPU':>12}{'RSS MB':>9}{'gap p50 ms':>12}{'gap p99 ms':>12}")
    for row in rows:
        print(
            f"{row.name:30}{row.rate:>12,.0f}{row.server_cpu_s / row.seconds:>11.0%} {row.server_rss_mb:>8.0f}"
            f"{row.p50_gap_ms:>12.3f}{row.p99_gap_ms:>12.3f}"
        )
    print(
        f"sim / baseline: {rows[1].rate / rows[0].rate:.2f} with the websockets reader, "
        f"{rows[3].rate / rows[2].rate:.2f} with the frame counter "
        f"(client CPU {client_cpu.ru_utime + client_cpu.ru_stime:.1f} s)"
    )
    print("gap = time between reads that returned data; the frame counter reads many frames per read.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
