"""What an attached console does itself: manual orders under its own id, through an order service of its own.

The console's orders go to the venue's REST with orderLinkIds whose bot part is the console's id (the listener
attributes their fills to it), through the same OrderService and intent code a local console uses. Public tickers of
the symbols held and watched give the ticket its last prices. A position held by a bot is closed by that bot (a
command); one held by the console, by the console. Without API keys for the venue, manual orders are refused in one
line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import NoReturn, cast

import redis.asyncio as aioredis

from tui_bot.core.bus import Subscription
from tui_bot.core.manual_orders import amend_intent, place_intent, trading_stop_intent
from tui_bot.core.orders import OrderService
from tui_bot.domain.events import Event, TickerUpdated
from tui_bot.domain.intents import AmendOrderIntent, LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.models import Instrument, Ticker
from tui_bot.domain.requests import OrderAck
from tui_bot.live import keys
from tui_bot.live.commands import ClosePosition
from tui_bot.live.commands_handlers import one_line
from tui_bot.live.commands_sender import CommandSender
from tui_bot.live.connection import REDIS_ERRORS
from tui_bot.live.reader import LiveState

log = logging.getLogger(__name__)
NOT_ATTACHED = "not available when attached"
OrderPathOpener = Callable[[Callable[[list[Event]], None]], Awaitable[OrderService]]
"""Opens the console's own order path, its public ticker frames going to the callable given."""


class AttachedOrders:
    """ConsoleBackend's order intents and market prices for AttachedBackend (which sets these attributes)."""

    console_id: str
    _live: LiveState
    _redis: aioredis.Redis
    _sender: CommandSender
    _subscriptions: list[Subscription]
    _orders: OrderService | None
    _orders_refused: str
    _watch: tuple[str, ...]

    async def _open_orders(self, opener: OrderPathOpener | None) -> None:
        """Open the order path (a failure is logged and each order refused with its reason), then follow tickers."""
        if opener is None:
            return
        try:
            self._orders = await opener(self._public)
        except Exception as err:  # noqa: BLE001 - no keys, venue refusing: the console still shows the account
            self._orders_refused = one_line(err)
            log.warning("manual orders off: %s", self._orders_refused)
            return
        await self.follow_tickers()

    async def follow_tickers(self) -> None:
        """Stream the tickers of the symbols held and watched (the ticket's last prices); a failure is logged."""
        if self._orders is None:
            return
        wanted = {*self._live.account_positions(), *self._watch} & set(self._orders.engine.state.instruments)
        try:
            await self._orders.client.set_ticker_symbols(wanted)
        except Exception:  # noqa: BLE001 - the public stream reconnects by itself; the next change asks again
            log.warning("could not follow the tickers of %s", sorted(wanted), exc_info=True)

    def _public(self, events: list[Event]) -> None:
        """Public frames: tickers merged into the order path's state and handed to the console."""
        if self._orders is None:
            return
        for event in events:
            if isinstance(event, TickerUpdated):
                self._orders.engine.state.merge_ticker(event)
                for subscription in self._subscriptions:
                    subscription.push(event)

    def _order_service(self, what: str) -> OrderService:
        if self._orders is None:
            refuse(what, self._orders_refused)
        return self._orders

    # -- market prices ------------------------------------------------------------------------------

    def instruments(self) -> Mapping[str, Instrument]:
        return self._orders.engine.state.instruments if self._orders is not None else {}

    def last_price(self, symbol: str) -> Decimal | None:
        return self._orders.engine.state.last_price(symbol) if self._orders is not None else None

    def last_prices(self) -> dict[str, Decimal]:
        tickers = self._orders.engine.state.tickers if self._orders is not None else {}
        return {s: t.last_price for s, t in tickers.items() if t.last_price}

    def ticker(self, symbol: str) -> Ticker | None:
        live = self._orders.engine.state.tickers.get(symbol) if self._orders is not None else None
        return live.to_ticker() if live is not None else None

    # -- intents ------------------------------------------------------------------------------------

    async def place_order(self, intent: PlaceOrderIntent) -> OrderAck:
        return await place_intent(self._order_service("manual orders"), intent)

    async def amend_order(self, intent: AmendOrderIntent) -> OrderAck:
        return await amend_intent(self._order_service("amending orders"), intent)

    async def cancel_order(self, symbol: str, order_id: str) -> OrderAck | None:
        return await self._order_service("cancelling orders").cancel(symbol, order_id)

    async def cancel_all(self) -> list[OrderAck]:
        return await self._order_service("cancelling orders").cancel_all()

    async def set_trading_stop(self, intent: TradingStopIntent) -> None:
        await trading_stop_intent(self._order_service("setting TP/SL"), intent)

    async def set_leverage(self, intent: LeverageIntent) -> None:
        await self._order_service("setting leverage").set_leverage(intent.symbol, intent.leverage)

    async def leverage_now(self, symbol: str) -> Decimal:
        return (await self._order_service("leverage").client.fetch_position(symbol)).leverage

    def bots_holding(self, symbol: str) -> list[str]:
        """The bots whose position in symbol the listener publishes (external: no bot of ours)."""
        return sorted(bot for bot, held in self._live.positions().items() if symbol in held)

    async def close_position(self, symbol: str, percent: int = 100) -> OrderAck | None:
        """The console's own position: closed here; a bot's: that bot told to close it (ValueError with its line
        unless it did)."""
        bots = [bot for bot in self.bots_holding(symbol) if bot != keys.EXTERNAL_BOT]
        if len(bots) != 1:
            who = "no bot of ours holds it" if not bots else f"held by {', '.join(bots)}"
            raise ValueError(f"close {symbol}: {who}; not closable when attached")
        if bots[0] == self.console_id:
            orders = self._order_service(f"close {symbol}")
            orders.engine.state.positions = self._live.account_positions()
            return await orders.close_position(symbol, percent=percent)
        reply = await self._sender.send(bots[0], ClosePosition(symbol, percent))
        if not reply.ok:
            raise ValueError(f"close {symbol}: {reply.line()}")
        return None

    async def close_all(self) -> list[OrderAck]:
        """Panic every registered bot, then (with an order path) cancel and close what is still open here;
        ValueError with the answers unless every bot did and nothing here failed."""
        try:
            registered = await cast("Awaitable[set[str]]", self._redis.smembers(keys.BOTS))
        except REDIS_ERRORS as err:
            raise ValueError(f"panic: no bot told: Redis failed ({one_line(err)})") from None
        report = await self._sender.panic(registered - {keys.EXTERNAL_BOT, self.console_id})
        closed, failed = await self._close_here()
        line = "; ".join(part for part in (report.line(), failed) if part)
        if report.unsent or report.silent or failed or not all(reply.ok for reply in report.replies):
            raise ValueError(line)
        return closed

    async def _close_here(self) -> tuple[list[OrderAck], str]:
        """What the console closes itself after a panic: everything still open (nothing without an order path)."""
        if self._orders is None:
            return [], ""
        self._orders.engine.state.positions = self._live.account_positions()
        try:
            return await self._orders.close_all(), ""
        except Exception as err:  # noqa: BLE001 - reported in the panic's line
            return [], f"closing here failed: {one_line(err)}"

    async def close_orders(self) -> None:
        """Stop the order path's streams."""
        if self._orders is not None:
            await self._orders.client.stop()


def refuse(what: str, why: str = "") -> NoReturn:
    raise ValueError(f"{what}: {NOT_ATTACHED}" + (f" ({why})" if why else ""))
