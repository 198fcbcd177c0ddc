"""Turning an approved recommendation into an entry order: re-gate, size, set leverage, send with TP/SL."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from decimal import Decimal

from tui_bot.core.engine import Engine
from tui_bot.core.orders import OrderInvalid, OrderService
from tui_bot.core.risk import Sizing, SizingRefused, size_position
from tui_bot.domain.order_ids import OrderReason
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.exchange.errors import ExchangeError, plain_words

log = logging.getLogger(__name__)
_FLAT_WAIT_S = 5.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class RecommendationExecutor:
    """Sends approved recommendations through the order service, with the reason code `en` (or `rp`)."""

    def __init__(self, engine: Engine, orders: OrderService, live_money: bool) -> None:
        self.engine = engine
        self.orders = orders
        self.live_money = live_money
        self._committed: tuple[object, Decimal] = (None, Decimal(0))
        """Margin of entries sent since the wallet last changed (the wallet object it applies to, amount)."""

    def _settled(
        self, rec: Recommendation, status: RecommendationStatus, fate: str, order_link_id: str | None = None
    ) -> Recommendation:
        return replace(rec, status=status.value, fate=fate, updated_ms=_now_ms(), order_link_id=order_link_id)

    async def execute(
        self, rec: Recommendation, settings: TradingSettings, replaces: str | None = None
    ) -> Recommendation:
        """The recommendation after trying to trade it: EXECUTED, PAPER or FAILED, with the fate in words."""
        if settings.paper_trading and self.live_money:
            return self._settled(
                rec, RecommendationStatus.PAPER, "paper trading on a live-money venue: followed, not sent"
            )
        closed = ""
        try:
            # What can fail without trading comes before making room: a failure must not leave us flat for nothing.
            wallet, freed = self.engine.state.wallet, self._margin_of(replaces)
            sizing = self._size(rec, settings, freed)
            request = self.orders.prepare(
                rec.symbol,
                rec.side,
                sizing.qty,
                take_profit=rec.take_profit,
                stop_loss=rec.stop_loss,
                reason=OrderReason.ENTRY,
            )
            # Sent every time: the trader may have changed it in the console ("not modified" is fine).
            await self.orders.set_leverage(rec.symbol, settings.leverage)
            if replaces is not None:
                failure = await self._make_room(replaces)
                if failure:
                    return self._settled(rec, RecommendationStatus.FAILED, failure)
                closed = replaces
                # Still tradable at today's price? (The freed margin counts until the wallet reports it.)
                self._size(rec, settings, freed if self.engine.state.wallet is wallet else Decimal(0))
            wallet = self.engine.state.wallet
            ack = await self.orders.send(request)
            self._commit(sizing.margin, wallet)
        except SizingRefused as err:
            return self._failed(rec, closed, f"not sized: {err}")
        except OrderInvalid as err:
            return self._failed(rec, closed, f"not sent: {err}")
        except ExchangeError as err:
            return self._failed(rec, closed, plain_words(err.code, err.message))
        except Exception as err:
            log.exception("recommendation %s failed", rec.id)
            return self._failed(rec, closed, f"failed: {err or type(err).__name__}")
        qty = request.qty
        log.info(
            "recommendation %s executed: %s %s %s (%s)", rec.id, rec.side.value, qty, rec.symbol, ack.order_link_id
        )
        return self._settled(
            rec, RecommendationStatus.EXECUTED, f"entry {rec.side.value} {qty} sent", ack.order_link_id
        )

    def _failed(self, rec: Recommendation, closed: str, reason: str) -> Recommendation:
        """FAILED with its reason; after a replacement's close, say that the held position is gone."""
        if closed:
            reason = f"closed {closed} to make room, then the entry failed: {reason}"
            log.warning("recommendation %s: %s", rec.id, reason)
        return self._settled(rec, RecommendationStatus.FAILED, reason)

    def _available(self) -> Decimal:
        """Available balance now: the last reported one, less the uPnL lost since (the wallet topic only fires on
        account events, marks move all the time) and the margin of entries sent since it was reported."""
        state = self.engine.state
        wallet = state.wallet
        assert wallet is not None
        drift = sum((p.unrealised_pnl for p in state.positions.values()), Decimal(0)) - wallet.total_perp_upl
        seen, committed = self._committed
        return wallet.total_available_balance + min(drift, Decimal(0)) - (committed if seen is wallet else Decimal(0))

    def _commit(self, margin: Decimal, wallet_at_send: object) -> None:
        """Count an entry's margin against the wallet it was sized on; a wallet reported meanwhile includes it."""
        wallet = self.engine.state.wallet
        if wallet is not wallet_at_send:
            return
        seen, committed = self._committed
        self._committed = (wallet, (committed if seen is wallet else Decimal(0)) + margin)

    def _margin_of(self, symbol: str | None) -> Decimal:
        """Initial margin a position holds (what closing it frees); 0 without one."""
        pos = self.engine.state.positions.get(symbol) if symbol else None
        if pos is None:
            return Decimal(0)
        return pos.position_im or pos.entry_price * pos.size / (pos.leverage or Decimal(1))

    def _size(self, rec: Recommendation, settings: TradingSettings, freed: Decimal = Decimal(0)) -> Sizing:
        """The order for the recommendation at today's price; its stop must still be on the losing side."""
        state = self.engine.state
        inst = state.instruments.get(rec.symbol)
        if inst is None:
            raise SizingRefused(f"unknown symbol {rec.symbol}")
        if state.wallet is None:
            raise SizingRefused("the wallet balance is not known yet")
        price = state.last_price(rec.symbol) or rec.entry
        if not rec.tradable_at(price):
            raise SizingRefused(
                f"the price {price} has moved past the stop {rec.stop_loss} or target {rec.take_profit}"
            )
        return size_position(
            inst,
            rec.side,
            price,
            rec.stop_loss,
            equity=state.wallet.total_equity,
            available=self._available() + freed,
            settings=settings,
        )

    async def _make_room(self, symbol: str) -> str | None:
        """Close the position being replaced and wait until it is flat; the reason it failed, or None."""
        try:
            await self.orders.close_position(symbol, OrderReason.REPLACEMENT)
        except ExchangeError as err:
            return f"could not close {symbol} to make room: {plain_words(err.code, err.message)}"
        deadline = time.monotonic() + _FLAT_WAIT_S
        while symbol in self.engine.state.positions:
            if time.monotonic() > deadline:
                return f"{symbol} was not flat {_FLAT_WAIT_S:.0f} s after closing it to make room"
            await asyncio.sleep(0.05)
        return None
