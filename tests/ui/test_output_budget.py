"""The terminal output budget: frames sent from the first changed cell with one SGR per style run, table rows
repainted cell by cell, the large book and tape painting less often while positions move at ticker speed, and each
frame of the main screen paced by the size of the one before (never after a key)."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

import pytest
from rich.console import Console as RichConsole
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.strip import Strip

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tests.ui.test_widgets import NOW_MS, Host, _pos
from tui_bot.core.state import PositionMarked
from tui_bot.domain.enums import Side
from tui_bot.ui.output import trimmed
from tui_bot.ui.pacing import URGENT_S, OutputPacer, PacedScreen
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


def test_a_panels_paint_interval_grows_with_its_area_up_to_every_two_seconds() -> None:
    assert area_interval(80) == PAINT_INTERVAL_S
    assert area_interval(160) == 2 * PAINT_INTERVAL_S
    assert area_interval(50_000) == MAX_INTERVAL_S == 2.0


def test_after_a_frame_the_next_waits_its_bytes_over_the_budget_at_most_max_wait_and_none_after_a_key() -> None:
    now = [100.0]
    pacer = OutputPacer(budget_bps=1000, max_wait_s=0.25, clock=lambda: now[0])
    assert pacer.wait_s() == 0, "the first frame goes at once"
    pacer.sent(100)
    assert pacer.wait_s() == pytest.approx(0.1)
    now[0] += 0.04
    assert pacer.wait_s() == pytest.approx(0.06)
    pacer.sent(50_000)  # a whole-screen frame (a resize)
    assert pacer.wait_s() == 0.25, "never held longer than max_wait_s"
    pacer.urgent()
    assert pacer.wait_s() == 0, "a key: the frames that show it go at once"
    now[0] += URGENT_S
    pacer.sent(100)
    assert pacer.wait_s() == pytest.approx(0.1), "the key's moment is over"
    pacer.enabled = False
    assert pacer.wait_s() == 0
    assert (pacer.frames, pacer.bytes) == (3, 50_200)


async def long_btc(app: Any) -> PositionsTable:
    """Buy 0.01 BTCUSDT at market and wait for its row; the positions table."""
    rt = app.runtime
    assert rt is not None
    await rt.orders.place("BTCUSDT", Side.BUY, D("0.01"))
    table: PositionsTable = app.query_one(PositionsTable)
    await wait_for(lambda: table.has_row("BTCUSDT"))
    return table


async def test_at_200x60_the_book_and_tape_paint_on_the_area_budget_while_the_position_mark_moves_each_ticker(
    console: Console,
) -> None:
    async with console(size=(200, 60)) as (app, pilot):
        table = await long_btc(app)
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
        await wait_for(lambda: min(len(t) for t in paints.values()) >= 3, timeout=20)
        panels = {"book": app.query_one(BookPanel), "trades": app.query_one(TradesPanel)}
        for name, times in paints.items():
            interval = panels[name].cadence.current_interval()
            assert interval >= 4 * PAINT_INTERVAL_S, f"the {name} panel at 200x60 is large: 1-2 s"
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert min(gaps) >= interval - 0.02, (name, gaps)
        assert len(marks) > len(paints["book"]) + 2, "the position's mark moved with every ticker meanwhile"


async def test_at_200x60_each_frame_waits_for_the_bytes_of_the_one_before_and_a_key_is_never_held(
    console: Console,
) -> None:
    async with console(size=(200, 60)) as (app, pilot):
        app.encode_headless = True  # encode every frame as a terminal would get it, and pace by its bytes
        screen = app.screen
        assert isinstance(screen, PacedScreen)
        await long_btc(app)
        loop = asyncio.get_running_loop()
        frames: list[tuple[float, bool, float]] = []  # sent at, by a direct layout, the wait it asked of the next
        display, sent, refresh_layout = app._display, app.pacer.sent, screen._refresh_layout
        direct = [False]

        def spy_layout(*args: Any, **kwargs: Any) -> None:
            direct[0] = True
            refresh_layout(*args, **kwargs)
            direct[0] = False

        def spy_display(on: Any, renderable: Any) -> None:
            layout = isinstance(renderable, LayoutUpdate) or direct[0]
            display(on, renderable)
            if frames and frames[-1][0] < 0:
                frames[-1] = (loop.time(), layout, frames[-1][2])

        def spy_sent(nbytes: int) -> None:
            sent(nbytes)
            frames.append((-1.0, False, min(app.pacer.max_wait_s, nbytes / app.pacer.budget_bps)))

        app._display = spy_display  # type: ignore[method-assign]
        screen._refresh_layout = spy_layout  # type: ignore[method-assign]
        app.pacer.sent = spy_sent  # type: ignore[method-assign]
        await wait_for(lambda: len(frames) >= 12, timeout=20)
        gaps = [(b[0] - a[0], a[2]) for a, b in zip(frames, frames[1:], strict=False) if not b[1]]
        assert all(gap >= wait - 0.01 for gap, wait in gaps), gaps
        assert screen.holds >= 5, "marks move ten times a second: most frames waited"
        frozen = loop.time()
        app.pacer._clock = lambda: frozen  # from here a held frame would stay held until its timer
        holds, count = screen.holds, len(frames)
        await pilot.press("tab")  # focus moves: the trader sees it at once
        await wait_for(lambda: len(frames) >= count + 3, timeout=10)
        assert screen.holds == holds, "frames after a key are not held"
