"""Console benchmarks: the app's CPU and frame rate under 200 streaming symbols, and keypress → order on the wire.

1. CPU. A SimExchange with 200 symbols stepping every 100 ms runs in a child process (so the exchange's
   own work is not counted); this process runs the runtime on it (venue `custom`, keys through the
   environment) with all 200 symbols on the watchlist (200 ticker topics, ~2k msg/s) and a few open
   positions, and measures its own CPU (user + system, all threads) over a window, twice:
     core     the runtime alone (client, engine, store), no console
     console  the console (TuiBotApp, headless, 160×48) running the same runtime
   The app's share is the difference. Headless Textual skips writing frames to a terminal, so the
   console here also encodes every frame to the escape sequences a terminal would be sent (and
   counts the bytes): the figure includes that work, only the write itself is missing.
2. Frames. Every screen update the app hands to its driver (`App._display`) is a frame: refreshes/s
   over the same window.
3. Keypress → order on the wire. BTCUSDT 0.01 market orders, one at a time, buys and sells alternating so
   the position stays small, in two consoles: on the 200-symbol exchange (right after the CPU window)
   and on a 3-symbol one (2 symbols watched, about 20 msg/s). The exchange's trade-WebSocket handler
   stamps every order.create as it arrives (perf_counter_ns, CLOCK_MONOTONIC: one clock for every
   process on the machine). UI path: `b` (or `s`), 0.01 in the quantity, then the clock starts and
   Enter is pressed (pilot.press, which hands the key to the driver as a terminal read would); the
   stages after it are the ticket's intent reaching the app, the order service sending (the engine's
   order timer) and the exchange receiving it. Direct path, alternating with it: the clock starts and
   `runtime.orders.place` is awaited (same runtime, same console running, no keys). The exchange is
   a child process here too: in-process it would read the order only once the console's repaint
   after the ticket closes has released the shared event loop, adding tens of ms that a remote venue
   would not see.

4. Terminal output by size. On the 3-symbol exchange, after part 3, with 2 positions open (BTCUSDT and
   ETHUSDT, both watched): the same console resized to 80×24 and then to 200×60, two windows at each: the
   baseline (output budget off: frames sent as Textual encodes them, book and tape at 4 paints a second) and
   the budget (ui/output.py, cadence.area_interval); KB/s of terminal output (and frames/s, CPU) per size,
   split by the panel that drew it, and the ratios.

In parts 1-2 the console shows the market view (quote board, chart, order book and trade tape, as from
160 columns) above the tables; the bench checks that every panel is on screen before it measures.

    python -m bench.ui_app              # about 100 s

Targets: the console's share ≤ 50 % of one core; keypress → order p50 ≤ 5 ms; 200×60 output within 1.5× of
80×24's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from textual._compositor import CompositorUpdate
from textual.pilot import Pilot
from textual.widgets import Input

from bench.ui_app_exchange import POSITIONS, Exchange, open_positions, streaming, symbols, until
from bench.ui_app_output import Window, by_widget, report_sizes, set_budget
from tui_bot.config import Settings
from tui_bot.domain.enums import Side
from tui_bot.domain.metrics import percentile
from tui_bot.runtime import LocalBackendOpener, Runtime, start_runtime
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.output import trimmed
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.widgets.positions import PositionsTable

SIZE = (160, 48)
SIZES = ((80, 24), (200, 60))
SIZE_POSITIONS = ("BTCUSDT", "ETHUSDT")
CPU_TARGET = 0.50
ORDER_TARGET_MS = 5.0
OUTPUT_RATIO_TARGET = 1.5
MARKET_PANELS = ("#quotes", "#chart", "#book", "#trades")


def self_cpu() -> float:
    """CPU seconds (user + system, every thread) of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of another process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantiles(values: list[float]) -> tuple[int, float, float, float]:
    """(count, p50, p95, max) by nearest rank."""
    ordered = sorted(values)
    return len(ordered), percentile(ordered, 50), percentile(ordered, 95), ordered[-1] if ordered else 0.0


# -- 1 and 2: CPU and frames ------------------------------------------------------------------------------


