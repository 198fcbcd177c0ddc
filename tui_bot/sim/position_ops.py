"""set-leverage and trading-stop: validate, then arm, move or cancel a position's TP/SL/trailing orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import CancelType, OrderStatus, StopOrderType, TriggerBy
from tui_bot.domain.numbers import ZERO, is_multiple
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import Codes, SimError, params_error
from tui_bot.sim.market import SymbolMarket
from tui_bot.sim.order_entry import TRIGGERS, check_price, check_tpsl_sides
from tui_bot.sim.params import Params, require_linear
from tui_bot.sim.records import SimOrder, SimPosition
from tui_bot.sim.system_orders import full_order, set_full_leg, system_order


def set_leverage(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """Set the symbol's leverage (one-way mode: buy and sell must match)."""
    p = Params(raw)
    require_linear(p)
    symbol = p.symbol(required=True)
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


def trading_stop(engine: ExchangeEngine, account: Account, raw: dict[str, Any]) -> dict[str, Any]:
    """Set, move or cancel a position's TP, SL and trailing stop."""
    p = Params(raw)
    require_linear(p)
    symbol = p.symbol(required=True)
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
        unchanged = (
            (tp is None or (tp == pos.take_profit and tp_by is pos.tp_trigger_by))
            and (sl is None or (sl == pos.stop_loss and sl_by is pos.sl_trigger_by))
            and (trail is None or trail == pos.trailing_stop)
        )
        if unchanged:
            raise SimError(Codes.NOT_MODIFIED, "not modified")
        changed = []
        if tp is not None:
            changed += set_full_leg(engine, account, pos, StopOrderType.TAKE_PROFIT, tp, tp_by)
        if sl is not None:
            changed += set_full_leg(engine, account, pos, StopOrderType.STOP_LOSS, sl, sl_by)
    if trail is not None:
        changed += _set_trailing(engine, account, pos, trail, active)
    pos.updated_time = engine.clock.now_ms()
    engine.emit_order_change(account, changed)
    return {}


def _partial_legs(
    engine: ExchangeEngine,
    account: Account,
    pos: SimPosition,
    p: Params,
    tp: Decimal | None,
    sl: Decimal | None,
    tp_by: TriggerBy,
    sl_by: TriggerBy,
) -> list[SimOrder]:
    """Partial mode: separate TP and SL orders of tpSize / slSize that do not track the position."""
    tp_size, sl_size = p.decimal("tpSize"), p.decimal("slSize")
    if (tp and not tp_size) or (sl and not sl_size) or (tp_size and sl_size and tp_size != sl_size):
        raise params_error("params error: tpSize and slSize are required and must be equal in Partial mode")
    size = tp_size or sl_size or ZERO
    if size > pos.size:
        raise params_error("params error: tpSize/slSize can not exceed the position size")
    created = []
    for value, kind, by in (
        (tp, StopOrderType.PARTIAL_TAKE_PROFIT, tp_by),
        (sl, StopOrderType.PARTIAL_STOP_LOSS, sl_by),
    ):
        if value:
            order = system_order(engine, pos, kind, value, by, size)
            account.orders[order.order_id] = order
            created.append(order)
    return created


def _check_trailing(market: SymbolMarket, pos: SimPosition, distance: Decimal | None, active: Decimal) -> None:
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


def _set_trailing(
    engine: ExchangeEngine, account: Account, pos: SimPosition, distance: Decimal, active: Decimal
) -> list[SimOrder]:
    """Arm, move or cancel (distance 0) the trailing stop; activePrice delays it until reached."""
    assert pos.side is not None
    market = engine.markets[pos.symbol]
    existing = full_order(account, pos.symbol, StopOrderType.TRAILING_STOP)
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
