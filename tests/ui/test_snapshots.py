"""Snapshot tests: the whole console (TuiBotApp on its local backend) on a seeded embedded exchange, at fixed sizes.

The SVGs under `__snapshots__/test_snapshots/` are the accepted screens; regenerate them after an intended
change with `pytest tests/ui/test_snapshots.py --snapshot-update` and look at every diff.

The runtime is the real one (venue `sim`, real sockets, real signing, the engine, the store and the
bridge); what would differ from run to run or machine to machine is pinned down as follows:

- Market: the exchange is seeded (seed 7) and does not auto-step (`sim.autostep = false`), so prices never
  move: BTCUSDT's book is the seed's starting book and the mark is the seed's starting mark.
- Position: a market BUY 0.010 BTCUSDT with SL 102000 / TP 110000 through the order service fills at the
  seed's ask, 104250.40 (asserted), so entry, fee, margin, equity, uPnL and the day's PnL are fixed.
- Exchange ids: the exchange salts its id generator per run (so a restart never reuses ids); the test
  reseeds it, so the ids of the exchange's TP/SL orders in the Orders table's Id column are fixed.
- Exchange time: the exchange's clock starts at START_MS (a day before the fill, one second into a bar of
  every interval), so the chart's history and live bar are the same every run; just before the order the
  exchange's clock is moved, with its own clock-skew control, to
  FILL_AT_MS (2099-06-01 12:00:00.000 UTC) and the client re-syncs its clock offset the way it does after
  a 10002, so signing still passes; the fill, the position's open time and the TP/SL orders are then
  stamped FILL_AT_MS exactly (the exchange's clock is held there until they are drawn), so the Fills table reads
  12:00:00 (TZ is set to UTC: times are drawn in local time). The jump is forward, so no update looks
  older than one already applied, and a 2099 fill counts as "today" for the header's Day figure.
- Console clock: `now_ns()` (the app's clock seam) is frozen at FILL_AT_MS + 95 s, so the position's Age
  reads 1m and the health panel's ages are fixed.
- Health panel: `health_report()` (the app's seam) returns a constructed snapshot: the live connections'
  real names and states, with fixed state ages, last-frame ages, message rates, ping RTTs and latency
  windows, and a fixed REST summary; the sparkline histories are built once per connection and the
  frozen clock means the panel adds its one-per-second sample exactly once, so every refresh draws the same.
- Log pane: no log handler is attached, so it stays empty (records carry wall-clock times).
- Alert line: latency never alerts (a busy machine's p99 would put a warning there), and an alert that began no
  condition is shown for five minutes of the frozen clock, so the exchange's real-time alerts never are.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.core.conftest import fast_settings, sim_of
from tests.ui.conftest import LocalConsole
from tui_bot.config import Settings
from tui_bot.core.alert_rules import AlertSettings
from tui_bot.core.console_api import HealthReport
from tui_bot.core.market_view import CHART_BARS
from tui_bot.domain.alerts import Alert, AlertKind, Severity
from tui_bot.domain.enums import Side
from tui_bot.domain.events import ConnectionState
from tui_bot.domain.metrics import ConnectionStats, RestStats
from tui_bot.domain.models import Kline
from tui_bot.domain.order_ids import OrderReason
from tui_bot.ui import format as fmt
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.widgets.alert_line import AlertLine
from tui_bot.ui.widgets.chart import CandleChart
from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable

NARROW = (80, 24)
MIDDLE = (120, 36)
WIDE = (200, 60)
BTC = "BTCUSDT"
ENTRY = Decimal("104250.40")  # seed 7's BTCUSDT ask before any step
FILL_AT_MS = calendar.timegm((2099, 6, 1, 12, 0, 0)) * 1000
START_MS = FILL_AT_MS - 86_400_000 + 1_000
"""The exchange's clock starts a day before the fill, a second into a bar, so its candles are the same every run."""
CONSOLE_NOW_NS = (FILL_AT_MS + 95_000) * 1_000_000
MS = 1_000_000


def frozen_connection(name: str) -> ConnectionStats:
    """Fixed figures for one stream: live for 42 s, last frame 150 ms ago, rates, RTT and latency windows."""
    stats = ConnectionStats(
        name, state_changed_ms=CONSOLE_NOW_NS // MS - 42_000, frames=1234, last_frame_ns=CONSOLE_NOW_NS - 150 * MS
    )
    public = name.startswith("public")
    stats.rate.history.extend([10.0 + (i * 7) % 5 if public else float(i % 3 == 0) for i in range(40)])
    for i in range(60):
        stats.latency_ms.add(1.5 + (i * 13) % 7 * 0.5)
        stats.ping_rtt_ms.add(0.4 + (i % 4) * 0.1)
    stats.latency_ms.history.extend([1.5 + (i * 5) % 9 * 0.4 for i in range(40)])
    return stats


