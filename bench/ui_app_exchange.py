"""The console bench's exchange: a SimExchange in a child process that stamps every order it receives,
and the waits for a runtime on it to stream and hold its positions."""

from __future__ import annotations

import asyncio
import math
import multiprocessing as mp
import os
import queue as queue_mod
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tui_bot.config import ExchangeSettings, Settings
from tui_bot.domain.enums import Side
from tui_bot.domain.events import ConnectionState
from tui_bot.runtime import Runtime

POSITIONS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "SIM000USDT", "SIM001USDT")


def symbols(count: int) -> list[str]:
    """The three majors, then synthetic SIMnnnUSDT symbols (as the other benches)."""
    return (["BTCUSDT", "ETHUSDT", "SOLUSDT"] + [f"SIM{i:03d}USDT" for i in range(count)])[:count]


def run_sim(queue: mp.Queue, stamps: mp.Queue, names: list[str], step_ms: float) -> None:
    """Child process: the embedded exchange with `names`, stepping every step_ms; every order.create that
    reaches its trade WebSocket is stamped (perf_counter_ns: CLOCK_MONOTONIC, the same clock in every
    process on the machine) and its orderLinkId sent back on `stamps`."""
    from tui_bot.sim.server import SimExchange
    from tui_bot.sim.ws_request import WsRequest

    async def main() -> None:
        sim = SimExchange(symbols=names, step_seconds=step_ms / 1000, balance=Decimal(1_000_000), idle_timeout=3600)
        handle = sim.trade.handle

        def stamped(peer: Any, request: WsRequest) -> None:
            if request.op == "order.create":
                args = request.args if isinstance(request.args, list) and request.args else [{}]
                stamps.put((time.perf_counter_ns(), str(args[0].get("orderLinkId", ""))))
            handle(peer, request)

        sim.trade.handle = stamped  # type: ignore[method-assign]
        urls = await sim.start()
        queue.put((urls.rest, urls.public_ws, urls.private_ws, urls.trade_ws, sim.api_key, sim.api_secret))
        await asyncio.Event().wait()

    asyncio.run(main())


class Exchange:
    """A child-process exchange: its URLs and keys, its pid, and the stamps of the orders it received."""

    def __init__(self, names: list[str], step_ms: float) -> None:
        self.names = names
        queue: mp.Queue = mp.Queue()
        self.stamps: mp.Queue = mp.Queue()
        self.proc = mp.Process(target=run_sim, args=(queue, self.stamps, names, step_ms), daemon=True)
        self.proc.start()
        assert self.proc.pid is not None
        self.pid: int = self.proc.pid
        self.urls: tuple[str, ...] = queue.get(timeout=30)

    def settings(self, watchlist: list[str], db_path: Path) -> Settings:
        """Venue `custom` pointed at this exchange, keys through the environment."""
        rest, public_ws, private_ws, trade_ws, key, secret = self.urls
        os.environ["BYBIT_API_KEY"], os.environ["BYBIT_API_SECRET"] = key, secret
        settings = Settings()
        settings.exchange = ExchangeSettings(
            venue="custom", rest_url=rest, public_ws_url=public_ws, private_ws_url=private_ws, trade_ws_url=trade_ws
        )
        settings.bot.watchlist = watchlist
        settings.storage.db_path = db_path
        return settings

    async def next_receipt(self, timeout: float = 5.0) -> tuple[int, str]:
        """The next order.create the exchange received: (perf_counter_ns, orderLinkId)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.stamps.get_nowait()
            except queue_mod.Empty:
                if time.monotonic() > deadline:
                    raise RuntimeError("the exchange received no order") from None
                await asyncio.sleep(0.002)

    def drain(self) -> None:
        """Forget the stamps of orders placed so far (e.g. the positions opened before a run)."""
        while True:
            try:
                self.stamps.get(timeout=0.2)
            except queue_mod.Empty:
                return

    def stop(self) -> None:
        """End the child process."""
        self.proc.terminate()
        self.proc.join(5)


def streaming(rt: Runtime | None, names: list[str]) -> bool:
    """Every watched symbol has a ticker and every connection (public shards, private, trade) is live."""
    if rt is None or len(rt.engine.state.tickers) < len(names) or rt.engine.state.wallet is None:
        return False
    return all(s.state is ConnectionState.LIVE for s in rt.client.connection_stats().values()) and rt.client.trade_ready


async def until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    """Poll `predicate` every 2 ms until it holds; RuntimeError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def open_positions(rt: Runtime, names: tuple[str, ...] = POSITIONS) -> None:
    """A small long in each of `names` (about 20 USDT each), unless one is open already."""
    for symbol in names:
        if symbol in rt.engine.state.positions:
            continue
        inst = rt.engine.state.instruments[symbol]
        price = rt.engine.state.tickers[symbol].last_price
        qty = max(inst.min_qty, math.ceil(Decimal(20) / (price * inst.qty_step)) * inst.qty_step)
        await rt.orders.place(symbol, Side.BUY, qty)
    await until(lambda: all(s in rt.engine.state.positions for s in names), "the positions")
