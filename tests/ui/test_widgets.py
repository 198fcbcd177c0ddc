"""Console widgets hosted in a tiny App: keyed in-place reconcile, cursor survival, caps, texts and classes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

from rich.color import Color as RichColor
from textual.app import App, ComposeResult
from textual.color import Color
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Sparkline, Static
from textual.widgets.data_table import ColumnKey

from tui_bot.core.health import TaskHealth
from tui_bot.core.state import PositionMarked
from tui_bot.domain.enums import (
    CreateType,
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
)
from tui_bot.domain.events import ConnectionState, StreamMode
from tui_bot.domain.market import AccountSummary, DayPnl
from tui_bot.domain.metrics import NS_PER_S, ConnectionStats, RestStats
from tui_bot.domain.models import Execution, Instrument, Order, Position
from tui_bot.domain.recommendations import Recommendation
from tui_bot.ui import format as fmt
from tui_bot.ui.styles import APP_CSS, ThemeTones
from tui_bot.ui.widgets import (
    FillsTable,
    HeaderBar,
    HealthPanel,
    LogPane,
    OrdersTable,
    PositionsTable,
    RecommendationsTable,
)
from tui_bot.ui.widgets.book import MarketPanel
from tui_bot.ui.widgets.cells import LiveTable

NOW_MS = 1_700_000_000_000
BTC = Instrument(
    "BTCUSDT", "BTC", "USDT", D("0.10"), D("0.10"), D("1999999"), D("0.001"), D("0.001"), D("100"), D("100"), D("5")
)


class Host(ThemeTones, App[None]):
    """Hosts one widget with the real stylesheet."""

    CSS_PATH = APP_CSS

    def __init__(self, widget: Widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


def _pos(
    symbol: str, entry: str = "100", mark: str = "110", size: str = "1", side: Side = Side.BUY, sl: str = "0"
) -> Position:
    return Position(symbol, side, D(size), D(entry), mark_price=D(mark), stop_loss=D(sl), open_time=NOW_MS - 90_000)


def _order(oid: str, status: OrderStatus = OrderStatus.NEW, **kw: object) -> Order:
    return Order(
        oid,
        f"tb-en-x-{oid}",
        "BTCUSDT",
        Side.BUY,
        OrderType.LIMIT,
        D("0.010"),
        D("65000.1"),
        TimeInForce.GTC,
        status,
        1,
        2,
        **kw,
    )  # type: ignore[arg-type]


def _fill(exec_id: str, t: int, link: str = "", closed: str = "0", pnl: str = "0", **kw: object) -> Execution:
    return Execution(
        exec_id,
        "o1",
        link,
        "BTCUSDT",
        Side.SELL,
        ExecType.TRADE,
        D("65000.1"),
        D("0.010"),
        D("650"),
        D("0.3575"),
        D("0.00055"),
        t,
        False,
        OrderType.MARKET,
        D("0"),
        D("0.01"),
        D("0"),
        D(closed),
        D(pnl),
        D("65000"),
        D("65000"),
        1,
        **kw,
    )  # type: ignore[arg-type]


def _theme_colour(app: App[None], name: str) -> RichColor:
    return Color.parse(app.theme_variables[name]).rich_color


# -- format ------------------------------------------------------------------------------------


def test_format_helpers() -> None:
    assert fmt.price(D("65000.1"), BTC) == "65000.10" and fmt.price(D("0"), BTC) == fmt.DASH
    assert fmt.qty(D("0.01"), BTC) == "0.010" and fmt.money(D("12345.678")) == "12,345.68"
    assert fmt.signed_money(D("1.5")) == "+1.50" and fmt.signed_money(D("-0.001")) == "0.00"
    assert fmt.percent(D("-2.5")) == "-2.50%"
    assert [fmt.age(x) for x in (500, 3_000, 120_000, 3_600_000, None)] == ["500ms", "3s", "2m", "1h", fmt.DASH]
    assert fmt.state_dot(ConnectionState.LIVE) == "●"
    assert fmt.r_multiple(Side.SELL, D("100"), D("95"), D("110")) == "+0.50R"
    assert fmt.r_multiple(Side.BUY, D("100"), D("95"), D("0")) == fmt.DASH
    assert fmt.short_id("", "0123456789abcdef") == "01234567"
    assert fmt.millis_pair(3.21, 18.4) == "3.2/18ms"
    assert [fmt.count_of(n, "position") for n in (0, 1, 2)] == ["0 positions", "1 position", "2 positions"]


# -- positions ---------------------------------------------------------------------------------


async def test_positions_update_in_place_keeps_cursor_and_scroll() -> None:
    table = PositionsTable(now_ms=lambda: NOW_MS)
    app = Host(table)
    async with app.run_test(size=(160, 10)) as pilot:
        positions = {f"S{i:02d}USDT": _pos(f"S{i:02d}USDT") for i in range(30)}
        table.apply_positions(positions, {})
        await pilot.pause()
        table.focus()
        table.move_cursor(row=20)
        await pilot.pause()
        scroll_y = table.scroll_y
        assert table.selected_symbol == "S20USDT" and scroll_y > 0

        changed = dict(positions)
        changed["S05USDT"] = _pos("S05USDT", size="2")
        changed["NEWUSDT"] = _pos("NEWUSDT")
        table.apply_positions(changed, {})
        await pilot.pause()
        assert table.keys()[:30] == list(positions) and table.keys()[-1] == "NEWUSDT"
        assert table.cell("S05USDT", "size") == "2"
        assert (table.cursor_row, table.scroll_y, table.selected_symbol) == (20, scroll_y, "S20USDT")

        del changed["S01USDT"]  # a row above the cursor goes: the cursor stays on the same symbol
        table.apply_positions(changed, {})
        await pilot.pause()
        assert not table.has_row("S01USDT") and table.row_count == 30
        assert table.selected_symbol == "S20USDT"


async def test_positions_cells_and_flat_positions() -> None:
    clock = [NOW_MS]
    table = PositionsTable(now_ms=lambda: clock[0])
    app = Host(table)
    async with app.run_test(size=(160, 10)) as pilot:
        flat = Position("ETHUSDT")
        table.apply_positions(
            {"BTCUSDT": _pos("BTCUSDT", "60000", "61000", "0.01", sl="59000"), "ETHUSDT": flat}, {"BTCUSDT": BTC}
        )
        await pilot.pause()
        row = table.row_texts("BTCUSDT")
        assert table.keys() == ["BTCUSDT"]
        assert row["side"] == "Long" and row["size"] == "0.010" and row["entry"] == "60000.00"
        assert row["upnl"] == "+10.00" and row["r"] == "+1.00R" and row["sl"] == "59000.00"
        assert row["tp"] == fmt.DASH and row["age"] == "1m" and row["stage"] == fmt.DASH
        clock[0] += 3_600_000
        table.refresh_ages()
        assert table.cell("BTCUSDT", "age") == "1h"
        table.set_stage("BTCUSDT", "stage 2")
        assert table.cell("BTCUSDT", "stage") == "stage 2"
        cell = table.get_cell("BTCUSDT", "upnl")
        assert cell.tone == "up"
        assert table.tone_style("up").color == _theme_colour(app, "success")
        assert table.tone_style("down").color == _theme_colour(app, "error")
        app.theme = "nord"  # colours follow a theme switch without re-applying data
        await pilot.pause()
        assert table.tone_style("up").color == _theme_colour(app, "success")


async def test_marks_update_only_mark_cells() -> None:
    table = PositionsTable(now_ms=lambda: NOW_MS)
    app = Host(table)
    async with app.run_test(size=(160, 10)) as pilot:
        table.apply_positions({"BTCUSDT": _pos("BTCUSDT", "100", "110", sl="90")}, {})
        await pilot.pause()
        before = table.row_texts("BTCUSDT")
        table.apply_marks(
            [PositionMarked("BTCUSDT", D("95"), D("-5"), D("-50")), PositionMarked("XRPUSDT", D("1"), D("1"), D("1"))]
        )
        await pilot.pause()
        after = table.row_texts("BTCUSDT")
        changed = {k for k in before if before[k] != after[k]}
        assert changed == {"mark", "upnl", "upnl_pct", "r"}
        assert (after["mark"], after["upnl"], after["upnl_pct"], after["r"]) == ("95", "-5.00", "-50.00%", "-0.50R")
        assert table.get_cell("BTCUSDT", "upnl").tone == "down"
        assert not table.has_row("XRPUSDT")


class PriceTable(LiveTable):
    COLUMNS = (("symbol", "Symbol"), ("last", "Last"))


def _screen_text(app: App[None]) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_a_changed_cell_repaints_its_line_only_and_an_off_screen_row_nothing() -> None:
    table = PriceTable()
    app = Host(table)
    async with app.run_test(size=(40, 8)) as pilot:
        for i in range(30):
            table.set_row(f"S{i:02}", {"symbol": f"S{i:02}", "last": "100.0"})
        await pilot.pause()
        table.set_row("S02", {"symbol": "S02", "last": "101.5"})
        assert [(r.y, r.height) for r in table._repaint_regions] == [(3, 1)], "the header, then S00..S02: line 3"
        await pilot.pause()
        assert "S02     101.5" in _screen_text(app)
        table.set_row("S29", {"symbol": "S29", "last": "99.5"})
        assert not table._repaint_regions, "a row below the window is stored, not repainted"
        table.scroll_end(animate=False)
        await pilot.pause()
        assert "S29     99.5" in _screen_text(app) and table.cell("S29", "last") == "99.5"
        await pilot.pause()
        for i in range(22, 29):
            table.set_row(f"S{i:02}", {"symbol": f"S{i:02}", "last": "98.0"})
        assert [r.size for r in table._repaint_regions] == [table.outer_size], "many lines in a frame: once, whole"
        await pilot.pause()
        table.set_row("S28", {"symbol": "S28", "last": "100000.25"})
        await pilot.pause()
        assert "S28     100000.25" in _screen_text(app), "a wider value widens its column"


class _Modal(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Static("a dialog")


async def test_a_row_changed_after_a_dialog_closed_still_reaches_the_terminal() -> None:
    """A whole-table repaint asked for under a dialog is never taken by the compositor; the next changed line must
    still schedule a frame (it did not: every later change waited on that stale request, the table froze)."""
    table = PriceTable()
    app = Host(table)
    async with app.run_test(size=(40, 8)) as pilot:
        for i in range(3):
            table.set_row(f"S{i:02}", {"symbol": f"S{i:02}", "last": "100.0"})
        await pilot.pause()
        app.push_screen(_Modal())
        await pilot.pause()
        table.refresh()  # e.g. a column widened while the dialog was up
        app.pop_screen()
        await pilot.pause()
        table.set_row("S01", {"symbol": "S01", "last": "102.5"})
        await pilot.pause()
        assert not table._repaint_regions, "the changed line was painted (nothing left waiting)"


async def test_a_market_panel_repaints_only_the_lines_that_changed() -> None:
    panel = MarketPanel()
    app = Host(panel)
    async with app.run_test(size=(40, 8)) as pilot:
        levels: list[tuple[tuple[str, str], ...]] = [
            ((f"{100 + i}.0", "bid"), (" │ ", "muted"), ("1.5", "ask")) for i in range(5)
        ]
        panel.show(levels, "")
        await pilot.pause()
        moved: list[tuple[tuple[str, str], ...]] = [
            *levels[:3],
            (("103.0", "bid"), (" │ ", "muted"), ("2.5", "ask")),
            levels[4],
        ]
        panel.show(moved, "")
        assert [(r.y, r.height) for r in panel._repaint_regions] == [(3, 1)]
        await pilot.pause()
        assert "103.0 │ 2.5" in _screen_text(app)
        panel.show(moved[:2], "")
        assert [(r.y, r.height) for r in panel._repaint_regions] == [(0, 8)], "fewer lines: the whole panel"


# -- orders ------------------------------------------------------------------------------------


async def test_orders_reconcile_by_order_id() -> None:
    table = OrdersTable()
    app = Host(table)
    async with app.run_test(size=(160, 10)) as pilot:
        tp = _order(
            "o2",
            OrderStatus.UNTRIGGERED,
            stop_order_type=StopOrderType.TAKE_PROFIT,
            trigger_price=D("70000"),
            reduce_only=True,
        )
        table.apply_orders({"o1": _order("o1"), "o2": tp}, {"BTCUSDT": BTC})
        await pilot.pause()
        table.move_cursor(row=1)
        await pilot.pause()
        assert table.selected_order_id == "o2" and table.selected_order is tp
        row = table.row_texts("o2")
        assert (row["kind"], row["trigger"], row["reduce"], row["status"]) == ("TP", "70000.00", "yes", "Untriggered")
        assert table.row_texts("o1")["id"] == "tb-en-x-o1" and table.row_texts("o1")["kind"] == ""

        partial = _order("o1", OrderStatus.PARTIALLY_FILLED, cum_exec_qty=D("0.004"))
        table.apply_orders({"o1": partial, "o2": tp, "o3": _order("o3")}, {"BTCUSDT": BTC})
        await pilot.pause()
        assert table.keys() == ["o1", "o2", "o3"] and table.cell("o1", "qty") == "0.006/0.010"
        assert table.selected_order_id == "o2"

        table.apply_orders({"o2": tp, "o3": _order("o3", OrderStatus.FILLED)}, {"BTCUSDT": BTC})
        await pilot.pause()
        assert table.keys() == ["o2"] and table.selected_order_id == "o2"


# -- fills -------------------------------------------------------------------------------------


async def test_fills_newest_first_dedupe_and_cap() -> None:
    table = FillsTable(max_rows=5)
    app = Host(table)
    async with app.run_test(size=(160, 12)) as pilot:
        table.add_fills([_fill("e1", NOW_MS), _fill("e2", NOW_MS + 1000)], {"BTCUSDT": BTC})
        table.add_fills([_fill("e2", NOW_MS + 1000)], {"BTCUSDT": BTC})
        await pilot.pause()
        assert table.keys() == ["e2", "e1"]
        table.add_fills([_fill(f"n{i}", NOW_MS + 2000 + i) for i in range(4)], {"BTCUSDT": BTC})
        await pilot.pause()
        assert table.row_count == 5 and table.keys() == ["n3", "n2", "n1", "n0", "e2"]
        assert table.cursor_row == 0 and table.selected_exec_id == "n3"

        table.move_cursor(row=2)
        table.add_fills([_fill("late", NOW_MS + 9000)], {"BTCUSDT": BTC})
        await pilot.pause()
        assert table.selected_exec_id == "n1" and table.keys()[0] == "late"


async def test_fill_cells_reason_and_gross_pnl() -> None:
    """A closing fill's PnL column is the exchange's gross execPnl (labelled so; the fee is its own column), and a
    ticket order that reduced a position reads as an exit, not as the "Manual entry" its orderLinkId says."""
    table = FillsTable()
    app = Host(table)
    async with app.run_test(size=(160, 12)) as pilot:
        table.add_fills(
            [
                _fill("open", NOW_MS, link="tb-me-lq3k-1"),
                _fill(
                    "tp",
                    NOW_MS + 1,
                    closed="0.01",
                    pnl="10",
                    create_type=CreateType.BY_TAKE_PROFIT,
                    stop_order_type=StopOrderType.TAKE_PROFIT,
                ),
                _fill("reduce", NOW_MS + 2, link="tb-me-lq3k-2", closed="0.01", pnl="-3"),
            ],
            {"BTCUSDT": BTC},
        )
        await pilot.pause()
        assert table.columns[ColumnKey("gross")].label.plain == "Gross PnL"
        opening, closing, reducing = table.row_texts("open"), table.row_texts("tp"), table.row_texts("reduce")
        assert (opening["reason"], opening["gross"], opening["fee"]) == ("Manual entry", fmt.DASH, "0.3575")
        assert (closing["reason"], closing["gross"], closing["price"]) == ("TP", "+10.00", "65000.10")
        assert (reducing["reason"], reducing["gross"]) == ("Manual exit", "-3.00")
        assert closing["time"] == fmt.clock(NOW_MS + 1) and table.get_cell("tp", "gross").tone == "up"


# -- recommendations ---------------------------------------------------------------------------


def recommendation(rec_id: str, created_ms: int, **changes: object) -> Recommendation:
    """A pending BTCUSDT long idea (entry 100, SL 90, TP 120, conf 0.5), with the given fields changed."""
    rec = Recommendation(
        id=rec_id,
        cycle_id="c",
        symbol="BTCUSDT",
        side=Side.BUY,
        confidence=D("0.5"),
        entry=D("100"),
        stop_loss=D("90"),
        take_profit=D("120"),
        rr=D("2"),
        strategy="s",
        strategy_version="1",
        reasoning="",
        status="pending",
        created_ms=created_ms,
        updated_ms=created_ms,
    )
    return dataclasses.replace(rec, **changes)


async def test_recommendations_empty_state() -> None:
    table = RecommendationsTable()
    app = Host(table)
    async with app.run_test(size=(120, 8)) as pilot:
        table.apply_recommendations([])
        await pilot.pause()
        assert table.empty_state_shown and table.has_class("-empty")
        assert "No recommendations yet" in table.render_line(1).text
        rec = recommendation(
            "7",
            0,
            confidence=D("0.72"),
            entry=D("65000"),
            stop_loss=D("64000"),
            take_profit=D("68000"),
            rr=D("3"),
            strategy="breakout",
        )
        table.apply_recommendations([rec])
        await pilot.pause()
        assert not table.empty_state_shown and not table.has_class("-empty") and table.keys() == ["7"]
        assert table.row_texts("7")["confidence"] == "72%" and table.selected_recommendation is rec
        table.apply_recommendations([])
        await pilot.pause()
        assert table.empty_state_shown and table.row_count == 0


# -- header ------------------------------------------------------------------------------------


async def test_header_texts_and_classes() -> None:
    header = HeaderBar()
    app = Host(header)
    async with app.run_test(size=(120, 3)) as pilot:
        header.set_venue("demo", False)
        header.set_mode(StreamMode.POLL)
        header.apply_account(
            AccountSummary(
                wallet_balance=D("10512.8"),
                unrealised_pnl=D("-12.3"),
                equity=D("10500.5"),
                available=D("9000"),
                initial_margin=D("0"),
                positions=1,
            )
        )
        header.apply_day(DayPnl(day_start_ms=0, net=D("42"), gross=D("43"), fees=D("1"), funding=D("0"), as_of_ms=1))
        header.set_tightening(True)
        await pilot.pause()
        texts = {w.id: str(w.content).strip() for w in header.query(Static)}
        assert texts == {
            "hdr-venue": "DEMO",
            "hdr-mode": "POLL",
            "hdr-stale": "",
            "hdr-equity": "Eq 10,500.50",
            "hdr-available": "Avail 9,000.00",
            "hdr-upnl": "uPnL -12.30",
            "hdr-realised": "Day +42.00",
            "hdr-tightening": "Tighten ON",
        }
        assert header.mode_badge.has_class("-poll") and header.upnl_figure.has_class("pnl-down")
        assert header.realised_figure.has_class("pnl-up") and header.tightening_badge.has_class("-on")
        assert not header.venue_badge.has_class("-live-money")
        assert header.upnl_figure.styles.color == Color.parse(app.theme_variables["error"])

        header.set_venue("MAINNET", True)
        header.set_mode(StreamMode.STREAM)
        await pilot.pause()
        assert str(header.venue_badge.content).strip() == "LIVE" and header.venue_badge.has_class("-live-money")
        assert header.venue_badge.styles.background == Color.parse(app.theme_variables["error"])
        assert not header.mode_badge.has_class("-poll")

        assert not header.stale_badge.display
        header.set_stale({"tickers.BTCUSDT": 12_400.0, "tickers.ETHUSDT": 6_000.0})
        assert header.stale_badge.display and str(header.stale_badge.content).strip() == "STALE tickers 12s"
        header.set_stale({})
        assert not header.stale_badge.display


# -- health ------------------------------------------------------------------------------------


def _stats(name: str, now_ns: int, age_s: float) -> ConnectionStats:
    stats = ConnectionStats(name)
    stats.record_state(ConnectionState.LIVE, now_ns // 1_000_000 - 65_000)
    stats.reconnects = 2
    for i in range(5):
        stats.record_frame(now_ns - int((age_s + 1 + i * 0.1) * NS_PER_S))
    stats.record_frame(now_ns - int(age_s * NS_PER_S))
    stats.latency_ms.add(12.0)
    stats.ping_rtt_ms.add(3.0)
    return stats


async def test_health_lines_texts_stale_and_narrow() -> None:
    panel = HealthPanel()
    app = Host(panel)
    async with app.run_test(size=(160, 10)) as pilot:
        now = NOW_MS * 1_000_000
        stats = {"private": _stats("private", now, 10), "public-1": _stats("public-1", now, 0.2)}
        rest = RestStats(calls=3, errors_by_code={10006: 1}, rate_limit_retries=1)
        rest.latency_ms.add(80.0)
        panel.refresh_health(stats, rest, now)
        await pilot.pause()
        assert list(panel.lines) == ["public-1", "private", "rest"]
        assert [line.connection for line in panel.query("HealthLine")] == ["public-1", "private", "rest"]
        public = panel.lines["public-1"]
        assert public.text.startswith("public-1  live 1m  ↻2  last 200ms") and "lat 12/12ms" in public.text
        assert "rtt 3.0ms" in public.text and public.has_class("-live") and not public.has_class("stale")
        assert not panel.lines["private"].has_class("stale")  # 10 s is quiet, not stale, for private
        assert "err 1 (10006×1)  rate-limited 1" in panel.lines["rest"].text
        spark = public.query_one(".latency-spark", Sparkline)
        assert spark.data == [12.0] and public.spark_row.display and public.spark_row.region.height == 1

        later = now + 6 * NS_PER_S
        panel.refresh_health(stats, rest, later)
        await pilot.pause()
        assert public.has_class("stale") and "last 6s" in public.text
        assert public.latency_spark.data == [12.0, 12.0]
        assert len(public.rate_spark.data or []) >= 6
        assert not panel.lines["private"].has_class("stale")
        panel.refresh_health(stats, rest, later + 30 * NS_PER_S)
        await pilot.pause()
        assert panel.lines["private"].has_class("stale")

        panel.add_class("-narrow")
        await pilot.pause()
        assert not public.spark_row.display and public.region.height == 1

        panel.refresh_store(later / 1e9 - 12, "database is locked", 340, later)
        await pilot.pause()
        assert list(panel.lines)[-2:] == ["rest", "db"] and panel.lines["db"].has_class("-down")
        assert panel.lines["db"].text == "DB  writes failing 12s  queued 340  database is locked"
        panel.refresh_health(stats, rest, later)
        assert "db" in panel.lines, "refreshing the connections must keep the DB line"
        panel.refresh_store(None, None, 0, later)  # writes recovered
        await pilot.pause()
        assert "db" not in panel.lines and len(panel.query("HealthLine")) == 3

        down = dataclasses.replace(stats["public-1"])
        down.record_state(ConnectionState.DOWN, later // 1_000_000)
        panel.refresh_health({"public-1": down}, None, later + 31 * NS_PER_S)
        await pilot.pause()
        assert list(panel.lines) == ["public-1"] and public.has_class("-down") and not public.has_class("-live")
        assert len(panel.query("HealthLine")) == 1


async def test_health_tasks_line_shows_failing_and_died_tasks_last_and_goes_when_they_are_fine() -> None:
    panel = HealthPanel()
    app = Host(panel)
    tasks = TaskHealth()
    tasks.failed("engine-resync", "FrameError: bad number in avgPrice: 'abc'", NOW_MS - 3_000)
    tasks.failed("engine-resync", "FrameError: bad number in avgPrice: 'abc'", NOW_MS - 2_000)
    tasks.ended("engine-consume", "returned without an error", NOW_MS)
    async with app.run_test(size=(200, 10)) as pilot:
        now = NOW_MS * 1_000_000
        panel.refresh_tasks(tasks.lines(NOW_MS))
        panel.refresh_store(now / 1e9 - 12, "database is locked", 3, now)
        panel.refresh_health({"private": _stats("private", now, 1)}, RestStats(), now)
        await pilot.pause()
        assert list(panel.lines) == ["tasks", "db", "private", "rest"]
        assert [line.connection for line in panel.query("HealthLine")] == ["private", "rest", "db", "tasks"]
        line = panel.lines["tasks"]
        assert line.text == (
            "Tasks  engine-consume died (returned without an error)  "
            "engine-resync failing 2× (FrameError: bad number in avgPrice: 'abc'), last 2s ago"
        )
        assert line.has_class("-down")
        tasks.troubles.clear()
        panel.refresh_tasks(tasks.lines(NOW_MS))
        await pilot.pause()
        assert "tasks" not in panel.lines and len(panel.query("HealthLine")) == 3


# -- log pane ----------------------------------------------------------------------------------


async def test_log_pane_levels_and_cap() -> None:
    pane = LogPane(max_lines=5)
    app = Host(pane)
    async with app.run_test(size=(100, 10)) as pilot:
        for i in range(8):
            pane.write_record("INFO", f"line {i}")
        pane.write_record("ERROR", "boom")
        await pilot.pause()
        assert pane.records == 9 and len(pane.lines) == 5
        assert pane.lines[-1].text.startswith("ERRO boom")
        assert pane.level_style("ERROR").color == _theme_colour(app, "error")


async def test_recommendations_newest_first_and_updated_in_place() -> None:
    table = RecommendationsTable()
    app = Host(table)
    async with app.run_test(size=(120, 8)) as pilot:

        def rec(rec_id: str, created: int, status: str = "pending") -> Recommendation:
            return recommendation(rec_id, created, status=status)

        app.set_focus(None)
        table.apply_recommendations([rec("old", 1)])
        await pilot.pause()
        table.apply_recommendations([rec("old", 1), rec("new", 2)])
        await pilot.pause()
        assert table.keys() == ["new", "old"]
        table.apply_recommendations([rec("old", 1, "expired"), rec("new", 2, "executed")])
        await pilot.pause()
        assert table.keys() == ["new", "old"] and table.row_texts("old")["status"] == "expired"
        assert table.selected_key == "new"
        table.focus()
        await pilot.pause()
        table.move_cursor(row=1)
        table.apply_recommendations([rec("old", 1, "expired"), rec("new", 2, "executed"), rec("newer", 3)])
        await pilot.pause()
        assert table.keys() == ["newer", "new", "old"] and table.selected_key == "old"


async def test_recommendation_shows_why_it_was_rejected() -> None:
    table = RecommendationsTable()
    app = Host(table)
    async with app.run_test(size=(200, 8)) as pilot:
        table.apply_recommendations(
            [
                recommendation(
                    "r", 0, confidence=D("0.4"), status="rejected", fate="confidence 0.40 below the minimum 0.60"
                )
            ]
        )
        await pilot.pause()
        assert table.row_texts("r")["fate"] == "confidence 0.40 below the minimum 0.60"
