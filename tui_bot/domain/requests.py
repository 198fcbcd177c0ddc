"""What the core asks an exchange to do: order requests and their acknowledgements."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order; order_link_id is set by the order service and reused on any retry."""

    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    order_link_id: str
    price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tp_trigger_by: TriggerBy = TriggerBy.LAST
    sl_trigger_by: TriggerBy = TriggerBy.LAST
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: Decimal | None = None
    trigger_direction: int = 0
    trigger_by: TriggerBy = TriggerBy.LAST


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """Changes to a working order; None leaves a field as it is (Decimal 0 removes TP/SL)."""

    symbol: str
    order_id: str = ""
    order_link_id: str = ""
    qty: Decimal | None = None
    price: Decimal | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradingStopRequest:
    """A position's TP / SL / trailing stop; None leaves a leg as it is, Decimal 0 removes it."""

    symbol: str
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    trailing_stop: Decimal | None = None
    active_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The exchange accepted the request (not: filled)."""

    order_id: str
    order_link_id: str
