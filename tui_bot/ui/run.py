"""Start the console: logging into the log pane and a file (never onto the screen), then the app."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tui_bot.config import Settings
from tui_bot.logs import configure_logging
from tui_bot.ui.log_handler import PaneLogHandler
from tui_bot.ui.styles import StylesheetMissing


def run_console(settings: Settings, db_path: Path | None) -> int:
    """Run the app until the user quits; returns the process exit code."""
    configure_logging(settings.listen.log_file)
    handler = PaneLogHandler()
    logging.getLogger().addHandler(handler)
    from tui_bot.ui.app import TuiBotApp

    try:
        app = TuiBotApp(settings, db_path, log_handler=handler)
    except StylesheetMissing as err:
        print(f"tui-bot: {err}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
