"""What the trade and order history screens share: a full-screen dialog that loads its rows from the backend."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

log = logging.getLogger(__name__)
T = TypeVar("T")


def utc_stamp(ms: int) -> str:
    """An epoch-ms time as 'MM-DD HH:MM:SS' in UTC (the days of the PnL-by-day table are UTC days)."""
    return time.strftime("%m-%d %H:%M:%S", time.gmtime(ms / 1000))


class HistoryScreen(ModalScreen[None], Generic[T]):
    """Loads T with `load` in a worker when opened (r reloads) and hands it to `show`; Esc or q closes.

    A failed load is shown in the hint line, not raised; subclasses compose the body and fill it in `show`.
    """

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > .history-dialog {
        width: 100%; max-width: 140; height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HistoryScreen .history-title { width: 100%; text-style: bold; content-align: center middle; }
    HistoryScreen .history-hint { color: $foreground-muted; }
    HistoryScreen .history-empty { color: $foreground-muted; text-style: italic; padding: 1 1; }
    HistoryScreen .history-heading {
        height: 1; margin-top: 1; padding: 0 1;
        background: $panel; color: $foreground-muted; text-style: bold;
    }
    HistoryScreen .history-detail { height: auto; color: $foreground-muted; padding: 0 1; }
    HistoryScreen #history-body { height: 1fr; scrollbar-size-vertical: 1; }
    HistoryScreen #history-body LiveTable { height: auto; max-height: 1000; min-height: 1; }
    HistoryScreen .history-table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]
    TITLE = ""
    HINT = "r reloads · Esc / q closes"

    def __init__(self, load: Callable[[], Awaitable[T]]) -> None:
        super().__init__()
        self.load = load
        self.loaded: T | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="history-dialog"):
            yield Static(self.TITLE, classes="history-title")
            yield Static(self.HINT, id="history-hint", classes="history-hint", markup=False)
            yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, below the title and the hint."""
        yield from ()

    def on_mount(self) -> None:
        self.reload()

    @work(group="history-load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read and show the rows; a failure is shown in the hint line."""
        try:
            loaded = await self.load()
        except Exception as err:
            log.exception("could not load the %s", self.TITLE.lower())
            self.query_one("#history-hint", Static).update(f"Could not load the {self.TITLE.lower()}: {err}")
            return
        self.loaded = loaded
        self.show(loaded)

    def show(self, loaded: T) -> None:
        """Fill the screen's widgets from what was loaded."""
        raise NotImplementedError

    def action_reload(self) -> None:
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
