"""The market view driven by keys against the embedded exchange: quote board, book, tape, chart, watchlist, layout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from textual.widgets import Input

from tests.conftest import SignedRest
from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.config import Settings
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.domain.order_ids import OrderReason
from tui_bot.sim.server import SimExchange
from tui_bot.ui import format as fmt
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.symbol_prompt import SymbolPrompt
from tui_bot.ui.widgets.book import BookPanel, TradesPanel
from tui_bot.ui.widgets.chart import CandleChart
from tui_bot.ui.widgets.positions import PositionsTable
from tui_bot.ui.widgets.quotes import QuoteBoard

BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"


def still(tmp_path: Path) -> Settings:
    """Console settings on an exchange that moves only when the test steps it."""
    settings = console_settings(tmp_path)
    settings.sim.autostep = False
    return settings


def sim(app: LocalConsole) -> SimExchange:
    assert app.runtime is not None
    return sim_of(app.runtime)


async def rest_top(exchange: SimExchange, symbol: str) -> tuple[Decimal, Decimal]:
    """Best bid and ask as the exchange's REST order book shows them (the oracle)."""
    assert exchange.urls is not None
    client = SignedRest(exchange.urls.rest, exchange.api_key, exchange.api_secret)
    try:
        reply = await client.get(
            "/v5/market/orderbook", {"category": "linear", "symbol": symbol, "limit": 1}, signed=False
        )
    finally:
        await client.close()
    return Decimal(reply["result"]["b"][0][0]), Decimal(reply["result"]["a"][0][0])


def book_top(app: LocalConsole) -> tuple[Decimal, Decimal] | None:
    """Best bid and ask as the book panel draws them (its first level line), None before it has levels."""
    lines = app.query_one(BookPanel).text_lines()
    if len(lines) < 2 or "│" not in lines[1]:
        return None
    left, right = lines[1].split("│")
    return Decimal(left.split()[-1].replace(",", "")), Decimal(right.split()[0].replace(",", ""))


async def test_quote_board_lists_the_watchlist_with_the_exchanges_quotes(tmp_path: Path, console: Console) -> None:
    async with console(settings=still(tmp_path)) as (app, _pilot):
        board = app.query_one(QuoteBoard)
        await wait_for(lambda: board.keys() == [BTC, ETH])
        market = sim(app).engine.markets[BTC]
        inst = app.backend.instruments()[BTC] if app.backend else None
        await wait_for(lambda: board.cell(BTC, "last") == fmt.price(market.last_price, inst))
        row = board.row_texts(BTC)
        assert row["mark"] == fmt.price(market.mark_price, inst)
        assert row["funding"].startswith("0.0100%")


async def test_the_book_shows_the_selected_symbols_best_levels_and_a_row_selects_another(
    tmp_path: Path, console: Console
) -> None:
    async with console(settings=still(tmp_path)) as (app, pilot):
        assert app.backend is not None
        await wait_for(lambda: app.backend is not None and app.backend.selected_symbol() == BTC)
        await wait_for(lambda: book_top(app) is not None)
        assert book_top(app) == await rest_top(sim(app), BTC)
        app.query_one(QuoteBoard).focus()
        await pilot.press("down")
        await wait_for(lambda: app.backend is not None and app.backend.selected_symbol() == ETH)
        expected = await rest_top(sim(app), ETH)
        await wait_for(lambda: book_top(app) == expected)


async def test_the_tape_shows_the_trade_the_exchange_just_printed_at_the_top(tmp_path: Path, console: Console) -> None:
    async with console(settings=still(tmp_path)) as (app, _pilot):
        await wait_for(lambda: app.backend is not None and app.backend.selected_symbol() == BTC)
        exchange = sim(app)
        market = exchange.engine.markets[BTC]
        target = market.last_price + 250 * market.tick
        market.set_price(target, exchange.clock.now_ms())
        await exchange.step()
        tape = app.query_one(TradesPanel)
        assert app.backend is not None
        drawn = fmt.price(target, app.backend.instruments()[BTC])
        inst = app.backend.instruments()[BTC]
        printed = [drawn, fmt.qty(market.instrument.qty_step, inst)]
        await wait_for(lambda: any(line.split()[1:] == printed for line in tape.text_lines()[1:3]))
        assert tape.text_lines()[0].split() == ["Time", "Price", "Size"]


async def test_the_chart_draws_bars_with_the_positions_lines_and_i_switches_the_interval(
    tmp_path: Path, console: Console
) -> None:
    async with console(settings=still(tmp_path)) as (app, pilot):
        rt = app.runtime
        assert rt is not None and app.backend is not None
        chart = app.query_one(CandleChart)
        await wait_for(lambda: len(chart.bars) > 10 and chart.title.startswith(f"{BTC} · 15m"))
        last = rt.engine.state.tickers[BTC].last_price
        await rt.orders.place(
            BTC,
            Side.BUY,
            Decimal("0.01"),
            stop_loss=(last * Decimal("0.995")).quantize(Decimal("0.1")),
            take_profit=(last * Decimal("1.005")).quantize(Decimal("0.1")),
            reason=OrderReason.MANUAL_ENTRY,
        )
        await wait_for(lambda: app.query_one(PositionsTable).has_row(BTC))
        pos = rt.engine.state.positions[BTC]
        await wait_for(lambda: {lv.label for lv in chart.levels} >= {"E", "SL", "TP"})
        drawn = "\n".join(line.plain for line in chart.lines(80, 20))
        for label, price in (("SL", pos.stop_loss), ("TP", pos.take_profit)):
            assert f"{label} {fmt.price(price, app.backend.instruments()[BTC])}" in drawn
        await pilot.press("i")
        await wait_for(
            lambda: (
                chart.title.startswith(f"{BTC} · 1h")
                and app.backend is not None
                and app.backend.chart_interval() == "60"
                and len(chart.bars) > 10
            )
        )
        assert all(bar.interval == "60" for bar in chart.bars)


