"""set-leverage and trading-stop, and the system TP/SL/trailing orders behind a position."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
from tui_bot.domain.models import Order, Position
from tui_bot.domain.numbers import ZERO, is_multiple
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError, params_error
from tui_bot.sim.market import SymbolMarket
from tui_bot.sim.order_entry import TRIGGERS, check_price, check_tpsl_sides
from tui_bot.sim.params import Params, require_linear

_KIND = {
    StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
    StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
    StopOrderType.TRAILING_STOP: CreateType.BY_TRAILING_STOP,
    StopOrderType.PARTIAL_TAKE_PROFIT: CreateType.BY_PARTIAL_TAKE_PROFIT,
    StopOrderType.PARTIAL_STOP_LOSS: CreateType.BY_PARTIAL_STOP_LOSS,
}


def set_leverage(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """Set the symbol's leverage (one-way mode: buy and sell must match)."""
    p = Params(raw)
    require_linear(p)
    symbol = p.string("symbol", required=True)
    inst = engine.market(symbol).instrument
    buy = p.decimal("buyLeverage", required=True)
    sell = p.decimal("sellLeverage", required=True)
    assert buy is not None and sell is not None
    if buy != sell:
        raise params_error("params error: buyLeverage must equal sellLeverage in one-way mode")
    if not inst.min_leverage <= buy <= inst.max_leverage or not is_multiple(buy, inst.leverage_step):
        raise params_error(f"params error: leverage must be between {inst.min_leverage} and {inst.max_leverage}")
    pos = account.position(symbol)
    if pos.leverage == buy:
        raise SimError(Codes.LEVERAGE_NOT_MODIFIED, "leverage not modified")
    pos.leverage = buy
    pos.updated_time = engine.clock.now_ms()
    engine.emit_position(account, symbol)
    engine.emit_wallet(account)
    return {}


def system_order(engine: ExchangeEngine, pos: Position, kind: StopOrderType, trigger: Decimal,
                 trigger_by: TriggerBy, qty: Decimal, parent_link: str = "") -> Order:
    """A reduce-only, close-on-trigger market order that fires at trigger (Untriggered)."""
    assert pos.side is not None
    rising = kind in (StopOrderType.TAKE_PROFIT, StopOrderType.PARTIAL_TAKE_PROFIT)
    rising = rising if pos.side is Side.BUY else not rising
    if kind is StopOrderType.TRAILING_STOP:
        rising = pos.side is Side.SELL
    now = engine.clock.now_ms()
    partial = kind in (StopOrderType.PARTIAL_TAKE_PROFIT, StopOrderType.PARTIAL_STOP_LOSS)
    return Order(
        order_id=engine.new_id(), order_link_id="", symbol=pos.symbol, side=pos.side.opposite,
        order_type=OrderType.MARKET, qty=qty, price=ZERO, time_in_force=TimeInForce.IOC,
        status=OrderStatus.UNTRIGGERED, created_time=now, updated_time=now, create_type=_KIND[kind],
        stop_order_type=kind, trigger_price=trigger, trigger_by=trigger_by,
        trigger_direction=1 if rising else 2, tpsl_mode=TpSlMode.PARTIAL if partial else TpSlMode.FULL,
        reduce_only=True, close_on_trigger=True, parent_order_link_id=parent_link,
        last_price_on_created=engine.markets[pos.symbol].last_price,
    )


def _full_order(account: Account, symbol: str, kind: StopOrderType) -> Order | None:
    return next((o for o in account.open_orders(symbol) if o.stop_order_type is kind), None)


def _set_full_leg(engine: ExchangeEngine, account: Account, pos: Position, kind: StopOrderType,
                  value: Decimal, trigger_by: TriggerBy, parent: str = "") -> list[Order]:
    """Create, move or remove (value 0) the Full TP or SL order of a position."""
    existing = _full_order(account, pos.symbol, kind)
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


def attach_order_tpsl(engine: ExchangeEngine, account: Account, entry: Order) -> list[Order]:
    """After an entry order with takeProfit/stopLoss fills, arm the position's Full TP/SL."""
    pos = account.position(entry.symbol)
    if pos.side is not entry.side:
        return []
    changed: list[Order] = []
    if entry.take_profit:
        changed += _set_full_leg(engine, account, pos, StopOrderType.TAKE_PROFIT, entry.take_profit,
                                 entry.tp_trigger_by or TriggerBy.LAST, entry.order_link_id)
    if entry.stop_loss:
        changed += _set_full_leg(engine, account, pos, StopOrderType.STOP_LOSS, entry.stop_loss,
                                 entry.sl_trigger_by or TriggerBy.LAST, entry.order_link_id)
    return changed


