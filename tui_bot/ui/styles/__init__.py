"""The console's stylesheets: package data beside this module."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_CSS = HERE / "app.tcss"
STATS_CSS = HERE / "stats.tcss"
SHIPPED = (APP_CSS, STATS_CSS)


class StylesheetMissing(Exception):
    """A stylesheet the console is drawn with is not installed."""


def require_stylesheets() -> None:
    """Raise StylesheetMissing for the first shipped stylesheet that is not a file."""
    for path in SHIPPED:
        if not path.is_file():
            raise StylesheetMissing(f"the console's stylesheet {path} is missing; reinstall tui-bot")