async def test_w_adds_a_listed_symbol_and_shift_w_removes_it_and_the_watchlist_persists(
    tmp_path: Path, console: Console
) -> None:
    settings = still(tmp_path)
    async with console(settings=settings) as (app, pilot):
        board = app.query_one(QuoteBoard)
        await pilot.press("w")
        await wait_for(lambda: isinstance(app.screen, SymbolPrompt))
        await pilot.press(*"nope", "enter")
        assert isinstance(app.screen, SymbolPrompt), "an unlisted symbol is refused in the prompt"
        app.screen.query_one("#symbol", Input).value = ""
        await pilot.press(*"solusdt", "enter")
        await wait_for(lambda: board.keys() == [BTC, ETH, SOL])
        await wait_for(lambda: board.cell(SOL, "last") != fmt.DASH)
    async with console(settings=settings) as (app, pilot):
        board = app.query_one(QuoteBoard)
        await wait_for(lambda: board.keys() == [BTC, ETH, SOL])
        board.focus()
        board.move_cursor(row=2)
        await pilot.press("W")
        await wait_for(lambda: board.keys() == [BTC, ETH])
        assert app.backend is not None and app.backend.watchlist() == (BTC, ETH)


async def test_g_shows_a_symbol_outside_the_watchlist(tmp_path: Path, console: Console) -> None:
    async with console(settings=still(tmp_path)) as (app, pilot):
        await pilot.press("g")
        await wait_for(lambda: isinstance(app.screen, SymbolPrompt))
        await pilot.press(*"SOLUSDT", "enter")
        await wait_for(lambda: app.backend is not None and app.backend.selected_symbol() == SOL)
        expected = await rest_top(sim(app), SOL)
        await wait_for(lambda: book_top(app) == expected)
        assert app.query_one(QuoteBoard).keys() == [BTC, ETH], "looking a symbol up does not watch it"


async def test_m_gives_the_market_view_the_screen_at_80x24(tmp_path: Path, console: Console) -> None:
    async with console(size=(80, 24), settings=still(tmp_path)) as (app, pilot):
        chart, book = app.query_one(CandleChart), app.query_one(BookPanel)
        assert not chart.display and app.query_one("#main").display
        assert app.query_one(PositionsTable).region.height > 0
        await pilot.press("m")
        await pilot.pause()
        assert chart.display and book.display and chart.region.height >= 5 and book.region.height > 0
        assert app.query_one(PositionsTable).region.height == 0
        await wait_for(lambda: book_top(app) is not None)
        await pilot.press("m")
        await pilot.pause()
        assert app.query_one(PositionsTable).region.height > 0


async def test_a_resize_lays_out_for_the_new_size(tmp_path: Path, console: Console) -> None:
    async with console(size=(200, 60), settings=still(tmp_path)) as (app, pilot):
        trades = app.query_one(TradesPanel)
        assert trades.region.width > 0 and not app.has_class("-narrow")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.has_class("-narrow") and app.has_class("-short") and trades.region.width == 0
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert not app.has_class("-narrow") and not app.has_class("-short") and trades.region.width > 0


async def test_a_ticket_opened_from_the_quote_board_trades_the_looked_up_symbol(
    tmp_path: Path, console: Console
) -> None:
    """g SOLUSDT (not watched), then b on the quote board: the ticket is SOLUSDT's, priced, and its buy fills."""
    async with console(settings=still(tmp_path)) as (app, pilot):
        await pilot.press("g")
        await wait_for(lambda: isinstance(app.screen, SymbolPrompt))
        await pilot.press(*"SOLUSDT", "enter")
        await wait_for(
            lambda: (
                app.backend is not None
                and app.backend.selected_symbol() == SOL
                and app.backend.last_price(SOL) is not None
            )
        )
        app.query_one(QuoteBoard).focus()
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, OrderFormModal))
        form = app.screen
        assert isinstance(form, OrderFormModal)
        assert form.query_one("#symbol", Input).value == SOL and form.last_prices.get(SOL)
        inst = app.backend.instruments()[SOL] if app.backend is not None else None
        assert inst is not None
        qty = fmt.qty(max(inst.min_qty, floor_to_step(Decimal(50) / form.last_prices[SOL], inst.qty_step)), inst)
        await pilot.press(*qty, "enter")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        account = sim(app).engine.accounts[sim(app).api_key]
        await wait_for(lambda: account.positions.get(SOL) is not None and account.positions[SOL].size == Decimal(qty))