def frozen_rest() -> RestStats:
    """A fixed REST summary: calls, no errors, rate-limit remaining and a latency window."""
    rest = RestStats(calls=12, limit_remaining={"get_positions": 49})
    for i in range(12):
        rest.latency_ms.add(2.0 + (i * 5) % 6)
    rest.latency_ms.history.extend([2.0 + (i * 3) % 5 for i in range(20)])
    return rest


class FrozenConsole(LocalConsole):
    """The console with its clock stopped and its health panel fed fixed figures (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.frozen: dict[str, ConnectionStats] = {}
        self.rest_frozen = frozen_rest()
        self.health_refreshes = 0

    chart_history: tuple[Kline, ...] | None = None
    """The chart's bars as loaded before the clock jumps (open_position pins them): a bar from the exchange's
    jumped clock, or a backfill over the jumped day, would otherwise race the snapshot."""

    def now_ns(self) -> int:
        return CONSOLE_NOW_NS

    def draw_chart(self) -> None:
        super().draw_chart()
        if self.chart_history is not None:
            chart = self.query_one(CandleChart)
            chart.apply(chart.title, self.chart_history, chart.levels, chart.instrument)

    def health_report(self) -> HealthReport:
        self.health_refreshes += 1
        live = super().health_report()
        for name, real in live.connections.items():
            self.frozen.setdefault(name, frozen_connection(name)).state = real.state
        return replace(live, connections={name: self.frozen[name] for name in live.connections}, rest=self.rest_frozen)


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Draw local times in UTC (the Fills table's Time column), then restore the zone."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


def console(tmp_path: Path) -> FrozenConsole:
    """A frozen console on venue `sim`, seed 7, no auto-stepping, its DB under tmp_path."""
    settings = fast_settings()
    settings.sim.seed = 7
    settings.sim.autostep = False
    settings.sim.clock_start_ms = START_MS
    settings.storage.db_path = tmp_path / "snap.db"
    settings.alerts = AlertSettings(latency_warning_ms=3_600_000, latency_critical_ms=3_600_000)
    return FrozenConsole(settings)


async def until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def all_live(app: LocalConsole) -> bool:
    rt = app.runtime
    if rt is None or BTC not in rt.engine.state.tickers or rt.engine.state.wallet is None:
        return False
    stats = rt.client.connection_stats()
    return (
        {"private", "trade"} <= set(stats)
        and any(n.startswith("public") for n in stats)
        and all(s.state is ConnectionState.LIVE for s in stats.values())
    )


def shown(app: LocalConsole) -> bool:
    """The filled position, its TP/SL orders, the fill, the new wallet and the day's fee (from the exchange's
    transaction log, not just the stream) are all on screen."""
    assert app.runtime is not None
    summary = app.backend.account_summary() if app.backend is not None else None
    day = app.backend.day_pnl() if app.backend is not None else None
    header = app.query_one(HeaderBar)
    equity = header.query_one("#hdr-equity", Static)
    return (
        day is not None
        and day.fees > 0
        and day.pending == 0
        and str(header.query_one("#hdr-realised", Static).content) == f"Day {fmt.signed_money(day.net)}"
        and app.query_one(PositionsTable).has_row(BTC)
        and app.query_one(OrdersTable).row_count == 2
        and app.query_one(FillsTable).row_count == 1
        and summary is not None
        and str(equity.content) == f"Eq {fmt.money(summary.equity)}"
    )


async def open_position(pilot: Pilot[None]) -> None:
    """Wait for the live console, pin the exchange's ids and clock, buy 0.010 BTCUSDT, wait until drawn."""
    app = pilot.app
    assert isinstance(app, FrozenConsole)
    await until(lambda: all_live(app), "the runtime to be live")
    rt = app.runtime
    assert rt is not None
    sim = sim_of(rt)
    await until(lambda: len(chart_bars(app)) >= CHART_BARS, "the chart's history")  # whole, before the clock jumps
    app.chart_history = chart_bars(app)
    sim.engine._ids.seed("snapshot")  # noqa: SLF001 — the per-run id salt, fixed here
    sim.clock.skew_ms += FILL_AT_MS - sim.clock.now_ms()
    sim.clock.held_ms = FILL_AT_MS  # however slow the machine, the fill is stamped 12:00:00.000
    await rt.client.rest.sync_clock()
    await rt.orders.place(
        BTC,
        Side.BUY,
        Decimal("0.010"),
        stop_loss=Decimal("102000"),
        take_profit=Decimal("110000"),
        reason=OrderReason.MANUAL_ENTRY,
    )
    await until(lambda: shown(app), "the position to be drawn")
    sim.clock.held_ms = None  # time runs on from FILL_AT_MS plus the time held
    pos = rt.engine.state.positions[BTC]
    assert pos.entry_price == ENTRY, "the seeded exchange no longer fills at the known price"
    assert pos.open_time == FILL_AT_MS, "the fill is stamped at the held time"
    refreshes = app.health_refreshes
    await until(lambda: app.health_refreshes > refreshes, "a health refresh after everything went live")
    await layout_settled(pilot)


