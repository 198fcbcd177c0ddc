"""The models behind the golden frames, shared by the golden tests: BTCUSDT, the frames' time, a full ticker."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from tui_bot.domain.models import Instrument, Ticker

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
