"""A ticker the embedded exchange stops sending shows where the trader looks: the position's row and the header."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import Static

from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console, LocalConsole
from tui_bot.domain.enums import Side
from tui_bot.domain.order_ids import OrderReason
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.health import HealthPanel
from tui_bot.ui.widgets.positions import PositionsTable

BTC = "BTCUSDT"
STALE_AFTER_MS = 1500.0
"""The health panel's public threshold in this test (the exchange steps every 100 ms)."""


def stale_badge(app: LocalConsole) -> str:
    badge = app.query_one(HeaderBar).query_one("#hdr-stale", Static)
    return str(badge.content) if badge.display else ""


async def test_a_stalled_ticker_flags_the_position_row_and_the_header_until_it_streams_again(
    console: Console,
) -> None:
    async with console() as (app, _pilot):
        rt = app.runtime
        assert rt is not None
        app.query_one(HealthPanel).public_stale_ms = STALE_AFTER_MS
        table = app.query_one(PositionsTable)
        await rt.orders.place(BTC, Side.BUY, Decimal("0.010"), reason=OrderReason.MANUAL_ENTRY)
        await wait_for(lambda: table.has_row(BTC))
        assert table.cell(BTC, "stale") == "" and stale_badge(app) == ""
        sim_of(rt).faults.stall(f"tickers.{BTC}", 60)
        await wait_for(lambda: table.cell(BTC, "stale").startswith("stale "), timeout=8.0)
        assert table.get_cell(BTC, "mark").tone == "muted", "the mark it shows is not live"
        assert stale_badge(app).strip().startswith("STALE tickers ")
        sim_of(rt).faults.stalls.clear()
        await wait_for(lambda: table.cell(BTC, "stale") == "" and stale_badge(app) == "", timeout=8.0)
        assert Decimal(table.cell(BTC, "mark").replace(",", "")) > 0
