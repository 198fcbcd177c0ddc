"""Start the console: logging into the log pane and a file (never onto the screen), then the app."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from tui_bot.config import Settings
from tui_bot.logs import configure_logging
from tui_bot.ui.log_handler import PaneLogHandler
from tui_bot.ui.styles import StylesheetMissing

if TYPE_CHECKING:
    from tui_bot.ui.app import BackendOpener


def run_console(settings: Settings, open_backend: BackendOpener) -> int:
    """Run the app on the backend open_backend opens, until the user quits; returns the process exit code."""
    configure_logging(settings.listen.log_file)
    handler = PaneLogHandler()
    logging.getLogger().addHandler(handler)
    from tui_bot.ui.app import TuiBotApp

    try:
        app = TuiBotApp(settings, open_backend, log_handler=handler)
    except StylesheetMissing as err:
        print(f"tui-bot: {err}", file=sys.stderr)
        return 1
    app.run()
    return app.return_code or 0