def trading_stop(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """Set, move or cancel a position's TP, SL and trailing stop."""
    p = Params(raw)
    require_linear(p)
    symbol = p.string("symbol", required=True)
    market = engine.market(symbol)
    mode = p.choice("tpslMode", ("Full", "Partial"), required=True)
    if p.integer("positionIdx") is None:
        raise params_error("params error: positionIdx is required")
    if p.integer("positionIdx") != 0:
        raise params_error("position idx not match position mode")
    tp, sl, trail = p.decimal("takeProfit"), p.decimal("stopLoss"), p.decimal("trailingStop")
    active = p.decimal("activePrice") or ZERO
    if tp is None and sl is None and trail is None:
        raise params_error("params error: takeProfit, stopLoss or trailingStop is required")
    pos = account.position(symbol)
    if pos.side is None or pos.size == 0:
        raise params_error("can not set tp/sl/ts for zero position")
    tp_by = TriggerBy(p.choice("tpTriggerBy", TRIGGERS, default=pos.tp_trigger_by.value))
    sl_by = TriggerBy(p.choice("slTriggerBy", TRIGGERS, default=pos.sl_trigger_by.value))
    for value, name in ((tp, "takeProfit"), (sl, "stopLoss")):
        if value:
            check_price(market.instrument, value, name)
    check_tpsl_sides(pos.side, market.last_price, tp or None, sl or None)
    _check_trailing(market, pos, trail, active)
    if mode == "Partial":
        changed = _partial_legs(engine, account, pos, p, tp, sl, tp_by, sl_by)
    else:
        unchanged = ((tp is None or (tp == pos.take_profit and tp_by is pos.tp_trigger_by))
                     and (sl is None or (sl == pos.stop_loss and sl_by is pos.sl_trigger_by))
                     and (trail is None or trail == pos.trailing_stop))
        if unchanged:
            raise SimError(Codes.NOT_MODIFIED, "not modified")
        changed = []
        if tp is not None:
            changed += _set_full_leg(engine, account, pos, StopOrderType.TAKE_PROFIT, tp, tp_by)
        if sl is not None:
            changed += _set_full_leg(engine, account, pos, StopOrderType.STOP_LOSS, sl, sl_by)
    if trail is not None:
        changed += _set_trailing(engine, account, pos, trail, active)
    pos.updated_time = engine.clock.now_ms()
    engine.emit_order_change(account, changed)
    return {}


def _partial_legs(engine: ExchangeEngine, account: Account, pos: Position, p: Params,
                  tp: Decimal | None, sl: Decimal | None, tp_by: TriggerBy, sl_by: TriggerBy) -> list[Order]:
    """Partial mode: separate TP and SL orders of tpSize / slSize that do not track the position."""
    tp_size, sl_size = p.decimal("tpSize"), p.decimal("slSize")
    if (tp and not tp_size) or (sl and not sl_size) or (tp_size and sl_size and tp_size != sl_size):
        raise params_error("params error: tpSize and slSize are required and must be equal in Partial mode")
    size = tp_size or sl_size or ZERO
    if size > pos.size:
        raise params_error("params error: tpSize/slSize can not exceed the position size")
    created = []
    for value, kind, by in ((tp, StopOrderType.PARTIAL_TAKE_PROFIT, tp_by), (sl, StopOrderType.PARTIAL_STOP_LOSS, sl_by)):
        if value:
            order = system_order(engine, pos, kind, value, by, size)
            account.orders[order.order_id] = order
            created.append(order)
    return created


def _check_trailing(market: SymbolMarket, pos: Position, distance: Decimal | None, active: Decimal) -> None:
    """Validate trailingStop and activePrice before trading-stop changes anything."""
    assert pos.side is not None
    if not distance:
        return
    if distance > market.instrument.max_price or not is_multiple(distance, market.tick):
        raise params_error("params error: trailingStop must be a multiple of tickSize within the price range")
    if active:
        check_price(market.instrument, active, "activePrice")
        if (active - market.last_price) * pos.side.sign <= 0:
            raise params_error("params error: activePrice must be beyond the last price in the position's favour")


def _set_trailing(engine: ExchangeEngine, account: Account, pos: Position, distance: Decimal, active: Decimal) -> list[Order]:
    """Arm, move or cancel (distance 0) the trailing stop; activePrice delays it until reached."""
    assert pos.side is not None
    market = engine.markets[pos.symbol]
    existing = _full_order(account, pos.symbol, StopOrderType.TRAILING_STOP)
    pos.trailing_stop = distance
    if distance == 0:
        if existing is None:
            return []
        engine.close_order(existing, OrderStatus.DEACTIVATED, cancel=CancelType.BY_USER)
        return [existing]
    anchor = active or market.last_price
    trigger = anchor - distance * pos.side.sign
    order = existing or system_order(engine, pos, StopOrderType.TRAILING_STOP, trigger, TriggerBy.LAST, pos.size)
    order.trigger_price = trigger
    order.trailing_distance = distance
    order.trailing_active_price = active
    order.updated_time = engine.clock.now_ms()
    account.orders[order.order_id] = order
    return [order]
