"""The models behind the golden frames, shared by the golden tests: BTCUSDT, the frames' time and their records."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from tui_bot.domain.models import ClosedPnl, Instrument, Order, Position, Ticker

D = Decimal
NOW = 1784712600123
TAKER = D("0.00055")

BTC = Instrument(
    symbol="BTCUSDT",
    base_coin="BTC",
    quote_coin="USDT",
    tick_size=D("0.10"),
    min_price=D("0.10"),
    max_price=D("1999999.80"),
    qty_step=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("1190.000"),
    max_market_qty=D("119.000"),
    min_notional=D("5"),
    max_leverage=D("100.00"),
    price_scale=2,
    symbol_id=1,
)


def golden_ticker(**changes: Any) -> Ticker:
    """The BTCUSDT ticker of the golden ticker frames, with changes."""
    base = Ticker(
        symbol="BTCUSDT",
        last_price=D("104250.4"),
        mark_price=D("104255"),
        index_price=D("104262.15"),
        bid1_price=D("104250.3"),
        bid1_size=D("1.25"),
        ask1_price=D("104250.4"),
        ask1_size=D("0.873"),
        prev_price_24h=D("103010.2"),
        price_24h_pcnt=D("0.01204"),
        high_price_24h=D("104880"),
        low_price_24h=D("102650.1"),
        prev_price_1h=D("104101.3"),
        open_interest=D("52314.118"),
        open_interest_value=D("5454007887.5813"),
        turnover_24h=D("3107433385.43981"),
        volume_24h=D("29741.134"),
        funding_rate=D("0.0001"),
        next_funding_time=1784736000000,
        tick_direction="PlusTick",
        ts=NOW,
    )
    return replace(base, **changes)


def golden_market_order() -> Order:
    """The filled market buy of the golden order frames."""
    return Order(
        order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        order_link_id="mkt-buy-0001",
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=D("0.010"),
        price=D("109462.9"),
        time_in_force=TimeInForce.IOC,
        status=OrderStatus.FILLED,
        created_time=NOW,
        updated_time=NOW + 2,
        avg_price=D("104250.4"),
        cum_exec_qty=D("0.010"),
        cum_exec_value=D("1042.504"),
        cum_exec_fee=D("0.5733772"),
        last_price_on_created=D("104250.4"),
    )


def golden_long() -> Position:
    """The BTCUSDT long of the golden position frames."""
    return Position(
        symbol="BTCUSDT",
        side=Side.BUY,
        size=D("0.010"),
        entry_price=D("104250.4"),
        leverage=D(10),
        mark_price=D("104255.0"),
        liq_price=D("94351.7"),
        take_profit=D("106000"),
        position_im=D("104.82341"),
        position_mm=D("5.78546"),
        cur_realised_pnl=D("-0.5733772"),
        cum_realised_pnl=D("-0.5733772"),
        created_time=NOW + 2,
        updated_time=NOW + 2,
        open_time=NOW + 2,
        seq=9821347654,
    )


def golden_closed_pnl() -> ClosedPnl:
    """The closed-pnl record of the golden closed-pnl frames (the long above, closed by a market sell)."""
    return ClosedPnl(
        symbol="BTCUSDT",
        order_id="5f1d9c3e-77a2-4b0f-8d5e-0c6a9b2e4f31",
        side=Side.SELL,
        qty=D("0.010"),
        order_price=D("99044.7"),
        order_type=OrderType.MARKET,
        closed_size=D("0.010"),
        cum_entry_value=D("1042.504"),
        avg_entry_price=D("104250.4"),
        cum_exit_value=D("1048.201"),
        avg_exit_price=D("104820.1"),
        closed_pnl=D("4.54711225"),
        fill_count=1,
        leverage=D(10),
        open_fee=D("0.5733772"),
        close_fee=D("0.5765105500"),
        created_time=1784716200000,
        updated_time=1784716200002,
    )
