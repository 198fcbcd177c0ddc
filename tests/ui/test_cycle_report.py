"""A scheduled cycle (at a bar boundary, not `r`) reaches the console: the Recommendations title says how it ended with
its commonest HOLD reasons, the empty table says how to see them and why the learned score does not gate, and Enter
there (or the palette) lists every held symbol's reasons; an idea's detail names why the other strategies held on its
symbol."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.bot.quiet import QUIET
from tests.core.conftest import wait_for
from tests.core.test_cycle_report import GUARD, HELD, rejections
from tests.ui.conftest import Console, LocalConsole
from tests.ui.test_bot_console import bot_settings
from tui_bot.config import Settings
from tui_bot.core.cycle_report import CycleSummary, cycle_summary
from tui_bot.core.strategies import BUILTINS
from tui_bot.store.rows import CycleRow
from tui_bot.ui.screens.cycle_report import CycleReportScreen, held_rows
from tui_bot.ui.screens.recommendation_detail import RecommendationDetail
from tui_bot.ui.widgets.recommendations import RecommendationsTable, RecommendationsTitle, cycle_line

BOUNDARY_MS = int(datetime(2099, 6, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)
LEAD_MS = 8_000
"""The exchange's clock starts this long before a 1-minute bar boundary, so the bot's schedule runs a cycle soon."""


def scheduled_settings(tmp_path: Path) -> Settings:
    """The bot on 1-minute bars with cycles on schedule, Quiet its only strategy, a bar boundary LEAD_MS away."""
    settings = bot_settings(tmp_path)
    strategies = [QUIET]
    settings.trading = settings.trading.model_copy(update={"run_cycles": True, "strategies": strategies})
    settings.sim.clock_start_ms = BOUNDARY_MS - LEAD_MS
    return settings


def last_cycle(app: LocalConsole) -> CycleSummary | None:
    assert app.backend is not None
    return app.backend.last_cycle()


def report_rows(app: LocalConsole) -> list[tuple[str, ...]]:
    """The report screen's table as drawn: each row's cell texts."""
    table = app.screen.query_one("#cycle-held", DataTable)
    return [tuple(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


async def test_a_scheduled_cycle_shows_why_every_symbol_held(console: Console, tmp_path: Path) -> None:
    async with console(settings=scheduled_settings(tmp_path)) as (app, pilot):
        title = app.query_one(RecommendationsTitle)
        table = app.query_one(RecommendationsTable)
        assert str(title.render()) == "Recommendations"
        await wait_for(lambda: last_cycle(app) is not None, timeout=45)
        summary = last_cycle(app)
        assert summary is not None and app.backend is not None
        assert (summary.trigger, summary.cycle.status, summary.cycle.recommendations) == ("schedule", "done", 0)
        watched = [s for s in app.backend.watchlist() if s in app.backend.instruments()]
        assert [symbol for symbol, _ in summary.held] == watched
        assert dict(summary.held) == app.backend.held_reasons()
        await pilot.pause()
        n, started = len(watched), datetime.fromtimestamp(summary.cycle.started_ms / 1000, UTC)
        assert str(title.render()) == (
            f"Recommendations · last cycle {started:%H:%M} UTC (schedule): 0 ideas; {n} HOLDs on {n} symbols"
            f" — top reasons: {n}× quiet: No signal"
        )
        assert title.size.height > 1, "the line wraps in the panel's third of the width rather than being cut"
        ml_status = summary.ml_status
        assert ml_status.startswith("learned score off: "), "no model yet: the gate is off and the console says why"
        assert table.empty_state_shown
        assert table.empty_text == f"No ideas to show — Enter: why each symbol held · {ml_status}"
        drawn = [table.render_line(y).text.strip() for y in range(1, 4)]  # under the header row
        assert " ".join(line for line in drawn if line) == table.empty_text, "wrapped, not cut"
        table.focus()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, CycleReportScreen))
        await pilot.pause()
        rows = report_rows(app)
        assert [row[0] for row in rows] == watched
        assert all(row[1] == "quiet" and row[2].startswith("No signal (close ") for row in rows)
        assert str(app.screen.query_one("#cycle-ml", Static).render()) == ml_status
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, CycleReportScreen))
        [command] = [c for c in app.get_system_commands(app.screen) if c.title == "Why symbols held"]
        await command.callback()  # the palette's entry runs the action (typing its name costs the Pilot a second a key)
        await wait_for(lambda: isinstance(app.screen, CycleReportScreen))
        await pilot.pause()
        assert report_rows(app) == [tuple(row) for row in held_rows(summary)]


async def test_an_ideas_detail_lists_why_other_strategies_held_on_its_symbol(console: Console, tmp_path: Path) -> None:
    settings = bot_settings(tmp_path)
    settings.trading = settings.trading.model_copy(update={"strategies": [*BUILTINS, QUIET]})
    async with console(settings=settings) as (app, pilot):
        table = app.query_one(RecommendationsTable)
        await pilot.press("r")
        await wait_for(lambda: table.row_count > 0 and last_cycle(app) is not None, timeout=15)
        summary = last_cycle(app)
        assert summary is not None and summary.trigger == "console"
        table.focus()
        await pilot.pause()
        rec = table.selected_recommendation
        assert rec is not None and rec.cycle_id == summary.cycle.id
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, RecommendationDetail))
        await pilot.pause()
        held = dict(summary.held)[rec.symbol]
        assert any(reason.startswith("quiet: No signal (close ") for reason in held)
        text = str(app.screen.query_one("#held", Static).render())
        assert text.splitlines() == [f"Held on {rec.symbol} in the same cycle:", *(f"  {r}" for r in held)]


def test_the_title_line_names_the_commonest_holds_and_rejections() -> None:
    at = int(datetime(2026, 12, 5, 15, 45, 2, tzinfo=UTC).timestamp() * 1000)
    done = CycleRow("cy1", at, "15", "done", recommendations=6, rejected=6)
    assert cycle_line(cycle_summary(done, "schedule", HELD, rejections(), "off")) == (
        "last cycle 15:45 UTC (schedule): 6 ideas (0 approved, 6 rejected); 3 HOLDs on 2 symbols"
        " — top reasons: 2× ema_trend: EMAs are level: no trend, 1× quiet: No signal"
        f"; rejected: 3× {GUARD}, 2× ML score below min_ml_score 0.55, 1× confidence below the minimum 0.50"
    )
    skipped = CycleRow("cy2", at, "15", "skipped", skip_reason="no fresh candles")
    assert cycle_line(cycle_summary(skipped, "schedule", HELD, rejections(), "off")) == (
        "last cycle 15:45 UTC (schedule) skipped: no fresh candles"
    )