async def measure(name: str, rt: Runtime, seconds: float, sim_pid: int, app: MeasuredConsole | None = None) -> Window:
    """CPU of this process and of the exchange, events applied and frames over `seconds`."""
    applied = rt.engine.health.applied_rate
    frames0, bytes0 = (app.frames, app.frame_bytes) if app else (0, 0)
    panels0 = Counter(app.panels) if app else Counter[str]()
    cpu0, sim0, applied0, t0 = self_cpu(), proc_cpu(sim_pid), applied.total, time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - t0
    window = Window(
        name,
        elapsed,
        (self_cpu() - cpu0) / elapsed,
        (proc_cpu(sim_pid) - sim0) / elapsed,
        (applied.total - applied0) / elapsed,
    )
    if app is not None:
        window.frames = (app.frames - frames0) / elapsed
        window.frame_bytes = (app.frame_bytes - bytes0) / elapsed
        window.panels = app.panels - panels0
    return window


class MeasuredConsole(TuiBotApp):
    """The console on a runtime in this process (reachable as `runtime`), counting the frames it hands to the
    driver (encoding each as a terminal would get it) and stamping when an order ticket's intent reaches the app."""

    intent_ns = 0

    def __init__(self, settings: Settings) -> None:
        self.opener = LocalBackendOpener(settings, settings.storage.db_path)
        self.panels: Counter[str] = Counter()
        super().__init__(settings, self.opener)

    @property
    def runtime(self) -> Runtime | None:
        return self.opener.runtime

    encode_headless = True  # frames encoded (and paced) as a terminal would get them; their bytes counted

    @property
    def frames(self) -> int:
        return self.pacer.frames

    @property
    def frame_bytes(self) -> int:
        return self.pacer.bytes

    def _display(self, screen: Any, renderable: Any) -> None:
        sent = trimmed(renderable) if self.trim_output else renderable
        if isinstance(sent, CompositorUpdate) and not self._batch_count:
            self.panels.update(by_widget(sent, screen, self.console))
        super()._display(screen, sent)

    def send_order(self, intent: Any) -> Any:
        self.intent_ns = time.perf_counter_ns()
        return super().send_order(intent)


# -- 3: keypress → order on the wire ------------------------------------------------------------------


@dataclass
class OrderRun:
    """ms from the start (Enter pressed / place() called) to each stage, per path."""

    name: str
    ui_wire: list[float] = field(default_factory=list)
    ui_intent: list[float] = field(default_factory=list)
    ui_sent: list[float] = field(default_factory=list)
    direct_wire: list[float] = field(default_factory=list)


