"""The embedded exchange's own mutable records of orders and positions (the domain's published ones are frozen).

The exchange changes an order or a position in place as it fills, amends and triggers; what it sends is the wire form
of these records, never the records themselves. Each has the fields of its domain model (and its figures), so the
sim's wire functions take either.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_bot.domain.enums import (
    CancelType,
    CreateType,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    StopOrderType,
    TimeInForce,
    TpSlMode,
    TriggerBy,
)
from tui_bot.domain.models import Order, OrderFigures, Position, PositionFigures
from tui_bot.domain.numbers import ZERO


@dataclass(slots=True)
class SimOrder(OrderFigures):
    """An order as the exchange holds and changes it (domain.models.Order's fields)."""

    order_id: str
    order_link_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal
    time_in_force: TimeInForce
    status: OrderStatus
    created_time: int
    updated_time: int
    create_type: CreateType = CreateType.BY_USER
    cancel_type: CancelType = CancelType.UNKNOWN
    reject_reason: RejectReason = RejectReason.NO_ERROR
    avg_price: Decimal = ZERO
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    closed_pnl: Decimal = ZERO
    stop_order_type: StopOrderType = StopOrderType.NONE
    trigger_price: Decimal = ZERO
    trigger_by: TriggerBy | None = None
    trigger_direction: int = 0
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    tp_trigger_by: TriggerBy | None = None
    sl_trigger_by: TriggerBy | None = None
    tpsl_mode: TpSlMode | None = None
    tp_limit_price: Decimal = ZERO
    sl_limit_price: Decimal = ZERO
    reduce_only: bool = False
    close_on_trigger: bool = False
    position_idx: int = 0
    parent_order_link_id: str = ""
    last_price_on_created: Decimal = ZERO
    trailing_distance: Decimal = ZERO
    trailing_active_price: Decimal = ZERO


@dataclass(slots=True)
class SimPosition(PositionFigures):
    """A position as the exchange holds and changes it (domain.models.Position's fields)."""

    symbol: str
    side: Side | None = None
    size: Decimal = ZERO
    entry_price: Decimal = ZERO
    leverage: Decimal = Decimal(10)
    mark_price: Decimal = ZERO
    liq_price: Decimal | None = None
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    trailing_stop: Decimal = ZERO
    tp_trigger_by: TriggerBy = TriggerBy.LAST
    sl_trigger_by: TriggerBy = TriggerBy.LAST
    position_im: Decimal = ZERO
    position_mm: Decimal = ZERO
    cur_realised_pnl: Decimal = ZERO
    cum_realised_pnl: Decimal = ZERO
    session_avg_price: Decimal = ZERO
    created_time: int = 0
    updated_time: int = 0
    open_time: int = 0
    seq: int = -1


AnyOrder = Order | SimOrder
"""What the sim's wire functions serialise: its own record, or a domain order (golden-frame tests build those)."""
AnyPosition = Position | SimPosition
