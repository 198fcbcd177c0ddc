"""Chart images: the same series gives the same PNG, candles and lines land where the prices say, old files go."""

from __future__ import annotations

import io
import math
import os
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from tui_bot.core.strategies.chart_llm_render import (
    AXIS,
    BACKGROUND,
    DOWN,
    HEIGHT,
    LINE_COLOURS,
    MARGIN,
    UP,
    WIDTH,
    prune_charts,
    render_chart,
)
from tui_bot.domain.models import Kline

D = Decimal


def bar(index: int, o: str, h: str, low: str, c: str) -> Kline:
    return Kline("BTCUSDT", "15", index * 900_000, D(o), D(h), D(low), D(c), confirm=True)


KNOWN = [bar(0, "100", "112", "98", "110"), bar(1, "110", "111", "103", "104"), bar(2, "104", "108", "102", "107")]
"""Up, down, up: prices 98..112, padded by 4% of the range (0.56) each side."""
LINE = [math.nan, 105.0, 105.0]


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def at(image: Image.Image, index: float, price: float, bars: int = 3) -> set[tuple[int, int, int]]:
    """The colours at bar index's centre (give or take a pixel) and price, by the chart's geometry."""
    low, high = 98 - 0.56, 112 + 0.56
    x = MARGIN + (WIDTH - MARGIN - AXIS) / bars * (index + 0.5)
    y = (HEIGHT - MARGIN) - (price - low) / (high - low) * (HEIGHT - 2 * MARGIN)
    return {image.getpixel((round(x) + dx, round(y))) for dx in (-1, 0, 1)}  # type: ignore[misc]


def test_the_same_series_gives_the_same_png_and_another_series_another() -> None:
    first = render_chart(KNOWN, {"EMA9": LINE})
    assert first.startswith(b"\x89PNG\r\n\x1a\n") and render_chart(KNOWN, {"EMA9": LINE}) == first
    moved = [KNOWN[0], bar(1, "110", "111", "103", "105"), KNOWN[2]]
    assert render_chart(moved, {"EMA9": LINE}) != first


def test_candles_and_lines_are_drawn_at_their_prices() -> None:
    image = pixels(render_chart(KNOWN, {"EMA9": LINE}))
    assert image.size == (WIDTH, HEIGHT)
    assert at(image, 0, 105) == {UP}  # inside the up bar's body (100-110)
    assert UP in at(image, 0, 111) and UP in at(image, 0, 99)  # its wicks
    assert at(image, 1, 108) == {DOWN}  # inside the down bar's body (104-110)
    assert at(image, 1.5, 105) == {LINE_COLOURS[0]}  # the line, between the last two bars
    assert LINE_COLOURS[0] in at(image, 1, 105)  # drawn over the down bar's body
    assert at(image, 1, 112) == {BACKGROUND}  # above the down bar's high
    first_slot = range(MARGIN + 30, MARGIN + 200)  # the first bar's slot (233 px wide), away from the legend
    left = [image.getpixel((x, y)) for x in first_slot for y in range(MARGIN + 20, HEIGHT - 20)]
    assert LINE_COLOURS[0] not in left, "the line's NaN start is not drawn"


def test_an_empty_series_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one candle"):
        render_chart([], {})


def test_pruning_keeps_the_newest_files(tmp_path: Path) -> None:
    for age, name in enumerate(["c.png", "a.png", "b.png", "d.png"]):
        path = tmp_path / name
        path.write_bytes(b"x")
        os.utime(path, ns=(age * 10**9, age * 10**9))
    (tmp_path / "notes.txt").write_text("kept")
    assert prune_charts(tmp_path, keep=2) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.png", "d.png", "notes.txt"]
    assert prune_charts(tmp_path / "missing", keep=2) == 0
