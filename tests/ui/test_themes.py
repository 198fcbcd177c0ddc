"""The console under other themes: its own tones ($pnl-up, $pnl-down, $stale) resolve in every theme."""

from __future__ import annotations

from textual.color import Color
from textual.pilot import Pilot
from textual.theme import BUILTIN_THEMES, Theme

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.screens.stats_screen import StatsScreen
from tui_bot.ui.styles import TONES
from tui_bot.ui.widgets.equity_curve import EquityCurve
from tui_bot.ui.widgets.health import HealthLine
from tui_bot.ui.widgets.positions import PositionsTable

OTHER_THEMES = ("nord", "gruvbox", "textual-light", "ansi-dark")
OWN_TONES = Theme(
    "own-tones", primary="#0178D4", variables={"pnl-up": "#00FF00", "pnl-down": "#FF00FF", "stale": "#00FFFF"}
)


def live_line(app: TuiBotApp) -> HealthLine | None:
    """A health line of a live connection (its dot is `color: $pnl-up`), once there is one."""
    return next((line for line in app.query(HealthLine) if line.has_class("-live")), None)


def assert_console_tones(app: TuiBotApp, up: str, down: str, stale: str) -> None:
    """The tables and the health panel draw the tones in the given colours."""
    table = app.query_one(PositionsTable)
    assert table.tone_style("up").color == Color.parse(up).rich_color
    assert table.tone_style("down").color == Color.parse(down).rich_color
    assert table.tone_style("warn").color == Color.parse(stale).rich_color
    line = live_line(app)
    assert line is not None and line.dot.styles.color == Color.parse(up)


async def assert_stats_tones(app: TuiBotApp, pilot: Pilot[None], up: str, down: str) -> None:
    """The stats screen opens and its equity curve draws the PnL tones in the given colours."""
    await pilot.press("p")
    await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen.report is not None)
    curve = app.screen.query_one(EquityCurve)
    assert curve.get_component_rich_style("equity-curve--up").color == Color.parse(up).rich_color
    assert curve.get_component_rich_style("equity-curve--down").color == Color.parse(down).rich_color


async def switch(app: TuiBotApp, pilot: Pilot[None], theme: str) -> None:
    app.theme = theme
    await pilot.pause()
    assert app.current_theme.name == theme


async def test_built_in_themes_draw_the_console_tones_in_their_own_colours(console: Console) -> None:
    async with console() as (app, pilot):
        await wait_for(lambda: live_line(app) is not None)
        for theme in OTHER_THEMES:
            await switch(app, pilot, theme)
            for name, base in TONES.items():
                assert app.theme_variables[name] == app.theme_variables[base], (theme, name)
            up, down, stale = (app.theme_variables[base] for base in TONES.values())
            assert_console_tones(app, up, down, stale)
            screenshot = app.export_screenshot()
            assert "Positions" in screenshot and "Recommendations" in screenshot
        await assert_stats_tones(app, pilot, up, down)


async def test_a_theme_that_sets_the_tones_itself_is_drawn_in_them(console: Console) -> None:
    assert not {"pnl-up", "pnl-down", "stale"} & {name for t in BUILTIN_THEMES.values() for name in t.variables}
    async with console() as (app, pilot):
        await wait_for(lambda: live_line(app) is not None)
        app.register_theme(OWN_TONES)
        await switch(app, pilot, OWN_TONES.name)
        assert_console_tones(app, "#00FF00", "#FF00FF", "#00FFFF")
        assert app.theme_variables["success"] != app.theme_variables["pnl-up"]
        await assert_stats_tones(app, pilot, "#00FF00", "#FF00FF")