def chart_bars(app: LocalConsole) -> tuple[Kline, ...]:
    """The bars the chart of the selected symbol draws (empty before its history is loaded)."""
    backend = app.backend
    symbol = backend.selected_symbol() if backend is not None else None
    return backend.candles(symbol, backend.chart_interval()) if backend is not None and symbol else ()


def _widths(app: LocalConsole) -> list[tuple[int, ...]]:
    """Column widths of every table (they are measured lazily, a refresh after rows change)."""
    return [
        tuple(c.get_render_width(t) for c in t.columns.values())
        for t in (app.query_one(PositionsTable), app.query_one(OrdersTable), app.query_one(FillsTable))
    ]


def _cells_fit(table: DataTable[Any]) -> bool:
    """Every cell's text fits its column's width (widths are measured lazily, after rows change)."""
    room = {key: column.get_render_width(table) - 2 * table.cell_padding for key, column in table.columns.items()}
    return all(
        (value.cell_len if isinstance(value, Text) else cell_len(str(value))) <= room[key]
        for row_key in table.rows
        for key, value in zip(table.columns, table.get_row(row_key), strict=True)
    )


async def layout_settled(pilot: Pilot[None]) -> None:
    """Pause until the tables' column widths fit their cells and stay the same across two refreshes."""
    app = pilot.app
    assert isinstance(app, LocalConsole)
    previous = None
    for _ in range(40):
        await pilot.pause(0.05)
        current = _widths(app)
        fits = all(_cells_fit(table) for table in app.query(DataTable))  # quotes, positions, orders, fills
        if current == previous and fits:
            return
        previous = current
    raise AssertionError("table layout did not settle")


async def open_order_form(pilot: Pilot[None]) -> None:
    """The position as above, then `b` with the cursor on it: the order ticket over the console."""
    await open_position(pilot)
    await pilot.press("b")
    await until(lambda: isinstance(pilot.app.screen, OrderFormModal), "the order form")
    form = pilot.app.screen
    for field in form.query(Input):
        field.cursor_blink = False  # a blinking cursor would alternate frames
    for name, value in (("qty", "0.010"), ("sl", "103000.0"), ("tp", "108000.0")):
        form.query_one(f"#{name}", Input).value = value  # the preview: value, margin, gain at TP, loss at SL, R:R
    await pilot.pause()


@pytest.mark.parametrize("size", [NARROW, MIDDLE, WIDE], ids=["80x24", "120x36", "200x60"])
def test_console_with_an_open_position(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """The default screen with one BTCUSDT long (SL/TP), its exchange TP/SL orders and its fill; the market view
    shows the quote board, and from 120 columns the chart with the entry/SL/TP lines, from 140 the book and from
    160 the tape."""
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=open_position)


@pytest.mark.parametrize("size", [NARROW, MIDDLE], ids=["80x24", "120x36"])
def test_order_form_over_the_console(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """The buy ticket opened on the selected position, qty/SL/TP typed: last and mark, the time-in-force,
    reduce-only and trigger rows, and the preview with both fees; at 80×24 the dialog scrolls to its buttons."""
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=open_order_form)


async def open_position_then_shrink(pilot: Pilot[None]) -> None:
    """The position as above at 200×60, then the terminal shrinks to 80×24."""
    await open_position(pilot)
    await pilot.resize_terminal(*NARROW)
    await layout_settled(pilot)


def test_console_resized_from_200x60_to_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """After a resize the layout is the new size's: the same screen as a console started at 80×24."""
    assert snap_compare(console(tmp_path), terminal_size=WIDE, run_before=open_position_then_shrink)


async def open_position_with_a_stale_ticker_and_an_alert(pilot: Pilot[None]) -> None:
    """The position as above; then BTCUSDT's ticker last arrived 12 s ago (its row and the header say so) and a
    connection warning was raised 5 s ago (the alert line shows it)."""
    await open_position(pilot)
    app = pilot.app
    assert isinstance(app, FrozenConsole) and app.runtime is not None and app.runtime.alerts is not None
    for name, stats in app.frozen.items():
        if name.startswith("public"):
            stats.topic_last_ns.update(
                {f"tickers.{BTC}": CONSOLE_NOW_NS - 12_000 * MS, "tickers.ETHUSDT": CONSOLE_NOW_NS - 150 * MS}
            )
    text = "private connection reconnecting for 31s: connection lost"
    app.runtime.alerts.raise_alert(
        Alert(FILL_AT_MS + 90_000, Severity.WARNING, AlertKind.CONNECTION_DOWN, "private", text)
    )
    await until(lambda: app.query_one(PositionsTable).cell(BTC, "stale") == "stale 12s", "the stale row")
    await until(lambda: app.query_one(AlertLine).display, "the alert line")
    await layout_settled(pilot)


@pytest.mark.parametrize("size", [NARROW, MIDDLE], ids=["80x24", "120x36"])
def test_console_with_a_stale_ticker_and_an_alert(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    """The alert line under the header in the warning colour, STALE in the header, the row's mark dimmed."""
    assert snap_compare(
        console(tmp_path), terminal_size=size, run_before=open_position_with_a_stale_ticker_and_an_alert
    )
