"""The header's uPnL and equity follow the marks the rows show, and Day comes from the exchange's records."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import custom_venue, sim_of, wait_for
from tests.sim.rest_helpers import client_for, drive_to, order, place
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.domain.order_ids import OrderReason
from tui_bot.sim.server import SimExchange
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.positions import PositionsTable

BTC, ETH = "BTCUSDT", "ETHUSDT"
CENT = Decimal("0.01")


def figure(app: LocalConsole, part: str) -> Decimal:
    """A header figure ("uPnL -12.30") as a Decimal."""
    text = str(app.query_one(HeaderBar).query_one(f"#{part}").content)  # type: ignore[attr-defined]
    return Decimal(text.split(" ", 1)[1].replace(",", ""))


def about(a: Decimal, b: Decimal) -> bool:
    """Equal to the cent the figures are drawn at (each figure is rounded on its own)."""
    return abs(a - b) <= CENT


def rows_upnl(app: LocalConsole) -> Decimal:
    table = app.query_one(PositionsTable)
    symbols = table.keys()
    return sum((Decimal(table.cell(s, "upnl").replace(",", "")) for s in symbols), Decimal(0))


async def test_header_upnl_is_the_sum_of_the_rows_after_the_market_moves(tmp_path: Path, console: Console) -> None:
    settings = console_settings(tmp_path)
    settings.sim.autostep = False
    async with console(settings=settings) as (app, _pilot):
        rt = app.runtime
        assert rt is not None
        sim = sim_of(rt)
        await rt.orders.place(BTC, Side.BUY, Decimal("0.02"), reason=OrderReason.MANUAL_ENTRY)
        await rt.orders.place(ETH, Side.SELL, Decimal("0.5"), reason=OrderReason.MANUAL_ENTRY)
        table = app.query_one(PositionsTable)
        await wait_for(lambda: table.has_row(BTC) and table.has_row(ETH))
        await wait_for(lambda: about(figure(app, "hdr-upnl"), rows_upnl(app)))
        for symbol, factor in ((BTC, Decimal("1.03")), (ETH, Decimal("1.02"))):
            market = sim.engine.markets[symbol]
            market.set_price(floor_to_step(market.last_price * factor, market.tick), sim.clock.now_ms())
        await sim.step()
        marks = {s: sim.engine.markets[s].mark_price for s in (BTC, ETH)}
        await wait_for(lambda: all(Decimal(table.cell(s, "mark").replace(",", "")) == m for s, m in marks.items()))
        assert rows_upnl(app) > Decimal("20"), "the long gained and the short lost: the rows moved well apart"
        await wait_for(lambda: about(figure(app, "hdr-upnl"), rows_upnl(app)), timeout=2.0)
        wallet = rt.engine.state.wallet
        assert wallet is not None
        assert about(figure(app, "hdr-equity"), wallet.total_wallet_balance + rows_upnl(app))


async def test_day_is_todays_realised_pnl_from_the_exchange_including_trades_made_before_the_console(
    tmp_path: Path, sim: SimExchange, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program opened and closed a position today; a console started afterwards shows it in Day."""
    rest = client_for(sim)
    try:
        await place(rest, order("Buy", qty="0.010"))
        drive_to(sim, BTC, sim.engine.markets[BTC].last_price * Decimal("1.01"))
        await place(rest, order("Sell", qty="0.010", reduceOnly=True))
    finally:
        await rest.close()
    account = sim.engine.accounts[sim.api_key]
    realised = sum((e.exec_pnl - e.exec_fee for e in account.executions), Decimal(0))
    assert realised > Decimal("5"), "the round trip made money after fees"
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    settings = custom_venue(sim)
    settings.storage.db_path = tmp_path / "day.db"
    async with console(settings=settings) as (app, _pilot):
        await wait_for(lambda: figure(app, "hdr-realised") == realised.quantize(CENT), timeout=5.0)
