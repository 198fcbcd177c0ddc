"""A liquidation the exchange makes on its own: the symbol's open orders are cancelled (CancelAllBeforeLiq), then
the position is taken over at the bankruptcy price by an order with createType CreateByLiq and no orderLinkId,
whose fill is an execution of execType BustTrade."""

from __future__ import annotations

from decimal import Decimal

from tui_bot.domain.enums import CancelType, CreateType, ExecType, OrderStatus, OrderType, TimeInForce
from tui_bot.domain.numbers import is_multiple, round_to_step
from tui_bot.sim.account import Account
from tui_bot.sim.engine import ExchangeEngine
from tui_bot.sim.records import SimOrder


def liquidate_symbol(engine: ExchangeEngine, symbol: str, price: Decimal | None = None) -> list[SimOrder]:
    """Liquidate every account's position in symbol at price (default: the mark price); the liquidation orders."""
    market = engine.market(symbol)
    bust = round_to_step(market.mark_price, market.tick) if price is None else price
    if bust <= 0 or not is_multiple(bust, market.tick):
        raise ValueError(f"price {bust} is not a positive multiple of the tick size {market.tick}")
    orders = [liquidate(engine, account, symbol, bust) for account in engine.accounts.values()]
    done = [order for order in orders if order is not None]
    if not done:
        raise ValueError(f"no open position in {symbol} to liquidate")
    return done


def liquidate(engine: ExchangeEngine, account: Account, symbol: str, bust: Decimal) -> SimOrder | None:
    """Cancel account's orders in symbol, then close its position at bust with a system order; None when flat."""
    pos = account.position(symbol)
    if pos.side is None or pos.size == 0:
        return None
    cancelled = account.open_orders(symbol)
    for order in cancelled:
        status = OrderStatus.DEACTIVATED if order.status is OrderStatus.UNTRIGGERED else OrderStatus.CANCELLED
        engine.close_order(order, status, cancel=CancelType.BEFORE_LIQ)
    engine.emit_orders(account, cancelled)
    now = engine.clock.now_ms()
    order = SimOrder(
        order_id=engine.new_id(),
        order_link_id="",
        symbol=symbol,
        side=pos.side.opposite,
        order_type=OrderType.LIMIT,
        qty=pos.size,
        price=bust,
        time_in_force=TimeInForce.IOC,
        status=OrderStatus.NEW,
        created_time=now,
        updated_time=now,
        create_type=CreateType.BY_LIQ,
        reduce_only=True,
        close_on_trigger=True,
        last_price_on_created=engine.markets[symbol].last_price,
    )
    account.orders[order.order_id] = order
    execution = engine.fill(account, order, bust, pos.size, maker=False, kind=ExecType.BUST_TRADE)
    engine.settle_status(order)
    engine.after_fill(account, order, [execution])
    return order
