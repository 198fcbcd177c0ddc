"""The console's output budget: after a frame of B bytes the next waits B / OUTPUT_BUDGET_BPS seconds (at most
MAX_WAIT_S), and the changes that come meanwhile go out merged in it.

What a terminal is sent then stays near the budget whatever its size: a 200×60 screen sends larger frames than
80×24 for the same ticks, so it sends fewer of them, each with every cell that changed since the last (a mark that
moved three times is sent once, as it is now). Nothing waits longer than MAX_WAIT_S, so the screen is never more
than that behind the account; and what a key or a click does, a resize or another screen goes out at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from textual._compositor import CompositorUpdate
from textual.screen import Screen

OUTPUT_BUDGET_BPS = 4096
"""Bytes a second the console aims to send to the terminal (about what 80×24 sends with two positions moving)."""
MAX_WAIT_S = 0.25
"""However large the last frame, the next is held at most this long (the quote board's and book's paint interval)."""
URGENT_S = 0.2
"""After a key or a click, frames go unpaced this long (what the key does may take a frame or two to show)."""


class OutputPacer:
    """When the next frame may go, from the size of the last one; a keypress or click lets the next go at once."""

    def __init__(
        self,
        budget_bps: float = OUTPUT_BUDGET_BPS,
        max_wait_s: float = MAX_WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget_bps = budget_bps
        self.max_wait_s = max_wait_s
        self.enabled = True
        self._clock = clock
        self._next_at = 0.0
        self._urgent_until = 0.0
        self.frames = 0
        self.bytes = 0
        """Frames and bytes sent since start (what the bench reads)."""

    def sent(self, nbytes: int) -> None:
        """A frame of nbytes went to the terminal now."""
        self.frames += 1
        self.bytes += nbytes
        self._next_at = self._clock() + min(self.max_wait_s, nbytes / self.budget_bps)

    def urgent(self) -> None:
        """The trader acted (a key, a click): the frames that show it go without waiting."""
        self._urgent_until = self._clock() + URGENT_S

    def wait_s(self) -> float:
        """Seconds the next frame should still wait (0: send it now)."""
        now = self._clock()
        if not self.enabled or now < self._urgent_until:
            return 0.0
        return max(0.0, self._next_at - now)


class Encoded(CompositorUpdate):
    """A frame already encoded to terminal sequences (encoded once: to count its bytes, then to send it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def render_segments(self, console: Console) -> str:
        return self.text


class PacedScreen(Screen[object]):
    """The console's main screen: its frames wait as its app's pacer says (a resize, or coming back to it from another
    screen, is laid out and sent at once by Textual, not through the update timer paced here)."""

    def __init__(self, pacer: OutputPacer, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.pacer = pacer
        self._held = False
        self.holds = 0
        """Frames held back so far (what the tests read)."""

    def _on_timer_update(self) -> None:
        if self._held:
            self._update_timer.pause()
            return
        wait = self.pacer.wait_s()
        if wait > 0:
            self._held = True
            self.holds += 1
            self._update_timer.pause()
            self.set_timer(wait, self._release)
            return
        super()._on_timer_update()

    def _release(self) -> None:
        self._held = False
        super()._on_timer_update()
