"""Instrument filters and starting market parameters for the embedded exchange."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.models import Instrument
from tui_bot.domain.numbers import round_to_step


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """An instrument plus the parameters of its simulated price process."""

    instrument: Instrument
    start_price: Decimal
    annual_vol: float
    top_size: Decimal


def _btc() -> MarketSpec:
    inst = Instrument(
        symbol="BTCUSDT",
        base_coin="BTC",
        quote_coin="USDT",
        tick_size=Decimal("0.10"),
        min_price=Decimal("0.10"),
        max_price=Decimal("1999999.80"),
        qty_step=Decimal("0.001"),
        min_qty=Decimal("0.001"),
        max_qty=Decimal("1190.000"),
        max_market_qty=Decimal("119.000"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("100.00"),
        price_scale=2,
        symbol_id=1,
        maintenance_margin_rate=Decimal("0.005"),
    )
    return MarketSpec(inst, Decimal("104250.40"), 0.50, Decimal("2.500"))


def _eth() -> MarketSpec:
    inst = Instrument(
        symbol="ETHUSDT",
        base_coin="ETH",
        quote_coin="USDT",
        tick_size=Decimal("0.01"),
        min_price=Decimal("0.01"),
        max_price=Decimal("199999.98"),
        qty_step=Decimal("0.01"),
        min_qty=Decimal("0.01"),
        max_qty=Decimal("7240.00"),
        max_market_qty=Decimal("724.00"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("100.00"),
        price_scale=2,
        symbol_id=2,
        maintenance_margin_rate=Decimal("0.005"),
    )
    return MarketSpec(inst, Decimal("3412.55"), 0.65, Decimal("40.00"))


def _sol() -> MarketSpec:
    inst = Instrument(
        symbol="SOLUSDT",
        base_coin="SOL",
        quote_coin="USDT",
        tick_size=Decimal("0.010"),
        min_price=Decimal("0.010"),
        max_price=Decimal("19999.980"),
        qty_step=Decimal("0.1"),
        min_qty=Decimal("0.1"),
        max_qty=Decimal("79770.0"),
        max_market_qty=Decimal("7977.0"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("100.00"),
        price_scale=3,
        symbol_id=3,
        maintenance_margin_rate=Decimal("0.01"),
    )
    return MarketSpec(inst, Decimal("178.420"), 0.90, Decimal("800.0"))


_KNOWN = {"BTCUSDT": _btc, "ETHUSDT": _eth, "SOLUSDT": _sol}
DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


def _synthetic(symbol: str, symbol_id: int) -> MarketSpec:
    """A plausible mid-cap contract for any other symbol, derived from its name."""
    digest = int(hashlib.sha256(symbol.encode()).hexdigest()[:8], 16)
    price = Decimal(1 + digest % 900) / Decimal(10)
    tick = Decimal("0.0001")
    inst = Instrument(
        symbol=symbol,
        base_coin=symbol.removesuffix("USDT"),
        quote_coin="USDT",
        tick_size=tick,
        min_price=tick,
        max_price=Decimal("1999.9998"),
        qty_step=Decimal("1"),
        min_qty=Decimal("1"),
        max_qty=Decimal("5000000"),
        max_market_qty=Decimal("500000"),
        min_notional=Decimal("5"),
        max_leverage=Decimal("50.00"),
        price_scale=4,
        symbol_id=symbol_id,
        maintenance_margin_rate=Decimal("0.01"),
    )
    return MarketSpec(inst, round_to_step(price, tick), 1.0, Decimal("5000"))


def market_specs(symbols: list[str] | tuple[str, ...]) -> dict[str, MarketSpec]:
    """Specs for the requested symbols: known majors keep real filters, others get synthetic ones."""
    specs: dict[str, MarketSpec] = {}
    for index, raw in enumerate(symbols):
        symbol = raw.strip().upper()
        if not symbol:
            continue
        if not symbol.isalnum() or not symbol.endswith("USDT"):
            raise ValueError(f"not a linear USDT symbol: {raw!r}")
        factory = _KNOWN.get(symbol)
        specs[symbol] = factory() if factory else _synthetic(symbol, 100 + index)
    if not specs:
        raise ValueError("at least one symbol is required")
    return specs
