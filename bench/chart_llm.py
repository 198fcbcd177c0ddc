"""chart_llm's cost per cycle: chart render time, and a cycle of N symbols against a stub model that answers late.

Render: a 100-bar candle chart with EMA9/EMA21 as PNG (Pillow), timed over --renders charts.
Cycle: ChartLlm.propose_many over --symbols symbols against a loopback chat-completions stub (tests/bot/chat_stub.py)
that answers each request after --delay-ms, with --concurrency requests in flight (and once one at a time); each
symbol's chart is rendered, written, sent as a data URL, and the reply checked, as in a real cycle.

    python -m bench.chart_llm --symbols 20 --delay-ms 50 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tests.bot.chat_stub import ChatStub, Reply, trade
from tui_bot.core.indicators import closes, ema
from tui_bot.core.strategies.chart_llm import ChartLlm, ChartRequest
from tui_bot.core.strategies.chart_llm_render import render_chart
from tui_bot.core.strategies.chart_llm_settings import ChartLlmSettings
from tui_bot.domain.models import Instrument, Kline

D = Decimal


def instrument(symbol: str) -> Instrument:
    tick = D("0.1")
    return Instrument(
        symbol, symbol[:-4], "USDT", tick_size=tick, min_price=tick, max_price=D("1000000"), qty_step=D("0.001"),
        min_qty=D("0.001"), max_qty=D("100"), max_market_qty=D("100"), min_notional=D("5"), price_scale=1,
    )  # fmt: skip


def series(symbol: str, count: int = 200, seed: int = 0) -> list[Kline]:
    """A wavy series of closed 15m bars."""
    out: list[Kline] = []
    price = D("64000.0")
    for i in range(count):
        close = D(str(round(64000 + math.sin((i + seed) / 6) * 300 + i * 2, 1)))
        out.append(Kline(symbol, "15", i * 900_000, price, max(price, close) + 25, min(price, close) - 25, close))
        price = close
    return out


def bench_render(renders: int) -> None:
    bars = series("BTCUSDT")[-100:]
    values = closes(bars)
    lines = {"EMA9": ema(values, 9), "EMA21": ema(values, 21)}
    times: list[float] = []
    for _ in range(renders):
        start = time.perf_counter()
        png = render_chart(bars, lines, price_decimals=1)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        f"render: {renders} charts of 100 bars + 2 EMAs, 800x480 PNG ({len(png) / 1024:.1f} KiB): "
        f"mean {statistics.fmean(times):.1f} ms, p50 {times[len(times) // 2]:.1f} ms, "
        f"p95 {times[int(len(times) * 0.95)]:.1f} ms"
    )


async def bench_cycle(symbols: int, delay_ms: float, concurrency: int) -> float:
    """Seconds for one propose_many over symbols requests against a stub answering after delay_ms."""
    stub = ChatStub()
    answer = trade("LONG", stop_pct=-0.5, target_pct=1.0)
    stub.default = lambda body: Reply(body=answer(body).body, delay_s=delay_ms / 1000)
    await stub.start()
    requests = [ChartRequest(f"S{i:03d}USDT", "15", series(f"S{i:03d}USDT", seed=i), instrument("S000USDT"))
                for i in range(symbols)]  # fmt: skip
    settings = ChartLlmSettings(base_url=stub.base_url, concurrency=concurrency, max_requests_per_cycle=symbols)
    try:
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            answers = await ChartLlm().propose_many(requests, settings, Path(folder))
            took = time.perf_counter() - start
    finally:
        await stub.stop()
    traded = sum(1 for p in answers if p.model_name)
    print(
        f"cycle: {symbols} symbols, stub answering after {delay_ms:g} ms, concurrency {concurrency}: "
        f"{took * 1000:.0f} ms ({traded} proposals, at most {stub.most_in_flight} in flight; "
        f"ideal {math.ceil(symbols / concurrency) * delay_ms:.0f} ms)"
    )
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    bench_render(args.renders)
    print("warm-up (the SDK builds its response types on first use):", end=" ")
    asyncio.run(bench_cycle(1, args.delay_ms, 1))
    asyncio.run(bench_cycle(args.symbols, args.delay_ms, args.concurrency))
    asyncio.run(bench_cycle(args.symbols, args.delay_ms, 1))


if __name__ == "__main__":
    main()
