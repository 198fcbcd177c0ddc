"""The exchange's state machine: markets, accounts, order execution, system TP/SL orders and private notifications."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tui_bot.domain.enums import (
    CancelType,
    ExecType,
    OrderStatus,
    RejectReason,
    StopOrderType,
)
from tui_bot.domain.models import ClosedPnl, Execution, Instrument
from tui_bot.domain.numbers import ZERO
from tui_bot.sim import wire
from tui_bot.sim.account import MAKER_FEE, TAKER_FEE, Account
from tui_bot.sim.candles import CandleSeries
from tui_bot.sim.clock import Clock
from tui_bot.sim.errors import SimError
from tui_bot.sim.instruments import MarketSpec
from tui_bot.sim.market import SymbolMarket
from tui_bot.sim.records import SimOrder
from tui_bot.sim.system_orders import attach_order_tpsl

PRIVATE_TOPICS = ("order", "execution", "position", "wallet")


@dataclass(slots=True)
class Notification:
    """One private-topic message for one account, already in wire form."""

    api_key: str
    topic: str
    data: list[dict[str, Any]]


class ExchangeEngine:
    """Markets and accounts; every mutation queues the private messages Bybit would push."""

    def __init__(
        self, specs: dict[str, MarketSpec], *, seed: int, step_seconds: float, clock: Clock, id_salt: str | None = None
    ) -> None:
        self.clock = clock
        self.seed = seed
        self.specs = specs
        now = clock.now_ms()
        self.instruments: dict[str, Instrument] = {s: spec.instrument for s, spec in specs.items()}
        self.markets = {s: SymbolMarket(spec, seed, step_seconds, now) for s, spec in specs.items()}
        self.accounts: dict[str, Account] = {}
        self.candles: dict[tuple[str, str], CandleSeries] = {}
        self.outbox: list[Notification] = []
        self.on_notify: Callable[[], None] | None = None
        self.revisions: dict[str, int] = {}
        """api key -> how many notifications its account has queued: it moves whenever the account changes."""
        # Prices follow the seed alone; ids also take a salt, fresh per run unless given, so a restarted
        # exchange never reuses the execIds and orderIds a client has already stored.
        salt = id_salt if id_salt is not None else uuid.uuid4().hex
        self._ids = random.Random(f"{seed}:ids:{salt}")

    # -- identity and lookup -------------------------------------------------

    def new_id(self) -> str:
        """A UUID-style id drawn from the seeded generator (same seed, same ids)."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def add_account(self, api_key: str, api_secret: str, balance: Decimal) -> Account:
        account = Account(
            api_key=api_key, api_secret=api_secret, wallet_balance=balance, created_time=self.clock.now_ms()
        )
        self.accounts[api_key] = account
        return account

    def market(self, symbol: str) -> SymbolMarket:
        market = self.markets.get(symbol)
        if market is None:
            raise SimError(10001, "params error: symbol invalid")
        return market

    def candle_series(self, symbol: str, interval: str) -> CandleSeries:
        """The candle series of (symbol, interval), created with its history on first use."""
        key = (symbol, interval)
        series = self.candles.get(key)
        if series is None:
            market = self.market(symbol)
            series = CandleSeries(
                symbol,
                interval,
                seed=self.seed,
                price=market.last_price,
                tick=market.tick,
                qty_step=market.instrument.qty_step,
                annual_vol=market.spec.annual_vol,
                now_ms=self.clock.now_ms(),
            )
            self.candles[key] = series
        return series

    # -- notifications -------------------------------------------------------

    def emit(self, account: Account, topic: str, data: list[dict[str, Any]]) -> None:
        if data:
            self.revisions[account.api_key] = self.revisions.get(account.api_key, 0) + 1
            self.outbox.append(Notification(account.api_key, topic, data))
            if self.on_notify is not None:
                self.on_notify()

    def emit_orders(self, account: Account, orders: list[SimOrder]) -> None:
        self.emit(account, "order", [wire.order_to_wire(o, self.instruments[o.symbol], ws=True) for o in orders])

    def emit_executions(self, account: Account, execs: list[Execution]) -> None:
        self.emit(account, "execution", [wire.execution_to_wire(e, self.instruments[e.symbol], ws=True) for e in execs])

    def emit_position(self, account: Account, symbol: str) -> None:
        account.refresh(self.instruments)
        pos = account.position(symbol)
        self.emit(
            account,
            "position",
            [wire.position_to_wire(pos, self.instruments[symbol], ws=True, taker_fee_rate=TAKER_FEE)],
        )

    def emit_wallet(self, account: Account) -> None:
        self.emit(account, "wallet", [wire.wallet_to_wire(account.refresh(self.instruments))])

    def emit_order_change(self, account: Account, orders: list[SimOrder], execs: list[Execution] | None = None) -> None:
        """Push order, execution, position and wallet in the order Bybit emits them."""
        self.emit_orders(account, orders)
        if execs:
            self.emit_executions(account, execs)
        for symbol in dict.fromkeys(o.symbol for o in orders):
            self.emit_position(account, symbol)
        self.emit_wallet(account)

    # -- execution -----------------------------------------------------------

    def fill(
        self,
        account: Account,
        order: SimOrder,
        price: Decimal,
        qty: Decimal,
        *,
        maker: bool,
        kind: ExecType = ExecType.TRADE,
    ) -> Execution:
        """Book one fill of order at price (BustTrade for a liquidation): fees, position, balance, execution record."""
        now = self.clock.now_ms()
        market = self.markets[order.symbol]
        pos = account.position(order.symbol)
        fee_rate = MAKER_FEE if maker else TAKER_FEE
        value = price * qty
        fee = value * fee_rate
        result = account.apply_fill(pos, order.side, qty, price, fee, now)
        order.cum_exec_qty += qty
        order.cum_exec_value += value
        order.cum_exec_fee += fee
        order.avg_price = order.cum_exec_value / order.cum_exec_qty
        order.closed_pnl += result.gross_pnl - result.open_fee_released - (fee if result.closed_size else ZERO)
        order.updated_time = now
        seq = account.next_seq()
        pos.seq = seq
        pos.mark_price = market.mark_price
        execution = Execution(
            exec_id=self.new_id(),
            order_id=order.order_id,
            order_link_id=order.order_link_id,
            symbol=order.symbol,
            side=order.side,
            exec_type=kind,
            exec_price=price,
            exec_qty=qty,
            exec_value=value,
            exec_fee=fee,
            fee_rate=fee_rate,
            exec_time=now,
            is_maker=maker,
            order_type=order.order_type,
            order_price=order.price,
            order_qty=order.qty,
            leaves_qty=order.qty - order.cum_exec_qty,
            closed_size=result.closed_size,
            exec_pnl=result.gross_pnl,
            mark_price=market.mark_price,
            index_price=market.index_price,
            seq=seq,
            create_type=order.create_type,
            stop_order_type=order.stop_order_type,
        )
        account.executions.append(execution)
        account.log_trade(execution)
        self._track_closed_pnl(account, order, execution, result.open_fee_released)
        market.print_trade(order.side, price, qty, now)
        return execution

    def _track_closed_pnl(self, account: Account, order: SimOrder, execution: Execution, open_fee: Decimal) -> None:
        """Fold a closing fill into the order's closed-pnl record."""
        if execution.closed_size == 0:
            return
        pos = account.position(order.symbol)
        entry = execution.exec_price - execution.exec_pnl / execution.closed_size * (order.side.opposite.sign)
        previous = next((c for c in account.closed_pnls if c.order_id == order.order_id), None)
        size = execution.closed_size + (previous.closed_size if previous else ZERO)
        entry_value = entry * execution.closed_size + (previous.cum_entry_value if previous else ZERO)
        exit_value = execution.exec_price * execution.closed_size + (previous.cum_exit_value if previous else ZERO)
        open_fee += previous.open_fee if previous else ZERO
        close_fee = execution.exec_fee + (previous.close_fee if previous else ZERO)
        gross = (exit_value - entry_value) * order.side.opposite.sign
        record = ClosedPnl(
            symbol=order.symbol,
            order_id=order.order_id,
            side=order.side,
            qty=order.qty,
            order_price=order.price,
            order_type=order.order_type,
            closed_size=size,
            cum_entry_value=entry_value,
            avg_entry_price=entry_value / size,
            cum_exit_value=exit_value,
            avg_exit_price=exit_value / size,
            closed_pnl=gross - open_fee - close_fee,
            fill_count=(previous.fill_count if previous else 0) + 1,
            leverage=pos.leverage,
            open_fee=open_fee,
            close_fee=close_fee,
            created_time=previous.created_time if previous else execution.exec_time,
            updated_time=execution.exec_time,
            exec_type=execution.exec_type,
        )
        if previous is not None:
            account.closed_pnls.remove(previous)
        account.closed_pnls.append(record)

    def take_liquidity(self, account: Account, order: SimOrder, limit: Decimal, qty: Decimal) -> list[Execution]:
        """Walk the synthetic book up to limit for at most qty; returns the taker fills."""
        market = self.markets[order.symbol]
        fills: list[Execution] = []
        remaining = qty
        for price, size in market.book(order.side):
            if remaining <= 0 or (price - limit) * order.side.sign > 0:
                break
            take = min(size, remaining)
            fills.append(self.fill(account, order, price, take, maker=False))
            remaining -= take
        return fills

    def close_order(
        self,
        order: SimOrder,
        status: OrderStatus,
        *,
        cancel: CancelType = CancelType.UNKNOWN,
        reason: RejectReason = RejectReason.NO_ERROR,
    ) -> None:
        order.status = status
        order.cancel_type = cancel
        order.reject_reason = reason
        order.updated_time = self.clock.now_ms()

    def settle_status(self, order: SimOrder) -> None:
        """Set Filled / PartiallyFilled / New from the executed quantity."""
        if order.cum_exec_qty >= order.qty:
            order.status = OrderStatus.FILLED
        elif order.cum_exec_qty > 0:
            order.status = OrderStatus.PARTIALLY_FILLED

    def reduce_only_cap(self, account: Account, order: SimOrder) -> Decimal:
        """How much of a reduce-only order may still execute against the current position."""
        pos = account.position(order.symbol)
        if pos.side is None or pos.side is order.side:
            return ZERO
        return pos.size

    def after_position_change(self, account: Account, symbol: str, changed: list[SimOrder]) -> None:
        """Keep Full TP/SL orders sized to the position; clear them and reduce-only orders when flat."""
        pos = account.position(symbol)
        for order in account.open_orders(symbol):
            if order.stop_order_type in (
                StopOrderType.TAKE_PROFIT,
                StopOrderType.STOP_LOSS,
                StopOrderType.TRAILING_STOP,
            ):
                if pos.size == 0:
                    self.close_order(order, OrderStatus.DEACTIVATED, cancel=CancelType.BY_TPSL_CLEAR)
                    changed.append(order)
                elif order.qty != pos.size:
                    order.qty = pos.size
                    order.updated_time = self.clock.now_ms()
                    changed.append(order)
            elif (
                order.reduce_only
                and not order.is_conditional
                and order.leaves_qty > self.reduce_only_cap(account, order)
            ):
                self.close_order(order, OrderStatus.CANCELLED, cancel=CancelType.BY_REDUCE_ONLY)
                changed.append(order)
        if pos.size == 0:
            pos.take_profit = pos.stop_loss = pos.trailing_stop = ZERO

    def after_fill(self, account: Account, order: SimOrder, execs: list[Execution]) -> None:
        """After order filled: resize/clear dependent orders, arm its attached TP/SL, then notify."""
        changed = [order]
        self.after_position_change(account, order.symbol, changed)
        if order.take_profit or order.stop_loss:
            changed.extend(attach_order_tpsl(self, account, order))
        self.emit_order_change(account, changed, execs)
