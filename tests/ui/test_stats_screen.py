"""The statistics screen: figures beside phantoms, breakdowns and the equity curve, on a report and on the console."""

from __future__ import annotations

import calendar
from dataclasses import replace
from decimal import Decimal

from textual.app import App

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tui_bot.core.stats import GuardLine, StatsReport, equity_curve, phantom_summary, trade_summary
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.store.ops import SavePhantom, SaveTrade
from tui_bot.store.repos import load_trades
from tui_bot.store.rows import PhantomRow, Trade
from tui_bot.ui import format as fmt
from tui_bot.ui.screens.stats_screen import BreakdownTable, FiguresTable, GuardTable, StatsScreen
from tui_bot.ui.styles import ThemeTones
from tui_bot.ui.widgets.equity_curve import EquityCurve, braille_grid, dot_columns

D = Decimal
DAY = calendar.timegm((2026, 3, 1, 0, 0, 0)) * 1000
HOUR = 3_600_000
SIZE = (80, 24)


def closed_trade(n: int, pnl: str, reason: str, symbol: str = "BTCUSDT") -> Trade:
    return Trade(
        open_exec_id=f"stats-{n}",
        symbol=symbol,
        side=Side.BUY,
        status="closed",
        qty=D("0.01"),
        entry_price=D(100000),
        entry_time=DAY + n * HOUR,
        fees=D("0.5"),
        exit_qty=D("0.01"),
        exit_price=D(100000),
        exit_time=DAY + n * HOUR + 60_000,
        pnl=D(pnl),
        exit_reason=reason,
        entry_order_link_id=f"link-{n}",
    )


def closed_phantom(n: int, exit_price: str, outcome: str) -> PhantomRow:
    return PhantomRow(
        id=f"ph-{n}",
        recommendation_id=None,
        symbol="ETHUSDT",
        side=Side.BUY,
        entry=D(100),
        sl=D(95),
        tp=D(110),
        opened_ms=DAY,
        closed_ms=DAY + n * HOUR,
        outcome=outcome,
        exit_price=D(exit_price),
    )


TRADES = [
    closed_trade(1, "30", "take_profit"),
    closed_trade(2, "-10", "stop_loss", "ETHUSDT"),
    closed_trade(3, "20", "take_profit"),
    closed_trade(4, "-5", "manual_exit"),
]
PHANTOMS = [closed_phantom(1, "110", "win"), closed_phantom(2, "95", "loss"), closed_phantom(3, "95", "loss")]


def report() -> StatsReport:
    return StatsReport(trade_summary(TRADES, {}), phantom_summary(PHANTOMS), equity_curve(TRADES))


class Host(ThemeTones, App[None]):
    """Opens the stats screen at once and records what it returns."""

    def __init__(self, screen: StatsScreen) -> None:
        super().__init__()
        self.stats = screen
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.stats, self.results.append)


def figure(screen: StatsScreen, row: str, column: str) -> str:
    return screen.query_one(FiguresTable).cell(row, column)


async def test_figures_side_by_side_breakdowns_and_curve_at_80x24() -> None:
    async def load() -> StatsReport:
        return report()

    app = Host(StatsScreen(load))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.stats
        await wait_for(lambda: screen.report is not None)
        await pilot.pause()
        assert figure(screen, "count", "trades") == "4" and figure(screen, "count", "phantoms") == "3"
        assert figure(screen, "win_rate", "trades") == "50.0%" and figure(screen, "win_rate", "phantoms") == "33.3%"
        assert figure(screen, "profit_factor", "trades") == "3.33"  # 50 / 15
        assert figure(screen, "profit_factor", "phantoms") == "1.00"  # +10 / (5 + 5)
        assert figure(screen, "avg_r", "trades") == "—" and figure(screen, "avg_r", "phantoms") == "0.00R"
        assert figure(screen, "best", "trades") == "+30.00" and figure(screen, "worst", "trades") == "-10.00"
        assert figure(screen, "total", "trades") == "+35.00"
        reasons = screen.query_one("#stats-by-reason", BreakdownTable)
        assert reasons.keys() == ["loss", "manual_exit", "stop_loss", "take_profit", "win"]
        assert reasons.row_texts("take_profit") == {
            "key": "take_profit",
            "trades": "2",
            "trade_pnl": "+50.00",
            "phantoms": "—",
            "phantom_pnl": "—",
        }
        assert reasons.row_texts("loss")["phantom_pnl"] == "-10.00"
        assert screen.query_one("#stats-by-symbol", BreakdownTable).keys() == ["BTCUSDT", "ETHUSDT"]
        curve = screen.query_one(EquityCurve)
        assert [v for _, v in curve.points] == [D(30), D(20), D(40), D(35)]
        assert "last +35.00" in str(curve.render())
        assert curve.region.right <= SIZE[0] and curve.region.height >= 3
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
    assert app.results == [None]


async def test_empty_store_shows_dashes_and_the_empty_curve_note() -> None:
    async def load() -> StatsReport:
        return StatsReport(trade_summary([], {}), phantom_summary([]), [])

    app = Host(StatsScreen(load))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.stats
        await wait_for(lambda: screen.report is not None)
        await pilot.pause()
        assert figure(screen, "count", "trades") == "0" and figure(screen, "win_rate", "trades") == "—"
        assert str(screen.query_one(EquityCurve).render()) == "No closed trades yet"
        await pilot.press("q")
        await pilot.pause()
    assert app.results == [None]


