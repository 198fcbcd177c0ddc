"""The terminal output budget: frames sent from the first changed cell with one SGR per style run, table rows
repainted cell by cell, and the large book and tape painting less often while positions move at ticker speed."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

from rich.console import Console as RichConsole
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tests.ui.test_widgets import NOW_MS, Host, _pos
from tui_bot.core.state import PositionMarked
from tui_bot.domain.enums import Side
from tui_bot.ui.output import trimmed
from tui_bot.ui.widgets.book import BookPanel, TradesPanel, changed_runs
from tui_bot.ui.widgets.cadence import MAX_INTERVAL_S, PAINT_INTERVAL_S, area_interval
from tui_bot.ui.widgets.positions import PositionsTable

RED = Style(color="red", bgcolor="black")


def test_a_partial_frame_is_sent_from_the_changed_span_with_one_sgr_per_style_run() -> None:
    row = Strip([Segment(" BTCUSDT ", RED), Segment(" Long ", RED), Segment(" 104.5 ", RED), Segment(" +0.4 ", RED)])
    update = ChopsUpdate([{0: row}], [(0, 15, 26)], [[26]])  # the last two cells changed
    console = RichConsole(color_system="standard", force_terminal=True)
    stock, sent = update.render_segments(console), trimmed(update).render_segments(console)  # type: ignore[union-attr]
    assert "BTCUSDT" in stock and stock.count("\x1b[0m") == 4, "Textual sends from the widget's edge, SGR per cell"
    assert sent == "\x1b[1;16H\x1b[31;40m 104.5  +0.4 \x1b[0m"


async def test_a_mark_repaints_only_the_mark_cells_of_a_wide_row() -> None:
    table = PositionsTable(now_ms=lambda: NOW_MS)
    app = Host(table)
    async with app.run_test(size=(200, 10)) as pilot:
        table.apply_positions({"BTCUSDT": _pos("BTCUSDT", "100", "110", sl="90")}, {})
        await pilot.pause()
        table.apply_marks([PositionMarked("BTCUSDT", D("95"), D("-5"), D("-50"))])
        x = {str(c.key.value): 0 for c in table.ordered_columns}
        edge = 0
        for column in table.ordered_columns:
            x[str(column.key.value)], edge = edge, edge + column.get_render_width(table)
        x["end"] = edge
        keys = [*x]
        right_of = {key: x[keys[keys.index(key) + 1]] for key in keys[:-1]}
        spans = sorted((r.x, r.y, r.right) for r in table._repaint_regions)
        assert spans == [(x["mark"], 1, right_of["mark"]), (x["upnl"], 1, right_of["r"])], "the stale flag is unchanged"


def test_a_book_line_whose_sizes_moved_repaints_the_two_sizes_not_the_prices_between() -> None:
    old = (("3.629 ", "bid"), ("104273.70", "bid"), (" │ ", "muted"), ("104273.80 ", "ask"), ("0.741", "ask"))
    new = (("1.464 ", "bid"), ("104273.70", "bid"), (" │ ", "muted"), ("104273.80 ", "ask"), ("0.900", "ask"))
    assert changed_runs(old, new) == [(0, 5), (30, 33)]
    assert changed_runs(old, old) == []
    assert changed_runs(old[:1], old) == [(6, 33)], "a longer line: its new cells"


def test_a_panels_paint_interval_grows_with_its_area_up_to_once_a_second() -> None:
    assert area_interval(80) == PAINT_INTERVAL_S
    assert area_interval(320) == 2 * PAINT_INTERVAL_S
    assert area_interval(50_000) == MAX_INTERVAL_S


async def test_at_200x60_the_book_and_tape_paint_on_the_area_budget_while_the_position_mark_moves_each_ticker(
    console: Console,
) -> None:
    async with console(size=(200, 60)) as (app, pilot):
        rt = app.runtime
        assert rt is not None
        await rt.orders.place("BTCUSDT", Side.BUY, D("0.01"))
        table = app.query_one(PositionsTable)
        await wait_for(lambda: table.has_row("BTCUSDT"))
        loop = asyncio.get_running_loop()
        paints: dict[str, list[float]] = {"book": [], "trades": []}
        marks: list[str] = []
        for panel in (app.query_one(BookPanel), app.query_one(TradesPanel)):
            draw = panel._draw

            def spy(lines: Any, empty: str, draw: Any = draw, times: list[float] = paints[str(panel.id)]) -> None:
                times.append(loop.time())
                draw(lines, empty)

            panel._draw = spy  # type: ignore[method-assign]
        apply_marks = table.apply_marks

        def marked(update: list[PositionMarked]) -> None:
            apply_marks(update)
            mark = table.cell("BTCUSDT", "mark")
            if not marks or marks[-1] != mark:
                marks.append(mark)

        table.apply_marks = marked  # type: ignore[method-assign, assignment]
        await wait_for(lambda: min(len(t) for t in paints.values()) >= 4, timeout=20)
        panels = {"book": app.query_one(BookPanel), "trades": app.query_one(TradesPanel)}
        for name, times in paints.items():
            interval = panels[name].cadence.current_interval()
            assert interval >= 2 * PAINT_INTERVAL_S, f"the {name} panel at 200x60 is large: one to two paints a second"
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps) >= interval - 0.02, (name, gaps)
        assert len(marks) > len(paints["book"]) + 2, "the position's mark moved with every ticker meanwhile"
