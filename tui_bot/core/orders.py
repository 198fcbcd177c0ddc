"""Order service: every order gets our orderLinkId; an unanswered send is resolved by that id, never resent."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from decimal import Decimal

from tui_bot.core import activity
from tui_bot.core.engine import Engine
from tui_bot.core.history import rejection_row
from tui_bot.domain.enums import OrderType, Side, TimeInForce, TriggerBy
from tui_bot.domain.events import OrderRejected, PanicStarted
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.models import Instrument, Order
from tui_bot.domain.numbers import floor_to_step, is_multiple, plain
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.domain.requests import AmendRequest, OrderAck, OrderRequest, TradingStopRequest
from tui_bot.exchange.client import ExchangeClient
from tui_bot.exchange.errors import (
    AlreadyDoneError,
    DuplicateError,
    RejectedError,
    RetryableError,
    SendTimeoutError,
    plain_words,
)
from tui_bot.store.ops import RecordRejection

log = logging.getLogger(__name__)
_RESOLVE_ATTEMPTS = 5
_RESOLVE_PAUSE_S = 0.3
_CLOCK_MARGIN_S = 1.0  # on top of the receive window: our server-clock estimate may be off a little


@dataclass(frozen=True, slots=True)
class Trigger:
    """A conditional order's trigger: it rests untriggered until `by`'s price rises (direction 1) or falls (2)
    to `price`."""

    price: Decimal
    direction: int
    by: TriggerBy = TriggerBy.LAST


def trigger_of(intent: PlaceOrderIntent) -> Trigger | None:
    """The intent's trigger, None for an order that goes live at once."""
    if intent.trigger_price is None:
        return None
    return Trigger(intent.trigger_price, intent.trigger_direction, intent.trigger_by)


class OrderInvalid(ValueError):
    """An order that breaks the instrument's filters or side rules; nothing was sent."""


def check_order(inst: Instrument, request: OrderRequest, reference_price: Decimal) -> None:
    """Validate qty/price/TP/SL against tick, step, min qty, min notional and side rules."""
    if request.qty <= 0 or not is_multiple(request.qty, inst.qty_step):
        raise OrderInvalid(f"quantity must be a positive multiple of {inst.qty_step}")
    if request.qty < inst.min_qty and not request.reduce_only:
        raise OrderInvalid(f"quantity below the minimum {inst.min_qty}")
    limit = inst.max_market_qty if request.order_type is OrderType.MARKET else inst.max_qty
    if request.qty > limit:
        raise OrderInvalid(f"quantity above the maximum {limit}")
    price = request.price if request.order_type is OrderType.LIMIT else reference_price
    if request.order_type is OrderType.LIMIT and (price is None or price <= 0 or not inst.price_ok(price)):
        raise OrderInvalid(f"limit price must be a multiple of {inst.tick_size} within the allowed range")
    assert price is not None
    if not request.reduce_only and request.qty * price < inst.min_notional:
        raise OrderInvalid(f"order value {request.qty * price:.2f} below the minimum {inst.min_notional} USDT")
    sign = request.side.sign
    for value, name in ((request.take_profit, "take profit"), (request.stop_loss, "stop loss")):
        if value is not None and value > 0 and not inst.price_ok(value):
            raise OrderInvalid(f"{name} must be a multiple of {inst.tick_size}")
    if request.take_profit and (request.take_profit - price) * sign <= 0:
        raise OrderInvalid(f"take profit must be {'above' if sign > 0 else 'below'} the entry {price}")
    if request.stop_loss and (price - request.stop_loss) * sign <= 0:
        raise OrderInvalid(f"stop loss must be {'below' if sign > 0 else 'above'} the entry {price}")


