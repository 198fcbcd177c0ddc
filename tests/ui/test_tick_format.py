"""Prices in the ticket, its confirmation, the TP/SL dialog and the cancel confirmation are written to the
instrument's tick (SOLUSDT's tick is 0.010: three decimals), as the quote board and the tables write them."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from textual.widgets import Static

from tests.core.conftest import wait_for
from tests.ui.conftest import Console
from tests.ui.test_market_view import SOL, still
from tests.ui.test_widgets import BTC, NOW_MS, Host, recommendation
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.sim.instruments import market_specs
from tui_bot.ui import format as fmt
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.recommendation_detail import detail_lines
from tui_bot.ui.screens.symbol_prompt import SymbolPrompt
from tui_bot.ui.screens.ticket_preview import describe
from tui_bot.ui.screens.tpsl import stop_error
from tui_bot.ui.widgets.quotes import QuoteBoard
from tui_bot.ui.widgets.recommendations import RecommendationsTable

SOL_INST = market_specs([SOL])[SOL].instrument


async def test_the_tickets_quote_line_writes_last_and_mark_to_the_tick(tmp_path: Path, console: Console) -> None:
    async with console(settings=still(tmp_path)) as (app, pilot):
        await pilot.press("g")
        await wait_for(lambda: isinstance(app.screen, SymbolPrompt))
        await pilot.press(*"SOLUSDT", "enter")
        await wait_for(lambda: app.backend is not None and app.backend.last_price(SOL) is not None)
        app.query_one(QuoteBoard).focus()
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, OrderFormModal))
        form = app.screen
        assert isinstance(form, OrderFormModal)
        await wait_for(lambda: form.context.marks.get(SOL) is not None)
        quote = str(form.query_one("#quote", Static).content)
        written = re.fullmatch(r"SOLUSDT  last (\S+) · mark (\S+)", quote)
        assert written is not None, quote
        assert all(re.fullmatch(r"\d+\.\d{3}", price) for price in written.groups()), quote
        assert Decimal(written[1]) == form.last_prices[SOL]
        assert str(form.query_one("#filters", Static).content).startswith("tick 0.010 · step 0.1 · min 0.1 ·")


def test_the_confirmation_and_the_stop_rules_write_prices_to_the_tick() -> None:
    intent = PlaceOrderIntent(
        SOL,
        Side.BUY,
        OrderType.LIMIT,
        Decimal("1"),
        Decimal("187.5"),
        take_profit=Decimal("190"),
        stop_loss=Decimal("185.25"),
    )
    assert describe(intent, SOL_INST) == "BUY 1.0 SOLUSDT @ 187.500, TP 190.000, SL 185.250"
    assert stop_error(Decimal("186"), "tp", Side.BUY, Decimal("187.5"), SOL_INST) == "must be above the mark 187.500"
    assert fmt.price(Decimal("187.5"), SOL_INST) == "187.500"


async def test_recommendations_and_their_detail_write_levels_to_the_tick() -> None:
    rec = recommendation("r1", NOW_MS, entry=Decimal("104244.2"), stop_loss=Decimal("103900"))
    table = RecommendationsTable()
    app = Host(table)
    async with app.run_test(size=(160, 10)) as pilot:
        table.apply_recommendations([rec], {"BTCUSDT": BTC})
        await pilot.pause()
        assert (table.cell("r1", "entry"), table.cell("r1", "sl"), table.cell("r1", "tp")) == (
            "104244.20",
            "103900.00",
            "120.00",
        )
    assert dict(detail_lines(rec, BTC))["Entry"] == "104244.20"
