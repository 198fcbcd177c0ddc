"""A logging handler that queues records for the log pane, so nothing is ever painted over the screen."""

from __future__ import annotations

import logging
from collections import deque

QUIET_BELOW_WARNING = ("alembic",)
"""Loggers whose INFO lines (the schema migration's 'Context impl SQLiteImpl' …) stay out of the pane; the file log
still has them."""


def shown_in_pane(record: logging.LogRecord) -> bool:
    """Everything from WARNING up; below that, all but the quiet libraries' records."""
    if record.levelno >= logging.WARNING:
        return True
    return not any(record.name == name or record.name.startswith(f"{name}.") for name in QUIET_BELOW_WARNING)


class PaneLogHandler(logging.Handler):
    """Thread-safe: records from any thread (pybit's included) wait in a deque the app drains."""

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__(level=logging.INFO)
        self.records: deque[tuple[str, str]] = deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        self.addFilter(shown_in_pane)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append((record.levelname, self.format(record)))
        except Exception:
            self.handleError(record)

    def drain(self) -> list[tuple[str, str]]:
        items = []
        while self.records:
            items.append(self.records.popleft())
        return items
