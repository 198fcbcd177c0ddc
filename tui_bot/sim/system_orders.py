"""The exchange's system TP/SL orders: a position's Full take-profit, stop-loss and trailing-stop orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tui_bot.domain.enums import (
    CancelType,
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TpSlMode,
    TriggerBy,
)
from tui_bot.domain.numbers import ZERO
from tui_bot.sim.account import Account
from tui_bot.sim.records import SimOrder, SimPosition

if TYPE_CHECKING:
    from tui_bot.sim.engine import ExchangeEngine

_KIND = {
    StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
    StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
    StopOrderType.TRAILING_STOP: CreateType.BY_TRAILING_STOP,
    StopOrderType.PARTIAL_TAKE_PROFIT: CreateType.BY_PARTIAL_TAKE_PROFIT,
    StopOrderType.PARTIAL_STOP_LOSS: CreateType.BY_PARTIAL_STOP_LOSS,
}


def system_order(
    engine: ExchangeEngine,
    pos: SimPosition,
    kind: StopOrderType,
    trigger: Decimal,
    trigger_by: TriggerBy,
    qty: Decimal,
    parent_link: str = "",
) -> SimOrder:
    """A reduce-only, close-on-trigger market order that fires at trigger (Untriggered)."""
    assert pos.side is not None
    rising = kind in (StopOrderType.TAKE_PROFIT, StopOrderType.PARTIAL_TAKE_PROFIT)
    rising = rising if pos.side is Side.BUY else not rising
    if kind is StopOrderType.TRAILING_STOP:
        rising = pos.side is Side.SELL
    now = engine.clock.now_ms()
    partial = kind in (StopOrderType.PARTIAL_TAKE_PROFIT, StopOrderType.PARTIAL_STOP_LOSS)
    return SimOrder(
        order_id=engine.new_id(),
        order_link_id="",
        symbol=pos.symbol,
        side=pos.side.opposite,
        order_type=OrderType.MARKET,
        qty=qty,
        price=ZERO,
        time_in_force=TimeInForce.IOC,
        status=OrderStatus.UNTRIGGERED,
        created_time=now,
        updated_time=now,
        create_type=_KIND[kind],
        stop_order_type=kind,
        trigger_price=trigger,
        trigger_by=trigger_by,
        trigger_direction=1 if rising else 2,
        tpsl_mode=TpSlMode.PARTIAL if partial else TpSlMode.FULL,
        reduce_only=True,
        close_on_trigger=True,
        parent_order_link_id=parent_link,
        last_price_on_created=engine.markets[pos.symbol].last_price,
    )


def full_order(account: Account, symbol: str, kind: StopOrderType) -> SimOrder | None:
    """The open Full TP, SL or trailing-stop order of kind on symbol, if any."""
    return next((o for o in account.open_orders(symbol) if o.stop_order_type is kind), None)


def set_full_leg(
    engine: ExchangeEngine,
    account: Account,
    pos: SimPosition,
    kind: StopOrderType,
    value: Decimal,
    trigger_by: TriggerBy,
    parent: str = "",
) -> list[SimOrder]:
    """Create, move or remove (value 0) the Full TP or SL order of a position."""
    existing = full_order(account, pos.symbol, kind)
    if kind is StopOrderType.TAKE_PROFIT:
        pos.take_profit, pos.tp_trigger_by = value, trigger_by
    else:
        pos.stop_loss, pos.sl_trigger_by = value, trigger_by
    if existing is not None and value == 0:
        engine.close_order(existing, OrderStatus.DEACTIVATED, cancel=CancelType.BY_USER)
        return [existing]
    if existing is not None:
        existing.trigger_price, existing.trigger_by = value, trigger_by
        existing.updated_time = engine.clock.now_ms()
        return [existing]
    if value == 0:
        return []
    order = system_order(engine, pos, kind, value, trigger_by, pos.size, parent)
    account.orders[order.order_id] = order
    return [order]


def attach_order_tpsl(engine: ExchangeEngine, account: Account, entry: SimOrder) -> list[SimOrder]:
    """After an entry order with takeProfit/stopLoss fills, arm the position's Full TP/SL."""
    pos = account.position(entry.symbol)
    if pos.side is not entry.side:
        return []
    changed: list[SimOrder] = []
    if entry.take_profit:
        changed += set_full_leg(
            engine,
            account,
            pos,
            StopOrderType.TAKE_PROFIT,
            entry.take_profit,
            entry.tp_trigger_by or TriggerBy.LAST,
            entry.order_link_id,
        )
    if entry.stop_loss:
        changed += set_full_leg(
            engine,
            account,
            pos,
            StopOrderType.STOP_LOSS,
            entry.stop_loss,
            entry.sl_trigger_by or TriggerBy.LAST,
            entry.order_link_id,
        )
    return changed
