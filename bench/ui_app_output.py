"""The console bench's output meter: bytes of terminal output per frame, split by the widget that drew them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.color import ColorSystem
from rich.console import Console
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.errors import NoWidget
from textual.widget import Widget

from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.output import TrimmedChops, encoded
from tui_bot.ui.widgets.book import BookPanel, TradesPanel


@dataclass
class Window:
    """What one measurement window saw."""

    name: str
    seconds: float
    cpu: float  # fraction of one core, this process
    sim_cpu: float  # fraction of one core, the exchange's process
    applied: float  # events applied by the engine per second
    frames: float = 0.0  # frames handed to the driver per second
    frame_bytes: float = 0.0
    panels: Counter[str] = field(default_factory=Counter)  # bytes over the window by the panel that drew them


WHOLE_SCREEN = "(whole screen)"
"""What a LayoutUpdate (the screen drawn whole, e.g. after a resize) is counted under."""


def panel_name(widget: Widget) -> str:
    """The widget's id, or its nearest ancestor's that has one (a table's scrollbar counts as the table)."""
    node: Any = widget
    while node is not None and not getattr(node, "id", None):
        node = node.parent
    return f"#{node.id}" if node is not None else type(widget).__name__


def by_widget(update: CompositorUpdate, screen: Any, console: Console) -> Counter[str]:
    """Bytes of terminal output this update costs, by the panel each changed run of cells belongs to (a ChopsUpdate
    is encoded run by run exactly as ChopsUpdate.render_segments does; cursor moves count with their run)."""
    counts: Counter[str] = Counter()
    if isinstance(update, LayoutUpdate):
        counts[WHOLE_SCREEN] += len(update.render_segments(console))
        return counts
    if not isinstance(update, ChopsUpdate):
        return counts
    compositor = screen._compositor
    if isinstance(update, TrimmedChops):
        color_system = console._color_system or ColorSystem.TRUECOLOR
        for x, y, segments in update.runs():
            counts[_at(compositor, x, y)] += len(encoded(segments, color_system)) + len(f"\x1b[{y + 1};{x + 1}H") + 1
        return counts
    for y, x1, x2 in update.spans:
        for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
            if strip is None or x > x2 or end <= x1:
                continue
            if not (x2 > x >= x1 and end <= x2):
                strip = strip.crop(0, min(end, x2) - x)
            counts[_at(compositor, x, y)] += len(strip.render(console)) + len(f"\x1b[{y + 1};{x + 1}H") + 1
    return counts


def _at(compositor: Any, x: int, y: int) -> str:
    """The panel drawn at screen cell (x, y)."""
    try:
        return panel_name(compositor.get_widget_at(x, y)[0])
    except NoWidget:
        return "(none)"


def breakdown_lines(counts: Counter[str], seconds: float, top: int = 14) -> list[str]:
    """The panels that sent the most, as 'name KB/s (share)' lines."""
    total = sum(counts.values()) or 1
    return [
        f"    {name:28}{count / seconds / 1024:>8.1f} KB/s {count / total:>6.1%}"
        for name, count in counts.most_common(top)
    ]


def set_budget(app: TuiBotApp, on: bool) -> None:
    """The output budget on (frames trimmed to their changed cells and paced by their size, ui/pacing.py; the book and
    tape painting less often the larger they are) or off (the baseline: every frame sent from each widget's left edge
    as soon as it is ready, the book and tape at 4 a second)."""
    app.trim_output = on
    app.pacer.enabled = on
    for panel in (app.query_one(BookPanel), app.query_one(TradesPanel)):
        panel.cadence.by_area = on


def report_sizes(sizes: list[Window], seconds: float, positions: tuple[str, ...], target: float) -> None:
    """Part 4: output by size, baseline and budget, each split by panel, and the ratios of the large to the small."""
    print(
        f"4. terminal output by size: 2 symbols streaming, {len(positions)} positions open "
        f"({', '.join(positions)}), the console resized; {seconds:.0f} s windows"
    )
    print(f"{'size':26}{'CPU':>7}{'frames/s':>10}{'KB/s out':>10}   by panel")
    for w in sizes:
        print(f"{w.name:26}{w.cpu:>7.1%}{w.frames:>10.1f}{w.frame_bytes / 1024:>10.1f}")
        print("\n".join(breakdown_lines(w.panels, w.seconds)))
    half = len(sizes) // 2
    for small, large in zip(sizes[:half], sizes[half:], strict=True):
        ratio = large.frame_bytes / small.frame_bytes if small.frame_bytes else float("inf")
        print(
            f"{large.name} / {small.name} output: {ratio:.2f}x (target <= {target}x: "
            f"{'met' if ratio <= target else 'NOT met'})"
        )
