"""One exchange step: move prices, fill resting orders, fire triggers, trail stops, settle funding."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_bot.domain.enums import (
    CancelType,
    ExecType,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
    StopOrderType,
    TimeInForce,
)
from tui_bot.domain.models import Execution, Kline, PublicTrade
from tui_bot.domain.numbers import ZERO
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.errors import SimError
from tui_bot.sim.order_entry import check_funds, execute_new
from tui_bot.sim.records import SimOrder


@dataclass(slots=True)
class StepResult:
    """What one step produced for the public streams."""

    trades: dict[str, list[PublicTrade]] = field(default_factory=dict)
    closed_bars: list[Kline] = field(default_factory=list)


def step_exchange(engine: ExchangeEngine) -> StepResult:
    """Advance every market one step and react to the new prices."""
    now = engine.clock.now_ms()
    for market in engine.markets.values():
        market.step(now)
    for account in engine.accounts.values():
        react_to_prices(engine, account)
    result = StepResult()
    for symbol, market in engine.markets.items():
        trades = market.take_trades()
        if trades:
            result.trades[symbol] = trades
    for (symbol, _interval), series in engine.candles.items():
        for trade in result.trades.get(symbol, ()):
            result.closed_bars += series.on_trade(trade.price, trade.size, trade.time)
        result.closed_bars += series.roll(now)
    return result


def react_to_prices(engine: ExchangeEngine, account: Account) -> None:
    """Re-mark positions, then fill crossed resting orders and fire reached triggers."""
    for pos in account.positions.values():
        if pos.size:
            pos.mark_price = engine.markets[pos.symbol].mark_price
    for order in account.open_orders():
        if not order.status.is_open:
            continue
        if order.status is OrderStatus.UNTRIGGERED:
            _trail(engine, order)
            if _reached(engine, order):
                fire_trigger(engine, account, order)
        elif order.order_type is OrderType.LIMIT:
            _fill_resting(engine, account, order)


def _fill_resting(engine: ExchangeEngine, account: Account, order: SimOrder) -> None:
    """A resting limit fills as maker at its price once the opposite best reaches it."""
    market = engine.markets[order.symbol]
    best, size = (
        (market.ask1_price, market.ask1_size) if order.side is Side.BUY else (market.bid1_price, market.bid1_size)
    )
    gap = (order.price - best) * order.side.sign
    if gap < 0:
        return
    qty = order.leaves_qty if gap > 0 else min(order.leaves_qty, size)
    if order.reduce_only:
        qty = min(qty, engine.reduce_only_cap(account, order))
    if qty <= 0:
        return
    execution = engine.fill(account, order, order.price, qty, maker=True)
    engine.settle_status(order)
    engine.after_fill(account, order, [execution])


def _trail(engine: ExchangeEngine, order: SimOrder) -> None:
    """Move an active trailing stop's trigger behind the best price seen."""
    if order.stop_order_type is not StopOrderType.TRAILING_STOP or not order.trailing_distance:
        return
    last = engine.markets[order.symbol].last_price
    long_position = order.side is Side.SELL
    if order.trailing_active_price:
        reached = last >= order.trailing_active_price if long_position else last <= order.trailing_active_price
        if not reached:
            return
        order.trailing_active_price = ZERO
    candidate = last - order.trailing_distance if long_position else last + order.trailing_distance
    if (long_position and candidate > order.trigger_price) or (not long_position and candidate < order.trigger_price):
        order.trigger_price = candidate


def _reached(engine: ExchangeEngine, order: SimOrder) -> bool:
    if order.trailing_active_price:
        return False
    price = engine.markets[order.symbol].price_for(order.trigger_by.value if order.trigger_by else "LastPrice")
    return price >= order.trigger_price if order.trigger_direction == 1 else price <= order.trigger_price


def fire_trigger(engine: ExchangeEngine, account: Account, order: SimOrder) -> None:
    """Untriggered → Triggered, then execute: system TP/SL close the position at market."""
    market = engine.markets[order.symbol]
    order.status = OrderStatus.TRIGGERED
    order.updated_time = engine.clock.now_ms()
    engine.emit_orders(account, [order])
    if order.reduce_only:
        cap = engine.reduce_only_cap(account, order)
        if cap == 0:
            engine.close_order(order, OrderStatus.DEACTIVATED, cancel=CancelType.BY_REDUCE_ONLY)
            engine.emit_order_change(account, [order])
            return
        if order.stop_order_type in (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS, StopOrderType.TRAILING_STOP):
            order.qty = cap
        order.qty = min(order.qty, cap)
    order.status = OrderStatus.NEW
    if not order.reduce_only:
        try:
            check_funds(engine, account, order, triggered=True)
        except SimError:
            engine.close_order(order, OrderStatus.CANCELLED, reason=RejectReason.OTHERS)
            engine.emit_order_change(account, [order])
            return
    if order.order_type is OrderType.MARKET:
        order.price = market.protective_price(order.side)
        order.time_in_force = TimeInForce.IOC
    execute_new(engine, account, order)


def settle_funding(engine: ExchangeEngine) -> None:
    """Charge or pay funding on every open position at mark price and the current rate."""
    now = engine.clock.now_ms()
    for account in engine.accounts.values():
        for pos in list(account.positions.values()):
            if pos.side is None or pos.size == 0:
                continue
            market = engine.markets[pos.symbol]
            value = pos.size * market.mark_price
            fee = value * market.funding_rate * pos.side.sign
            account.wallet_balance -= fee
            account.cum_realised_pnl -= fee
            pos.cur_realised_pnl -= fee
            pos.cum_realised_pnl -= fee
            seq = account.next_seq()
            pos.seq = seq
            execution = Execution(
                exec_id=engine.new_id(),
                order_id="",
                order_link_id="",
                symbol=pos.symbol,
                side=pos.side,
                exec_type=ExecType.FUNDING,
                exec_price=market.mark_price,
                exec_qty=pos.size,
                exec_value=value,
                exec_fee=fee,
                fee_rate=market.funding_rate,
                exec_time=now,
                is_maker=False,
                order_type=None,
                order_price=ZERO,
                order_qty=ZERO,
                leaves_qty=ZERO,
                closed_size=ZERO,
                exec_pnl=ZERO,
                mark_price=market.mark_price,
                index_price=market.index_price,
                seq=seq,
            )
            account.executions.append(execution)
            account.log_funding(execution)
            engine.emit_executions(account, [execution])
            engine.emit_position(account, pos.symbol)
            engine.emit_wallet(account)


def funding_due(last_settled: int, now: int, period_ms: int) -> bool:
    """True when a funding boundary lies in (last_settled, now]."""
    return now // period_ms > last_settled // period_ms
