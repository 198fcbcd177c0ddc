"""`python -m tui_bot`: the same command line as the tui-bot script."""

from __future__ import annotations

from tui_bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
