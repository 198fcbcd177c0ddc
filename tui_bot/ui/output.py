"""What the console sends to the terminal per frame: only the changed cells, each style's escape sequence once per run.

Textual encodes a partial update (ChopsUpdate) from the left edge of each widget's run on a changed line, so a mark
in the middle of a 200-column positions row re-sent every column left of it; and it wraps every segment in its own
SGR sequence and reset, so a table row of 15 cells in one style sent 15 of each. The same screen, fewer bytes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.color import ColorSystem
from rich.console import Console, RenderableType
from rich.control import Control
from rich.segment import Segment
from textual._compositor import ChopsUpdate
from textual.strip import Strip


def encoded(segments: Iterable[Segment], color_system: ColorSystem) -> str:
    """Segments as terminal sequences, adjacent segments that render the same style sharing one SGR and reset."""
    out: list[str] = []
    key: tuple[str, str | None] | None = None
    run: list[str] = []
    link_id = ""
    for text, style, _ in segments:
        ansi = "" if style is None else style._ansi or Strip.render_ansi(style, color_system)
        link = None if style is None else style._link
        if (ansi, link) != key:
            if key is not None:
                out.append(_run_text(key, "".join(run), link_id))
            key, run = (ansi, link), []
        link_id = style._link_id if style is not None else ""
        run.append(text)
    if key is not None:
        out.append(_run_text(key, "".join(run), link_id))
    return "".join(out)


def _run_text(key: tuple[str, str | None], text: str, link_id: str) -> str:
    ansi, link = key
    output = f"\x1b[{ansi}m{text}\x1b[0m" if ansi else text
    return f"\x1b]8;id={link_id};{link}\x1b\\{output}\x1b]8;;\x1b\\" if link else output


class TrimmedChops(ChopsUpdate):
    """A ChopsUpdate encoded from the first segment that reaches a changed span, not from its widget's left edge."""

    def runs(self) -> Iterator[tuple[int, int, list[Segment]]]:
        """(x, y, segments) of every run of cells to send, line by line: from the first segment that reaches a changed
        span to the span's end."""
        for y, x1, x2 in self.spans:
            for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                start, segments = _from_span(x, strip, x1)
                if end > x2:
                    segments = Strip(segments).crop(0, x2 - start)._segments
                yield start, y, segments

    def render_segments(self, console: Console) -> str:
        """Terminal sequences of the changed spans: a cursor move, then each run's cells."""
        color_system = console._color_system or ColorSystem.TRUECOLOR
        sequences: list[str] = []
        last_y = None
        for x, y, segments in self.runs():
            if last_y is not None and y != last_y:
                sequences.append("\n")
            last_y = y
            sequences.append(Control.move_to(x, y).segment.text)
            sequences.append(encoded(segments, color_system))
        return "".join(sequences)


def _from_span(x: int, strip: Strip, x1: int) -> tuple[int, list[Segment]]:
    """The strip's segments from the one that reaches column x1 on (whole segments, so a wide character is never
    split), and the column it starts at."""
    segments = strip._segments
    for index, segment in enumerate(segments):
        width = segment.cell_length
        if x + width > x1:
            return x, segments[index:]
        x += width
    return x, []


def trimmed(update: RenderableType | None) -> RenderableType | None:
    """A partial screen update re-encoded to send only its changed spans; anything else as it is."""
    if type(update) is ChopsUpdate:
        return TrimmedChops(update.chops, update.spans, update.chop_ends)
    return update