async def test_a_failed_load_is_shown_not_raised() -> None:
    async def load() -> StatsReport:
        raise RuntimeError("database is closed")

    app = Host(StatsScreen(load))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wait_for(lambda: "database is closed" in str(app.stats.query_one("#stats-hint").render()))


def test_curve_grid_draws_one_connected_line() -> None:
    grid, ends = braille_grid([0.0, 10.0, -10.0, 5.0], 6, 2)
    assert len(grid) == 2 and all(len(row) == 6 for row in grid)
    assert all(any(grid[y][x] for y in range(2)) for x in range(6))  # every column has a dot
    assert ends[0] >= 0 and ends[-1] == 5.0
    assert len(dot_columns(list(map(float, range(100))), 10)) == 10  # more points than columns
    assert dot_columns([], 10) == []


async def test_p_opens_stats_of_the_stored_trades_and_phantoms(console: Console) -> None:
    async with console(size=SIZE) as (app, pilot):
        rt = app.runtime
        assert rt is not None
        for trade in TRADES:
            rt.writer.enqueue(SaveTrade(trade))
        for phantom in PHANTOMS:
            rt.writer.enqueue(SavePhantom(phantom))
        await rt.writer.flush()
        assert len(await load_trades(rt.conn, "closed")) >= len(TRADES)
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen.report is not None)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await pilot.pause()
        assert figure(screen, "count", "trades") == "4" and figure(screen, "win_rate", "trades") == "50.0%"
        assert figure(screen, "count", "phantoms") == "3" and figure(screen, "win_rate", "phantoms") == "33.3%"
        assert len(screen.query_one(EquityCurve).points) == 4
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, StatsScreen))


async def test_the_stats_show_each_bots_trades_and_pnl(console: Console) -> None:
    bots = ["b1", "b2", "b1", None]
    trades = [replace(trade, bot=bot) for trade, bot in zip(TRADES, bots, strict=True)]
    async with console(size=SIZE) as (app, pilot):
        rt = app.runtime
        assert rt is not None
        for trade in trades:
            rt.writer.enqueue(SaveTrade(trade))
        await rt.writer.flush()
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen.report is not None)
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        await pilot.pause()
        by_bot = screen.query_one("#stats-by-bot", BreakdownTable)
        assert by_bot.keys() == ["-", "b1", "b2"]
        assert by_bot.row_texts("b1") == {
            "key": "b1",
            "trades": "2",
            "trade_pnl": "+50.00",
            "phantoms": "—",
            "phantom_pnl": "—",
        }
        assert by_bot.row_texts("b2")["trade_pnl"] == "-10.00" and by_bot.row_texts("-")["trade_pnl"] == "-5.00"
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, StatsScreen))


async def test_a_round_trip_with_a_stop_shows_its_r(console: Console) -> None:
    async with console(size=SIZE) as (app, pilot):
        rt = app.runtime
        assert rt is not None
        mark = rt.engine.state.tickers["BTCUSDT"].last_price
        assert mark is not None
        stop = (mark * D("0.98")).quantize(D("0.1"))
        await rt.orders.place("BTCUSDT", Side.BUY, D("0.01"), stop_loss=stop, reason=OrderReason.MANUAL_ENTRY)
        await wait_for(lambda: "BTCUSDT" in rt.engine.state.positions, timeout=5.0)
        await rt.orders.close_position("BTCUSDT")
        await wait_for(lambda: "BTCUSDT" not in rt.engine.state.positions, timeout=5.0)
        await pilot.pause(0.3)
        await rt.writer.flush()
        [trade] = await load_trades(rt.conn, "closed")
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen.report is not None)
        screen = app.screen
        assert isinstance(screen, StatsScreen) and screen.report is not None
        assert screen.report.trades.count == 1 and screen.report.trades.avg_r is not None
        assert figure(screen, "avg_r", "trades").endswith("R")
        assert figure(screen, "total", "trades") == fmt.signed_money(trade.pnl)


async def test_the_win_rate_guard_shows_each_strategy_and_hides_without_a_bot() -> None:
    reason = "WR guard: range_breakout 31% < 35% over 200"
    guarded = [
        GuardLine("ema_trend", 0.55, 120, False, 0, ""),
        GuardLine("range_breakout", 0.31, 200, True, 4, reason),
    ]
    reports = [replace(report(), guard=tuple(guarded)), report()]

    async def load() -> StatsReport:
        return reports.pop(0)

    app = Host(StatsScreen(load))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.stats
        await wait_for(lambda: screen.report is not None)
        await pilot.pause()
        table = screen.query_one("#stats-guard", GuardTable)
        assert table.display and table.keys() == ["ema_trend", "range_breakout"]
        assert table.row_texts("range_breakout") == {
            "strategy": "range_breakout",
            "win_rate": "31.0%",
            "sample": "200",
            "state": "blocked",
            "blocked_today": "4",
        }
        assert table.row_texts("ema_trend")["state"] == "trading"
        assert table.row_texts("ema_trend")["blocked_today"] == "—"
        await pilot.press("r")
        await wait_for(lambda: screen.report is not None and not screen.report.guard)
        await pilot.pause()
        assert not table.display and not screen.query_one("#stats-guard-heading").display
