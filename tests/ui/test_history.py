"""Trade and order history (h, o), the activity log and the fills' PnL label, against the embedded exchange."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import sim_of, wait_for
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.core.history import TradeHistory
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.models import ClosedPnl
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.exchange.errors import ExchangeError
from tui_bot.logs import configure_logging
from tui_bot.sim.account import Account
from tui_bot.ui import format as fmt
from tui_bot.ui.log_handler import PaneLogHandler
from tui_bot.ui.screens.order_history import OrderHistoryScreen, OrderHistoryTable
from tui_bot.ui.screens.stats_screen import r_text
from tui_bot.ui.screens.trade_history import ClosedTradesTable, DaysTable, TradeHistoryScreen
from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.log_pane import LogPane

BTC = "BTCUSDT"
TICK = Decimal("0.10")
QTY = Decimal("0.010")
SIZE = (120, 36)


def account(app: LocalConsole) -> Account:
    assert app.runtime is not None
    sim = sim_of(app.runtime)
    return sim.engine.accounts[sim.api_key]


def last_price(app: LocalConsole) -> Decimal:
    assert app.runtime is not None
    return sim_of(app.runtime).engine.markets[BTC].last_price


async def flat(app: LocalConsole) -> None:
    assert app.backend is not None
    backend = app.backend
    await wait_for(lambda: BTC not in backend.positions(), timeout=5.0)


async def long_with_stop(app: LocalConsole, **legs: Decimal) -> Decimal:
    """Buy QTY BTCUSDT at market with a stop 2 % under the last price; returns the stop."""
    assert app.backend is not None
    backend = app.backend
    stop = floor_to_step(last_price(app) * Decimal("0.98"), TICK)
    await backend.place_order(PlaceOrderIntent(BTC, Side.BUY, OrderType.MARKET, QTY, stop_loss=stop, **legs))
    await wait_for(lambda: BTC in backend.positions(), timeout=5.0)
    return stop


def entry_of(app: LocalConsole, record: ClosedPnl) -> Decimal:
    return record.avg_entry_price


async def open_trade_history(app: LocalConsole, pilot: object) -> TradeHistoryScreen:
    await app.run_action("trade_history")  # the h key's action (pressed for real in the restart test)
    await wait_for(lambda: isinstance(app.screen, TradeHistoryScreen) and app.screen.loaded is not None)
    assert isinstance(app.screen, TradeHistoryScreen)
    return app.screen


async def test_trades_made_in_the_sim_show_net_pnl_r_and_reason_after_a_restart(
    console: Console, tmp_path: Path
) -> None:
    """A TP fill and a ticket sell that closed the long: after a restart on the same DB, h lists both with the
    exchange's own closed PnL (net of both fees), R from the entry's stop, and TP / Manual exit; the Fills
    table's PnL column is the exchange's gross execPnl, labelled so."""
    settings = console_settings(tmp_path)
    async with console(size=SIZE, settings=settings) as (app, pilot):
        backend = app.backend
        assert backend is not None and app.runtime is not None
        sim = sim_of(app.runtime)
        take_profit = floor_to_step(last_price(app) * Decimal("1.002"), TICK)  # clear of the next steps
        stops = [await long_with_stop(app, take_profit=take_profit)]
        sim.engine.markets[BTC].set_price(floor_to_step(take_profit * Decimal("1.005"), TICK), sim.clock.now_ms())
        await flat(app)
        stops.append(await long_with_stop(app))
        await backend.place_order(PlaceOrderIntent(BTC, Side.SELL, OrderType.MARKET, QTY))  # the ticket's Sell
        await flat(app)
        records = sorted(account(app).closed_pnls, key=lambda c: c.updated_time, reverse=True)
        assert len(records) == 2
        fills = app.query_one(FillsTable)
        closing = [e for e in account(app).executions if e.closed_size > 0]
        await wait_for(lambda: all(fills.has_row(e.exec_id) for e in closing))
        assert fills.columns[next(k for k in fills.columns if k.value == "gross")].label.plain == "Gross PnL"
        for execution in closing:
            row = fills.row_texts(execution.exec_id)
            assert row["gross"] == fmt.signed_money(execution.exec_pnl)
            assert row["reason"] == ("Manual exit" if execution.order_link_id else "TP")
        await app.runtime.writer.flush()

    newest_first = list(zip(records, reversed(stops), strict=True))
    async with console(size=SIZE, settings=settings) as (app, pilot):
        fills = app.query_one(FillsTable)  # the restarted console starts with the stored fills
        await wait_for(lambda: all(fills.has_row(e.exec_id) for e in closing))
        await pilot.press("h")
        await wait_for(lambda: isinstance(app.screen, TradeHistoryScreen) and app.screen.loaded is not None)
        screen = app.screen
        assert isinstance(screen, TradeHistoryScreen) and isinstance(screen.loaded, TradeHistory)
        assert [t.net_pnl for t in screen.loaded.trades] == [c.closed_pnl for c in records]
        table = screen.query_one(ClosedTradesTable)
        rows = list(map(table.row_texts, table.keys()))
        assert [r["reason"] for r in rows] == ["Manual exit", "TP"]
        for row, (record, stop) in zip(rows, newest_first, strict=True):
            risk = (record.avg_entry_price - stop) * record.closed_size
            assert row["net"] == fmt.signed_money(record.closed_pnl)
            assert row["r"] == r_text(record.closed_pnl / risk)
            assert row["side"] == "Long" and row["symbol"] == BTC
        days = screen.query_one(DaysTable)
        [day] = days.keys()
        net = sum((c.closed_pnl for c in records), Decimal(0))
        wins = sum(c.closed_pnl > 0 for c in records)
        assert days.row_texts(day) == {"day": day, "count": "2", "wins": str(wins), "net": fmt.signed_money(net)}
        assert not screen.query_one("#history-empty").display


async def test_empty_trade_history_says_what_will_be_there(console: Console) -> None:
    async with console(size=(80, 24)) as (app, pilot):
        screen = await open_trade_history(app, pilot)
        empty = screen.query_one("#history-empty")
        assert empty.display and "No closed trades yet" in str(empty.render())
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, TradeHistoryScreen))


@pytest.fixture
def file_log(tmp_path: Path) -> Iterator[Path]:
    """The app's logging as `tui-bot` sets it up (root to a file), undone afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    path = tmp_path / "tui_bot.log"
    configure_logging(path)
    try:
        yield path
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved
        root.setLevel(level)