async def orders(
    name: str, app: MeasuredConsole, pilot: Pilot[None], exchange: Exchange, count: int, warmup: int
) -> OrderRun:
    """warmup + 2 × count BTCUSDT 0.01 market orders, UI and direct alternating, one at a time."""
    rt = app.runtime
    assert rt is not None
    run = OrderRun(name)
    if count == 0:
        return run
    exchange.drain()
    for index in range(warmup + 2 * count):
        side = Side.BUY if (index // 2) % 2 == 0 else Side.SELL
        ui = index % 2 == 0
        if ui:
            wall0, t0 = await press_order(app, pilot, side)
        else:
            wall0, t0 = time.time_ns(), time.perf_counter_ns()
            await rt.orders.place("BTCUSDT", side, Decimal("0.01"))
        t1, link = await received(app, exchange)
        await until(
            lambda lk=link: lk in rt.engine.health.timers and rt.engine.health.timers[lk].filled_ns, "the fill", 5
        )
        if index >= warmup:
            if ui:
                run.ui_wire.append((t1 - t0) / 1e6)
                run.ui_intent.append((app.intent_ns - t0) / 1e6)
                run.ui_sent.append((rt.engine.health.timers[link].sent_ns - wall0) / 1e6)
            else:
                run.direct_wire.append((t1 - t0) / 1e6)
    return run


async def received(app: MeasuredConsole, exchange: Exchange) -> tuple[int, str]:
    """The exchange's stamp of the order just sent; a ticket that stayed open says why it did not send."""
    try:
        return await exchange.next_receipt(timeout=15.0)
    except RuntimeError:
        if isinstance(app.screen, OrderFormModal):
            raise RuntimeError(f"the ticket did not send: {app.screen.evaluation.errors}") from None
        ready = app.runtime is not None and app.runtime.client.trade_ready
        raise RuntimeError(f"the exchange received no order (trade WebSocket ready: {ready})") from None


async def press_order(app: MeasuredConsole, pilot: Pilot[None], side: Side) -> tuple[int, int]:
    """With BTCUSDT selected, press b / s, put 0.01 in the quantity, then start the clock and press Enter."""
    table = app.query_one(PositionsTable)
    if table.has_row("BTCUSDT"):
        table.move_cursor(row=table.get_row_index("BTCUSDT"))
    await pilot.press("b" if side is Side.BUY else "s")
    await until(lambda: isinstance(app.screen, OrderFormModal) and bool(app.screen.query("#qty")), "the order form", 5)
    assert app.screen.query_one("#symbol", Input).value == "BTCUSDT"
    form = app.screen
    form.query_one("#qty", Input).insert_text_at_cursor("0.01")  # typed (not timed)
    await pilot.pause()
    wall0, t0 = time.time_ns(), time.perf_counter_ns()
    await pilot.press("enter")
    return wall0, t0


async def settle(app: TuiBotApp, pilot: Pilot[None]) -> None:
    """Stop the bridge and let the app handle what it already posted before the app exits: a table update
    handled while the app tears its screen down fails (the handlers look their widget up on the default
    screen, which is being emptied) and run_test re-raises it."""
    app.workers.cancel_group(app, "bridge")
    await pilot.pause(0.3)


# -- the runs -----------------------------------------------------------------------------------------


def market_showing(app: TuiBotApp) -> bool:
    """Every market panel (quote board, chart, book, tape) is displayed with room on screen."""
    return all(
        (w := app.query_one(panel)).display and w.region.width > 0 and w.region.height > 0 for panel in MARKET_PANELS
    )


async def loaded(args: argparse.Namespace, tmp: Path) -> OrderRun:
    """Parts 1-3 against the 200-symbol exchange: core window, console window (reported at once), then orders in
    that console."""
    exchange = Exchange(symbols(args.symbols), args.step_ms)
    names = exchange.names
    try:
        rt = await start_runtime(exchange.settings(names, tmp / "core.db"))
        try:
            await until(lambda: streaming(rt, names), "the core to stream every symbol")
            await open_positions(rt)
            await asyncio.sleep(args.warmup)
            core = await measure("core (runtime only)", rt, args.seconds, exchange.pid)
        finally:
            await rt.close()

        app = MeasuredConsole(exchange.settings(names, tmp / "console.db"))
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: streaming(app.runtime, names), "the console to stream every symbol")
            assert app.runtime is not None
            await until(lambda: all(s in app.runtime.engine.state.positions for s in POSITIONS), "the positions")
            await asyncio.sleep(args.warmup)
            if not market_showing(app):
                raise RuntimeError("the market view is not fully on screen at the bench size")
            console = await measure("console (app + runtime)", app.runtime, args.seconds, exchange.pid, app)
            report_cpu(core, console, args)
            run = await orders(f"{len(names)} symbols streaming", app, pilot, exchange, args.orders, args.warmup_orders)
            await settle(app, pilot)
        return run
    finally:
        exchange.stop()


async def quiet(args: argparse.Namespace, tmp: Path) -> tuple[OrderRun, list[Window]]:
    """Parts 3 and 4 against a 3-symbol exchange (about 20 msg/s watched): orders in an otherwise idle console,
    then its output at each of SIZES with two positions open."""
    exchange = Exchange(symbols(3), args.step_ms)
    try:
        app = MeasuredConsole(exchange.settings(["BTCUSDT", "ETHUSDT"], tmp / "quiet.db"))
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: streaming(app.runtime, ["BTCUSDT", "ETHUSDT"]), "the console")
            await asyncio.sleep(1.0)
            run = await orders("2 symbols streaming", app, pilot, exchange, args.orders, args.warmup_orders)
            windows = await by_size(app, pilot, exchange, args)
            await settle(app, pilot)
            return run, windows
    finally:
        exchange.stop()