def part_to_close(size: Decimal, percent: int, inst: Instrument | None) -> Decimal:
    """percent of a position's size rounded down to the qty step (all of it at 100); OrderInvalid below min qty."""
    if not 0 < percent <= 100:
        raise OrderInvalid(f"a part to close must be 1–100 %, not {percent} %")
    if percent == 100 or inst is None:
        return size
    qty = floor_to_step(size * percent / 100, inst.qty_step)
    if qty < inst.min_qty:
        raise OrderInvalid(f"{percent} % of {plain(size)} is {plain(qty)}, below the minimum quantity {inst.min_qty}")
    return qty


def amend_applied(request: AmendRequest, order: Order) -> bool:
    """True when the order as read shows the amend's qty and price (the fields it changes)."""
    return (request.qty is None or order.qty == request.qty) and (request.price is None or order.price == request.price)


class OrderService:
    """Sends the core's order intents over the trade WebSocket or REST, exactly once each."""

    def __init__(self, engine: Engine, client: ExchangeClient, ids: OrderIdFactory, *, via: str = "ws") -> None:
        self.engine = engine
        self.client = client
        self.ids = ids
        self.via = via
        self.resolved_by_query = 0
        self.resent = 0  # orders found nowhere after an unanswered send, sent again under the same id

    def _use_ws(self) -> bool:
        return self.via == "ws" and self.client.trade_ready

    async def place(
        self,
        symbol: str,
        side: Side,
        qty: Decimal,
        *,
        order_type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        reason: OrderReason = OrderReason.MANUAL_ENTRY,
        reduce_only: bool = False,
        close_on_trigger: bool = False,
        time_in_force: TimeInForce | None = None,
        trigger: Trigger | None = None,
    ) -> OrderAck:
        """Validate and send a new order; returns the ack (fills arrive as events)."""
        return await self.send(
            self.prepare(
                symbol,
                side,
                qty,
                order_type=order_type,
                price=price,
                take_profit=take_profit,
                stop_loss=stop_loss,
                reason=reason,
                reduce_only=reduce_only,
                close_on_trigger=close_on_trigger,
                time_in_force=time_in_force,
                trigger=trigger,
            )
        )

    def prepare(
        self,
        symbol: str,
        side: Side,
        qty: Decimal,
        *,
        order_type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
        reason: OrderReason = OrderReason.MANUAL_ENTRY,
        reduce_only: bool = False,
        close_on_trigger: bool = False,
        time_in_force: TimeInForce | None = None,
        trigger: Trigger | None = None,
    ) -> OrderRequest:
        """A new order with its orderLinkId, checked against the instrument at today's price (raises OrderInvalid)."""
        inst = self.engine.state.instruments.get(symbol)
        if inst is None:
            raise OrderInvalid(f"unknown symbol {symbol}")
        request = OrderRequest(
            symbol,
            side,
            order_type,
            qty,
            self.ids.new(reason),
            price=price,
            take_profit=take_profit,
            stop_loss=stop_loss,
            reduce_only=reduce_only,
            close_on_trigger=close_on_trigger,
            time_in_force=time_in_force,
        )
        if trigger is not None:
            request = replace(
                request, trigger_price=trigger.price, trigger_direction=trigger.direction, trigger_by=trigger.by
            )
        triggered_at = trigger.price if trigger is not None else None
        reference = triggered_at or self.engine.state.last_price(symbol) or price or Decimal(0)
        if reference:
            check_order(inst, request, reference)
        return request

    @activity.logged("order placed", "order rejected", activity.order_text, activity.acked)
    async def send(self, request: OrderRequest) -> OrderAck:
        """Send once; on timeout, network failure, 10016 or a duplicate id, find the order by its orderLinkId."""
        via_ws = self._use_ws()
        self.engine.supervisor.order_sending(request.order_link_id, "ws" if via_ws else "rest")
        try:
            ack = await self._send_or_resolve(request, via_ws)
        except BaseException as err:
            self.engine.supervisor.order_abandoned(request.order_link_id)
            if isinstance(err, RejectedError):
                self._announce_rejection(request, err)
            raise
        self.engine.supervisor.order_acknowledged(request.order_link_id)
        return ack

    def _announce_rejection(self, request: OrderRequest, err: RejectedError) -> None:
        """Store a refused order and publish it (alerts and the console hear of it); closing a flat position is
        no refusal to announce."""
        if self.engine.writer is not None:
            row = rejection_row(request, err.code, plain_words(err.code, err.message), self.client.now_ms())
            self.engine.writer.enqueue(RecordRejection(row))
        if request.reduce_only and err.code == 110017:
            return
        self.engine.bus.publish(
            [
                OrderRejected(
                    symbol=request.symbol,
                    side=request.side,
                    qty=request.qty,
                    order_link_id=request.order_link_id,
                    code=err.code,
                    message=plain_words(err.code, err.message),
                    exchange_ts=0,
                    received_ns=time.time_ns(),
                )
            ]
        )

    async def _send_or_resolve(self, request: OrderRequest, via_ws: bool) -> OrderAck:
        sent = time.monotonic()
        try:
            return await self.client.place_order(request, via_ws=via_ws)
        except (SendTimeoutError, ConnectionError, DuplicateError) as err:
            return await self._resolve(request, err, sent)
        except RetryableError as err:
            if err.code in (10002, 10006):
                raise
            return await self._resolve(request, err, sent)

    async def _resolve(self, request: OrderRequest, cause: Exception, sent: float) -> OrderAck:
        """The send's fate is unknown: look the order up by orderLinkId; re-send with the same id only if absent.

        The re-send waits until the first request is past its receive window, so the exchange can no
        longer accept it late: even a venue that let a closed order's id be reused gets one order.
        """
        log.warning("order %s unanswered (%s); resolving by orderLinkId", request.order_link_id, cause)
        expired = sent + self.client.recv_window_ms / 1000 + _CLOCK_MARGIN_S
        attempt = 0
        while True:
            try:
                order = await self.client.fetch_order(request.symbol, request.order_link_id)
            except RetryableError as err:  # the lookup failed, not the order: look again
                log.warning("looking up order %s failed (%s)", request.order_link_id, err)
                order = None
            if order is not None:
                self.resolved_by_query += 1
                return OrderAck(order.order_id, order.order_link_id)
            attempt += 1
            if attempt >= _RESOLVE_ATTEMPTS and time.monotonic() >= expired:
                break
            await asyncio.sleep(_RESOLVE_PAUSE_S)
        self.resent += 1
        log.warning(
            "order %s not found at the exchange; sending it again under the same orderLinkId", request.order_link_id
        )
        try:
            return await self.client.place_order(request, via_ws=False)
        except DuplicateError:
            order = await self.client.fetch_order(request.symbol, request.order_link_id)
            if order is None:
                raise
            return OrderAck(order.order_id, order.order_link_id)

    @activity.logged("order amended", "amend refused", activity.amend_text, activity.acked)
    async def amend(self, request: AmendRequest) -> OrderAck:
        """Amend an order once; an unanswered amend is resolved by reading the order back, never sent again."""
        try:
            return await self.client.amend_order(request, via_ws=self._use_ws())
        except (SendTimeoutError, ConnectionError) as err:
            return await self._resolve_amend(request, err)
        except RetryableError as err:
            if err.code in (10002, 10006):  # refused before it was applied
                raise
            return await self._resolve_amend(request, err)

    async def _resolve_amend(self, request: AmendRequest, cause: Exception) -> OrderAck:
        """Read the order until it shows the amend's qty and price; if it never does, say so (nothing is resent)."""
        log.warning("amend of %s unanswered (%s); reading the order back", request.order_id, cause)
        if not request.order_link_id:
            raise SendTimeoutError(0, f"amend not confirmed ({cause}); the order list shows its outcome") from cause
        order = None
        for attempt in range(_RESOLVE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(_RESOLVE_PAUSE_S)
            try:
                order = await self.client.fetch_order(request.symbol, request.order_link_id)
            except RetryableError as err:
                log.warning("looking up order %s failed (%s)", request.order_link_id, err)
                continue
            if order is not None and amend_applied(request, order):
                self.resolved_by_query += 1
                return OrderAck(order.order_id, order.order_link_id)
        shown = (
            "not found" if order is None else f"{order.status.value}, qty {plain(order.qty)} at {plain(order.price)}"
        )
        raise SendTimeoutError(0, f"amend not confirmed: the order is {shown}; not sent again")

    @activity.logged("order cancelled", "cancel refused", activity.cancel_text, activity.gone)
    async def cancel(self, symbol: str, order_id: str) -> OrderAck | None:
        """Cancel one order; an order already gone counts as cancelled (None). A trade-WS drop is retried
        over REST (cancelling twice is harmless: the second finds it gone)."""
        try:
            try:
                return await self.client.cancel_order(symbol, order_id, via_ws=self._use_ws())
            except ConnectionError as err:
                log.warning("cancel of %s not confirmed (%s); asking again over REST", order_id, err)
                return await self.client.cancel_order(symbol, order_id, via_ws=False)
        except AlreadyDoneError:
            return None

    @activity.logged(
        "orders cancelled", "cancel-all refused", activity.cancel_all_text, activity.counted("order", "orders")
    )
    async def cancel_all(self, symbol: str | None = None) -> list[OrderAck]:
        return await self.client.cancel_all(symbol)

    async def close_position(
        self, symbol: str, reason: OrderReason = OrderReason.MANUAL_EXIT, *, percent: int = 100
    ) -> OrderAck | None:
        """Close percent of the position (all by default) with a reduce-only market order; None when it is flat."""
        pos = self.engine.state.positions.get(symbol)
        if pos is None or pos.side is None or pos.size == 0:
            return None
        request = OrderRequest(
            symbol,
            pos.side.opposite,
            OrderType.MARKET,
            part_to_close(pos.size, percent, self.engine.state.instruments.get(symbol)),
            self.ids.new(reason),
            reduce_only=True,
            close_on_trigger=True,
        )
        try:
            return await self.send(request)
        except RejectedError as err:
            if err.code == 110017:
                return None
            raise
        except AlreadyDoneError:
            return None

    @activity.logged(
        "PANIC done", "PANIC incomplete", activity.panic_text, activity.counted("position closed", "positions closed")
    )
    async def close_all(self, reason: OrderReason = OrderReason.PANIC) -> list[OrderAck]:
        """Panic: cancel every order, then close every position (concurrently). The closes go out even when
        the cancel fails; the first error is raised after all of them were tried."""
        errors: list[BaseException] = []
        state = self.engine.state
        self.engine.bus.publish(
            [
                PanicStarted(
                    positions=len(state.positions),
                    orders=len(state.open_orders),
                    exchange_ts=0,
                    received_ns=time.time_ns(),
                )
            ]
        )
        try:
            await self.cancel_all()
        except Exception as err:
            log.error("panic: cancel-all failed (%s); closing the positions anyway", err)
            errors.append(err)
        results = await asyncio.gather(
            *(self.close_position(s, reason) for s in list(self.engine.state.positions)), return_exceptions=True
        )
        errors += [r for r in results if isinstance(r, Exception)]
        if errors:
            raise errors[0]
        return [r for r in results if isinstance(r, OrderAck)]

    @activity.logged("leverage set", "leverage refused", activity.leverage_text)
    async def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        try:
            await self.client.set_leverage(symbol, str(leverage))
        except AlreadyDoneError:
            return

    @activity.logged("TP/SL set", "TP/SL refused", activity.trading_stop_text)
    async def set_trading_stop(self, request: TradingStopRequest) -> None:
        try:
            await self.client.set_trading_stop(request)
        except AlreadyDoneError:
            return
