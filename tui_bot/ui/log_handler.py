"""A logging handler that queues records for the log pane, so nothing is ever painted over the screen."""

from __future__ import annotations

import logging
from collections import deque


class PaneLogHandler(logging.Handler):
    """Thread-safe: records from any thread (pybit's included) wait in a deque the app drains."""

    def __init__(self, capacity: int = 1000) -> None:
        super().__init__(level=logging.INFO)
        self.records: deque[tuple[str, str]] = deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))

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
