"""The console's stylesheets (package data beside this module) and the colour variables they use."""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

HERE = Path(__file__).resolve().parent
APP_CSS = HERE / "app.tcss"
STATS_CSS = HERE / "stats.tcss"
SHIPPED = (APP_CSS, STATS_CSS)
# The console's own colour variables and the theme colour each one is unless the theme sets it.
TONES = {"pnl-up": "success", "pnl-down": "error", "stale": "warning"}


class StylesheetMissing(Exception):
    """A stylesheet the console is drawn with is not installed."""


def require_stylesheets() -> None:
    """Raise StylesheetMissing for the first shipped stylesheet that is not a file."""
    for path in SHIPPED:
        if not path.is_file():
            raise StylesheetMissing(f"the console's stylesheet {path} is missing; reinstall tui-bot")


def tone_defaults(theme: Theme) -> dict[str, str]:
    """The console's colour variables as the given theme's own colours."""
    colours = theme.to_color_system().generate()
    return {tone: colours[base] for tone, base in TONES.items()}


class ThemeTones:
    """App mixin: every theme draws the console's tones (its `variables` may set them, else its colours)."""

    current_theme: Theme

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Textual's hook: values for variables the current theme does not set."""
        return tone_defaults(self.current_theme)
