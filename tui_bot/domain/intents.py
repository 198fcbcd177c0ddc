"""What a console asks the core to do: plain, typed intents (a modal returns one; the console backend carries it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy


@dataclass(frozen=True, slots=True)
class PlaceOrderIntent:
    """A validated new order; price is None for market orders, TP/SL None when not set.

    time_in_force is None for market orders (always IOC); a trigger_price makes the order conditional: it waits
    untriggered until trigger_by's price rises (trigger_direction 1) or falls (2) to it.
    """

    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    leverage: Decimal | None = None
    reduce_only: bool = False
    time_in_force: TimeInForce | None = None
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    trigger_by: TriggerBy = TriggerBy.LAST


@dataclass(frozen=True, slots=True)
class TradingStopIntent:
    """A position's new TP/SL: None leaves a leg as it is, Decimal 0 removes it."""

    symbol: str
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LeverageIntent:
    """Set a symbol's leverage (one-way mode: buy and sell alike)."""

    symbol: str
    leverage: Decimal


@dataclass(frozen=True, slots=True)
class AmendOrderIntent:
    """A working order's new price and/or qty (None leaves it); the order is named by id and orderLinkId."""

    symbol: str
    order_id: str
    order_link_id: str = ""
    qty: Decimal | None = None
    price: Decimal | None = None
