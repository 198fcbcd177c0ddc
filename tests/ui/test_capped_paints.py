"""The market view's drawing budget: the book and tape painted at most every PAINT_INTERVAL_S without losing the
newest update, and quote rows formatted only in view, drawn current when they scroll in."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from textual.app import App

from tests.core.conftest import wait_for
from tests.ui.test_widgets import BTC, NOW_MS, Host
from tui_bot.domain.enums import Side
from tui_bot.domain.market import BookLevel, BookSnapshot
from tui_bot.domain.models import PublicTrade, Ticker
from tui_bot.ui.widgets.book import BookPanel, TradesPanel
from tui_bot.ui.widgets.cadence import PAINT_INTERVAL_S
from tui_bot.ui.widgets.quotes import QuoteBoard


def book(bid: str, update_id: int) -> BookSnapshot:
    bids, asks = (BookLevel(D(bid), D("1.000")),), (BookLevel(D(bid) + 1, D("2.000")),)
    return BookSnapshot("BTCUSDT", bids, asks, update_id, 1, 0)


def trade(price: str, seq: int) -> PublicTrade:
    return PublicTrade(f"t{seq}", "BTCUSDT", Side.BUY, D(price), D("0.010"), NOW_MS + seq * 1000, "PlusTick", seq)


def ticker(symbol: str, last: str) -> Ticker:
    price = D(last)
    return Ticker(symbol, price, price, price, price - 1, D(1), price + 1, D(1))


def screen_text(app: App[None]) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_a_book_update_inside_the_paint_interval_is_drawn_at_the_next_paint_the_newest_one() -> None:
    panel = BookPanel()
    app = Host(panel)
    async with app.run_test(size=(50, 10)) as pilot:
        await pilot.pause()
        panel.apply_book(book("100.00", 1), BTC)
        assert "100.00 │ 101.00" in panel.text_lines()[1], "the first update is drawn at once"
        panel.apply_book(book("102.00", 2), BTC)
        panel.apply_book(book("103.00", 3), BTC)
        assert "100.00 │ 101.00" in panel.text_lines()[1], "updates inside the interval wait for its end"
        await wait_for(lambda: "103.00 │ 104.00" in panel.text_lines()[1], timeout=10 * PAINT_INTERVAL_S)
        await pilot.pause()
        assert "103.00 │ 104.00" in screen_text(app)
        await asyncio.sleep(2 * PAINT_INTERVAL_S)
        assert "103.00 │ 104.00" in panel.text_lines()[1], "the overtaken update 102.00 is never drawn after it"


async def test_a_tape_update_inside_the_paint_interval_is_drawn_at_the_next_paint() -> None:
    panel = TradesPanel()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        panel.apply_trades((trade("100.00", 1),), BTC)
        assert panel.text_lines()[1].split()[1] == "100.00"
        panel.apply_trades((trade("99.50", 2), trade("100.00", 1)), BTC)
        assert len(panel.text_lines()) == 2, "the second trade waits for the end of the interval"
        await wait_for(lambda: len(panel.text_lines()) == 3, timeout=10 * PAINT_INTERVAL_S)
        assert [line.split()[1] for line in panel.text_lines()[1:]] == ["99.50", "100.00"]
        await pilot.pause()
        assert "99.50" in screen_text(app)


async def test_quote_rows_draw_at_the_paint_cadence_and_one_scrolled_into_view_shows_the_current_quote() -> None:
    board = QuoteBoard(now_ms=lambda: NOW_MS)
    app = Host(board)
    symbols = tuple(f"S{i:02}USDT" for i in range(30))
    async with app.run_test(size=(80, 8)) as pilot:
        board.apply_watchlist(symbols, {s: ticker(s, "100") for s in symbols}, {})
        await pilot.pause()
        board.apply_quotes({s: ticker(s, "250") for s in symbols}, {})
        assert board.cell("S00USDT", "last") == "250"
        assert board.cell("S29USDT", "last") == "100", "a row out of view is not formatted"
        board.apply_quotes({"S00USDT": ticker("S00USDT", "300")}, {})
        assert board.cell("S00USDT", "last") == "250", "a move inside the paint interval waits for its end"
        await wait_for(lambda: board.cell("S00USDT", "last") == "300", timeout=10 * PAINT_INTERVAL_S)
        board.focus()
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert board.cell("S29USDT", "last") == "250" and board.cell("S29USDT", "bid") == "249"
        assert "S29USDT" in screen_text(app) and "100" not in screen_text(app).split("S29USDT")[1].split("\n")[0]
