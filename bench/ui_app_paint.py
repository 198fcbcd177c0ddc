"""Console paint cost without the network: CPU per 100 ms market step of the quote board and the order book.

A headless app holds the quote board (200 symbols, 40 rows in view) and the book panel (25 levels a side), both with
the real stylesheet; every 100 ms (the bridge's market pace) every symbol's ticker moves and the book's sizes move.
Measured as this process's CPU time (time.process_time), so a machine loaded by other work changes the figures far
less than a share-of-a-core window does: the handlers' own time (board, book) and the whole app's, frames included.

    python -m bench.ui_app_paint            # about 10 s
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from decimal import Decimal

from textual.app import App, ComposeResult

from tui_bot.domain.market import BookLevel, BookSnapshot
from tui_bot.domain.models import Ticker
from tui_bot.ui.styles import APP_CSS, ThemeTones
from tui_bot.ui.widgets.book import BookPanel
from tui_bot.ui.widgets.quotes import QuoteBoard

STEP_S = 0.1
LEVELS = 25


class PaintHost(ThemeTones, App[None]):
    """The quote board above the book panel, with the console's stylesheet."""

    CSS_PATH = APP_CSS

    def compose(self) -> ComposeResult:
        yield QuoteBoard(now_ms=lambda: 0, id="quotes")
        yield BookPanel(id="book")


def ticker(symbol: str, last: Decimal) -> Ticker:
    return Ticker(symbol, last, last, last, last - 1, Decimal(1), last + 1, Decimal(1), Decimal(0), Decimal("0.01"))


def book(step: int) -> BookSnapshot:
    """A book whose sizes move on most levels every step."""
    bids = tuple(BookLevel(Decimal(100) - k, Decimal(1 + (step + k) % 5)) for k in range(LEVELS))
    asks = tuple(BookLevel(Decimal(101) + k, Decimal(1 + (step * k) % 5)) for k in range(LEVELS))
    return BookSnapshot("SIMUSDT", bids, asks, step, step, 0)


async def run(symbols: int, steps: int) -> tuple[float, float, float]:
    """ms of CPU per step: the board's handler, the book's handler, the whole app (frames included)."""
    app = PaintHost()
    names = tuple(f"SIM{i:03d}USDT" for i in range(symbols))
    async with app.run_test(size=(160, 90)) as pilot:
        board, panel = app.query_one(QuoteBoard), app.query_one(BookPanel)
        board.styles.height, panel.styles.height = 41, LEVELS + 1
        board.apply_watchlist(names, {s: ticker(s, Decimal(100)) for s in names}, {})
        await pilot.pause()
        in_board = in_book = 0.0
        start = time.process_time()
        for step in range(steps):
            quotes = {s: ticker(s, Decimal(100 + step % 7 + j % 3)) for j, s in enumerate(names)}
            t0 = time.process_time()
            board.apply_quotes(quotes, {})
            t1 = time.process_time()
            panel.apply_book(book(step), None)
            in_board, in_book = in_board + t1 - t0, in_book + time.process_time() - t1
            await asyncio.sleep(STEP_S)
        whole = time.process_time() - start
    return in_board / steps * 1000, in_book / steps * 1000, whole / steps * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    board, book_ms, whole = asyncio.run(run(args.symbols, args.steps))
    print(
        f"{args.symbols} symbols, 40 quote rows and {LEVELS} book levels in view, a market step every "
        f"{STEP_S * 1000:.0f} ms ({args.steps} steps): CPU per step: quote board {board:.2f} ms, "
        f"book {book_ms:.2f} ms, whole app (frames included) {whole:.2f} ms = {whole / (STEP_S * 1000):.0%} of a core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