async def by_size(
    app: MeasuredConsole, pilot: Pilot[None], exchange: Exchange, args: argparse.Namespace
) -> list[Window]:
    """Part 4: flat first, then SIZE_POSITIONS opened; one window at each of SIZES (the console resized to it)."""
    rt = app.runtime
    assert rt is not None
    for symbol, pos in list(rt.engine.state.positions.items()):  # part 3 may leave BTCUSDT open either way
        await rt.orders.place(symbol, Side.SELL if pos.side is Side.BUY else Side.BUY, pos.size, reduce_only=True)
    await until(lambda: not rt.engine.state.positions, "the positions to close")
    await open_positions(rt, SIZE_POSITIONS)
    await until(lambda: app.query_one(PositionsTable).row_count == len(SIZE_POSITIONS), "the position rows")
    windows = []
    for width, height in SIZES:
        await pilot.resize_terminal(width, height)
        for budget in (False, True):
            set_budget(app, budget)
            await asyncio.sleep(args.warmup)
            name = f"{width}x{height} {'budget' if budget else 'baseline'}"
            windows.append(await measure(name, rt, args.seconds, exchange.pid, app))
    return windows


# -- report -----------------------------------------------------------------------------------------


def report_cpu(core: Window, console: Window, args: argparse.Namespace) -> None:
    """Parts 1-2, printed as soon as they are measured (a later part that fails does not take them along)."""
    print(
        f"1-2. {args.symbols} symbols stepping every {args.step_ms:.0f} ms in a child process, all watched, "
        f"{len(POSITIONS)} open positions, {SIZE[0]}x{SIZE[1]} with the market view (quote board, chart, book, tape); "
        f"{args.seconds:.0f} s windows; CPU as % of one core"
    )
    print(f"{'':26}{'CPU':>7}{'exchange CPU':>14}{'applied/s':>11}{'frames/s':>10}{'KB/s out':>10}")
    for w in (core, console):
        frames = f"{w.frames:>10.1f}{w.frame_bytes / 1024:>10.1f}" if w is console else f"{'—':>10}{'—':>10}"
        print(f"{w.name:26}{w.cpu:>7.1%}{w.sim_cpu:>14.1%}{w.applied:>11,.0f}{frames}")
    share = console.cpu - core.cpu
    print(
        f"console's share: {share:.1%} of one core (target <= {CPU_TARGET:.0%}: "
        f"{'met' if share <= CPU_TARGET else 'NOT met'}); {console.frames:.1f} refreshes/s",
        flush=True,
    )
    print()


def report_orders(runs: list[OrderRun], args: argparse.Namespace) -> None:
    print(
        f"3. BTCUSDT 0.01 market orders, ms from Enter pressed / place() called to each stage; 'on the wire' is "
        f"the child-process exchange receiving order.create ({args.orders} per path, alternating)"
    )
    print(f"{'console':26}{'path':38}{'n':>4}{'p50':>8}{'p95':>8}{'max':>8}")
    for run in runs:
        rows = (
            ("Enter -> intent reaches the app", run.ui_intent),
            ("Enter -> order service sends", run.ui_sent),
            ("Enter -> on the wire", run.ui_wire),
            ("orders.place() -> on the wire", run.direct_wire),
        )
        for name, values in rows:
            n, p50, p95, top = quantiles(values)
            print(f"{run.name:26}{name:38}{n:>4}{p50:>8.2f}{p95:>8.2f}{top:>8.2f}")
    for run in runs:
        ui50, direct50 = quantiles(run.ui_wire)[1], quantiles(run.direct_wire)[1]
        print(
            f"{run.name}: keypress -> order on the wire p50 {ui50:.2f} ms, {ui50 - direct50:.2f} ms more than "
            f"orders.place (target <= {ORDER_TARGET_MS:.0f} ms: {'met' if ui50 <= ORDER_TARGET_MS else 'NOT met'})"
        )
    print()


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        busy = OrderRun("skipped") if args.sizes_only else await loaded(args, Path(tmp))
        idle, sizes = await quiet(args, Path(tmp))
    if args.orders:
        report_orders([idle, busy], args)
    report_sizes(sizes, args.seconds, SIZE_POSITIONS, OUTPUT_RATIO_TARGET)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument(
        "--step-ms", type=float, default=100.0, help="exchange market step (10 msg/s per symbol at 100)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each CPU window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds streaming before each window")
    parser.add_argument("--orders", type=int, default=20, help="measured orders per path and console (0: no part 3)")
    parser.add_argument("--warmup-orders", type=int, default=2)
    parser.add_argument("--sizes-only", action="store_true", help="part 4 only (with --orders 0: no part 3 either)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    asyncio.run(run(args))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
