"""Snapshots of the trade and order history screens at 80×24 and 120×36, on fixed rows built by the core's own
functions (so every run draws the same; the pilot tests in test_history.py fill them from the exchange)."""

from __future__ import annotations

import calendar
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.core.conftest import wait_for
from tui_bot.core.history import OrderEntry, TradeHistory, order_history, trade_history
from tui_bot.domain.enums import CancelType, OrderStatus, OrderType, Side, StopOrderType, TimeInForce
from tui_bot.domain.models import Order
from tui_bot.sim.instruments import market_specs
from tui_bot.store.rows import RejectedOrder, Trade
from tui_bot.ui.screens._history import HistoryScreen
from tui_bot.ui.screens.order_history import OrderHistoryScreen
from tui_bot.ui.screens.trade_history import TradeHistoryScreen
from tui_bot.ui.styles import ThemeTones

D = Decimal
NOON = calendar.timegm((2099, 6, 1, 12, 0, 0)) * 1000
MINUTE = 60_000
INSTRUMENTS = {symbol: spec.instrument for symbol, spec in market_specs(["BTCUSDT", "ETHUSDT"]).items()}
SIZES = [(80, 24), (120, 36)]
IDS = ["80x24", "120x36"]


def trade(n: int, symbol: str, side: Side, entry: str, exit_: str, pnl: str | None, reason: str, **kw: Any) -> Trade:
    qty = D("0.500") if symbol == "ETHUSDT" else D("0.010")
    return Trade(
        open_exec_id=f"x{n}",
        symbol=symbol,
        side=side,
        status="closed",
        qty=qty,
        entry_price=D(entry),
        entry_time=NOON - n * 97 * MINUTE,
        fees=D("1.1466"),
        exit_qty=qty if pnl is not None else D(0),
        exit_price=D(exit_) if pnl is not None else None,
        exit_time=NOON - n * 97 * MINUTE + (n + 1) * 13 * MINUTE,
        pnl=D(pnl) if pnl is not None else None,
        exit_reason=reason,
        entry_order_link_id=f"tb1-me-snap-{n}",
        **kw,
    )


def order(n: int, status: OrderStatus, **kw: Any) -> Order:
    fields: dict[str, Any] = {
        "order_id": f"5f1c2d3e-0000-4000-8000-00000000000{n}",
        "order_link_id": f"tb1-me-mx9gjff{n}-a5{n}",
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "qty": D("0.010"),
        "price": D(0),
        "time_in_force": TimeInForce.IOC,
        "status": status,
        "created_time": NOON - n * 7 * MINUTE,
        "updated_time": NOON - n * 7 * MINUTE,
    }
    fields.update(kw)
    return Order(**fields)


def history() -> TradeHistory:
    trades = [
        trade(0, "BTCUSDT", Side.BUY, "104250.40", "104553.40", "1.8834", "take_profit"),
        trade(1, "ETHUSDT", Side.SELL, "3120.55", "3140.00", "-11.4416", "stop_loss"),
        trade(2, "BTCUSDT", Side.BUY, "104010.10", "103950.00", "-1.7476", "manual_entry"),
        trade(15, "BTCUSDT", Side.SELL, "104900.00", "", None, "reconciled"),
    ]
    stops = [order(0, OrderStatus.FILLED, order_link_id="tb1-me-snap-0", avg_price=D("104250.40"), stop_loss=D(102000))]
    stops.append(
        replace(stops[0], order_id="e1", order_link_id="tb1-me-snap-1", avg_price=D("3120.55"), stop_loss=D(3143))
    )
    return trade_history(trades, stops)


def orders() -> tuple[OrderEntry, ...]:
    held = [
        order(1, OrderStatus.FILLED, cum_exec_qty=D("0.010"), avg_price=D("104250.40"), stop_loss=D(102000)),
        order(
            2,
            OrderStatus.DEACTIVATED,
            order_link_id="",
            side=Side.SELL,
            stop_order_type=StopOrderType.TAKE_PROFIT,
            trigger_price=D(110000),
            reduce_only=True,
        ),
        order(
            3, OrderStatus.CANCELLED, order_type=OrderType.LIMIT, price=D("83391.60"), cancel_type=CancelType.BY_USER
        ),
        order(4, OrderStatus.FILLED, side=Side.SELL, cum_exec_qty=D("0.010"), avg_price=D("104553.40")),
    ]
    refused = RejectedOrder(
        order_link_id="tb1-me-mx9gjfzz-a5z",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("500.000"),
        price=D("83391.60"),
        reduce_only=False,
        code=110007,
        message="Insufficient balance (110007)",
        ts_ms=NOON,
    )
    return order_history(held, [refused], 500)


class Host(ThemeTones, App[None]):
    """Opens one history screen at once."""

    def __init__(self, screen: HistoryScreen[Any]) -> None:
        super().__init__()
        self.history = screen

    def on_mount(self) -> None:
        self.push_screen(self.history)


def trade_app() -> Host:
    async def load() -> TradeHistory:
        return history()

    return Host(TradeHistoryScreen(load, INSTRUMENTS))


def order_app() -> Host:
    async def load() -> tuple[OrderEntry, ...]:
        return orders()

    return Host(OrderHistoryScreen(load, INSTRUMENTS))


async def loaded(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, Host)
    await wait_for(lambda: app.history.loaded is not None)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_trade_history(snap_compare: Any, size: tuple[int, int]) -> None:
    """TP, SL, a ticket sell that closed the long (Manual exit) and a reconciled trade with no known exit; R where
    the entry had a stop; PnL by UTC day below."""
    assert snap_compare(trade_app(), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_order_history(snap_compare: Any, size: tuple[int, int]) -> None:
    """The refused order on top (newest) with its code and words in the detail line, then filled, cancelled and
    the exchange's deactivated TP."""
    assert snap_compare(order_app(), terminal_size=size, run_before=loaded)
