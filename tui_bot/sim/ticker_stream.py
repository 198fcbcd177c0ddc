"""Streaming one symbol's WS ticker: a snapshot once, then deltas that format only the changed fields."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tui_bot.domain.models import Instrument, Ticker
from tui_bot.sim.wire import Wire, fmt_amount, fmt_price, fmt_qty, ticker_to_wire


def _pcnt(value: Decimal, inst: Instrument) -> str:
    return fmt_amount(value, 6)


def _two(value: Decimal, inst: Instrument) -> str:
    return fmt_amount(value, 2)


def _four(value: Decimal, inst: Instrument) -> str:
    return fmt_amount(value, 4)


def _rate(value: Decimal, inst: Instrument) -> str:
    return fmt_amount(value)


def _text(value: object, inst: Instrument) -> str:
    return str(value)


# (wire keys, Ticker attribute, formatter) of every ticker field that can change; must match ticker_to_wire.
_TICKER_FIELDS: tuple[tuple[tuple[str, ...], str, Callable[[Any, Instrument], str]], ...] = (
    (("lastPrice",), "last_price", fmt_price),
    (("indexPrice",), "index_price", fmt_price),
    (("markPrice",), "mark_price", fmt_price),
    (("bid1Price",), "bid1_price", fmt_price),
    (("bid1Size",), "bid1_size", fmt_qty),
    (("ask1Price",), "ask1_price", fmt_price),
    (("ask1Size",), "ask1_size", fmt_qty),
    (("tickDirection",), "tick_direction", _text),
    (("highPrice24h",), "high_price_24h", fmt_price),
    (("lowPrice24h",), "low_price_24h", fmt_price),
    (("volume24h",), "volume_24h", fmt_qty),
    (("turnover24h",), "turnover_24h", _four),
    (("price24hPcnt",), "price_24h_pcnt", _pcnt),
    (("prevPrice24h",), "prev_price_24h", fmt_price),
    (("prevPrice1h",), "prev_price_1h", fmt_price),
    (("openInterest", "singleOpenInterest"), "open_interest", fmt_qty),
    (("openInterestValue", "singleOpenInterestValue"), "open_interest_value", _two),
    (("fundingRate",), "funding_rate", _rate),
    (("nextFundingTime",), "next_funding_time", _text),
)


class TickerEncoder:
    """Streams one symbol's WS ticker: a full snapshot once, then deltas formatting only changed fields."""

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.snapshot: Wire = {}
        self._seen: dict[str, object] = {}

    def update(self, t: Ticker) -> Wire:
        """Fold t into the snapshot and return the delta (symbol plus changed fields)."""
        if not self.snapshot:
            self.snapshot = ticker_to_wire(t, self.inst, ws=True)
            self._seen = {attr: getattr(t, attr) for _, attr, _ in _TICKER_FIELDS}
            return dict(self.snapshot)
        seen, inst = self._seen, self.inst
        delta: Wire = {"symbol": t.symbol}
        for keys, attr, fmt in _TICKER_FIELDS:
            value = getattr(t, attr)
            if seen[attr] != value:
                seen[attr] = value
                text = fmt(value, inst)
                for key in keys:
                    delta[key] = text
        self.snapshot.update(delta)
        return delta