def pane_lines(app: LocalConsole) -> list[str]:
    return [line.text for line in app.query_one(LogPane).lines]


async def test_every_action_is_one_activity_line_and_a_rejected_order_is_in_the_order_history(
    console: Console, file_log: Path
) -> None:
    async with console(size=SIZE) as (app, pilot):
        backend = app.backend
        assert backend is not None
        handler = PaneLogHandler()
        logging.getLogger().addHandler(handler)
        app.log_handler = handler
        try:
            far = floor_to_step(last_price(app) * Decimal("0.8"), TICK)
            with pytest.raises(ExchangeError) as refused:
                await backend.place_order(PlaceOrderIntent(BTC, Side.BUY, OrderType.LIMIT, Decimal(500), price=far))
            code = refused.value.code
            rest = await backend.place_order(PlaceOrderIntent(BTC, Side.BUY, OrderType.LIMIT, QTY, price=far))
            await wait_for(lambda: rest.order_id in backend.open_orders())
            await backend.cancel_order(BTC, rest.order_id)
            await backend.set_leverage(LeverageIntent(BTC, Decimal(3)))
            await long_with_stop(app)
            target = floor_to_step(last_price(app) * Decimal("1.05"), Decimal(1))  # whole: '109461', not to the tick
            await backend.set_trading_stop(TradingStopIntent(BTC, take_profit=target))
            await backend.close_all()
            await flat(app)
            await pilot.pause(0.5)
        finally:
            logging.getLogger().removeHandler(handler)
        inst = backend.instruments()[BTC]
        expected = [
            f"order rejected: Buy Limit {fmt.qty(Decimal(500), inst)} {BTC} @ {plain(far)}",
            f"order placed: Buy Limit {plain(QTY)} {BTC} @ {plain(far)} (manual entry, id ",
            f"order cancelled: {BTC} order {rest.order_id}",
            f"leverage set: {BTC} 3x",
            f"TP/SL set: {BTC} TP {fmt.price(target, inst)}",
            f"order placed: Sell Market {plain(QTY)} {BTC} reduce-only (panic, id ",
            "PANIC done: cancel every order and close every position at market → 1 position closed",
        ]
        written = file_log.read_text().splitlines()
        shown = pane_lines(app)
        for words in expected:
            assert len([line for line in written if "tui_bot.activity" in line and words in line]) == 1, words
            assert any(words in line for line in shown), words
        [rejection] = [line for line in written if "order rejected" in line]
        assert f"({code})" in rejection and "WARNING" in rejection

        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, OrderHistoryScreen) and app.screen.loaded is not None)
        screen = app.screen
        assert isinstance(screen, OrderHistoryScreen) and screen.loaded is not None
        table = screen.query_one(OrderHistoryTable)
        keys = table.keys()
        statuses = [table.row_texts(key)["status"] for key in keys]
        assert f"Rejected {code}" in statuses and "Cancelled" in statuses and "Filled" in statuses
        times = [entry.time_ms for entry in screen.loaded]
        assert times == sorted(times, reverse=True), "newest first"
        refused_key = keys[statuses.index(f"Rejected {code}")]
        table.move_cursor(row=table.get_row_index(refused_key))
        await pilot.pause()
        entry = table.entries[refused_key]
        detail = str(screen.query_one("#order-detail").render())
        assert f"orderLinkId {entry.order_link_id}" in detail and f"({code})" in detail
        assert entry.qty == Decimal(500) and entry.price == far


async def test_empty_order_history_says_what_will_be_there(console: Console) -> None:
    async with console(size=(80, 24)) as (app, pilot):
        await pilot.press("o")
        await wait_for(lambda: isinstance(app.screen, OrderHistoryScreen) and app.screen.loaded is not None)
        empty = app.screen.query_one("#history-empty")
        assert empty.display and "No orders yet" in str(empty.render())
