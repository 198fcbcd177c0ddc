"""Candlestick charts with indicator lines as PNG (Pillow's ImageDraw), and the bounded folder they are kept in."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tui_bot.domain.models import Kline

WIDTH, HEIGHT = 800, 480
MARGIN, AXIS = 10, 90
"""Blank border around the plot, and the strip on the right that holds the price labels."""
BACKGROUND = (255, 255, 255)
GRID = (225, 225, 225)
TEXT = (40, 40, 40)
UP = (38, 166, 91)
DOWN = (214, 54, 56)
LINE_COLOURS = ((33, 110, 222), (242, 142, 28), (142, 68, 173), (40, 40, 40))
GRID_LINES = 6
Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


class _Scale:
    """Maps bar index and price to pixels inside the plot area."""

    def __init__(self, bars: int, low: float, high: float) -> None:
        pad = (high - low) * 0.04 or max(abs(high), 1.0) * 0.01
        self.low, self.high = low - pad, high + pad
        self.slot = (WIDTH - MARGIN - AXIS) / bars
        self.bottom = HEIGHT - MARGIN

    def x(self, index: int) -> float:
        """The centre of bar index."""
        return MARGIN + self.slot * (index + 0.5)

    def y(self, price: float) -> float:
        return self.bottom - (price - self.low) / (self.high - self.low) * (self.bottom - MARGIN)


def render_chart(candles: Sequence[Kline], lines: Mapping[str, Sequence[float]], *, price_decimals: int = 2) -> bytes:
    """The candles (oldest first) and each named line (one value per candle, NaN where it has none) as a PNG.

    The same input gives the same bytes.
    """
    if not candles:
        raise ValueError("a chart needs at least one candle")
    values = [float(c.low) for c in candles] + [float(c.high) for c in candles]
    values += [v for series in lines.values() for v in series if math.isfinite(v)]
    scale = _Scale(len(candles), min(values), max(values))
    image = Image.new("P", (WIDTH, HEIGHT), BACKGROUND)  # a palette of a few colours: a third of RGB's bytes to encode
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    _grid(draw, scale, font, max(price_decimals, 0))
    _candles(draw, scale, candles)
    _lines(draw, scale, lines, font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _grid(draw: ImageDraw.ImageDraw, scale: _Scale, font: Font, places: int) -> None:
    """Horizontal price lines with their prices in the right-hand strip."""
    for step in range(GRID_LINES + 1):
        price = scale.low + (scale.high - scale.low) * step / GRID_LINES
        y = scale.y(price)
        draw.line([(MARGIN, y), (WIDTH - AXIS, y)], fill=GRID, width=1)
        draw.text((WIDTH - AXIS + 6, y - 6), f"{price:.{places}f}", fill=TEXT, font=font)


def _candles(draw: ImageDraw.ImageDraw, scale: _Scale, candles: Sequence[Kline]) -> None:
    """Each bar's wick from high to low and its body from open to close (green up, red down)."""
    half = max(scale.slot * 0.35, 0.5)
    for index, bar in enumerate(candles):
        colour = UP if bar.close >= bar.open else DOWN
        x = scale.x(index)
        draw.line([(x, scale.y(float(bar.high))), (x, scale.y(float(bar.low)))], fill=colour, width=1)
        top, bottom = sorted((scale.y(float(bar.open)), scale.y(float(bar.close))))
        draw.rectangle([(x - half, top), (x + half, max(bottom, top + 1))], fill=colour)


def _lines(draw: ImageDraw.ImageDraw, scale: _Scale, lines: Mapping[str, Sequence[float]], font: Font) -> None:
    """Each indicator as a polyline over the candles, and its name in its colour at the top left."""
    for number, (name, series) in enumerate(lines.items()):
        colour = LINE_COLOURS[number % len(LINE_COLOURS)]
        points = [(scale.x(i), scale.y(v)) for i, v in enumerate(series) if math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        draw.text((MARGIN + 4 + 70 * number, MARGIN + 2), name, fill=colour, font=font)


def save_chart(folder: Path, name: str, png: bytes) -> Path:
    """Write png as folder/name (the folder is made when missing); returns the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(png)
    return path


def prune_charts(folder: Path, keep: int) -> int:
    """Delete all but the newest keep PNG files in folder; returns how many were deleted."""
    if not folder.is_dir():
        return 0
    files = sorted(folder.glob("*.png"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    old = files[: max(len(files) - keep, 0)]
    for path in old:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
    return len(old)
