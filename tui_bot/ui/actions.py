"""What each key does: open a modal, then hand its intent to the console backend in a worker."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from textual import work
from textual.app import App

from tui_bot.config import Settings
from tui_bot.core.console_api import BotNotRunning, ConsoleBackend
from tui_bot.core.orders import OrderInvalid
from tui_bot.domain.enums import Side, StopOrderType
from tui_bot.domain.intents import LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.models import Order, Position
from tui_bot.domain.numbers import plain
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.exchange.errors import ExchangeError, plain_words
from tui_bot.ui import format as fmt
from tui_bot.ui.format import count_of, held_reasons_text
from tui_bot.ui.keymap import help_rows
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.help_screen import HelpScreen
from tui_bot.ui.screens.leverage import LeverageModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.partial_close import PartialCloseModal
from tui_bot.ui.screens.settings_screen import SettingsScreen
from tui_bot.ui.screens.stats_screen import StatsScreen
from tui_bot.ui.screens.ticket import ticket_context
from tui_bot.ui.screens.tpsl import TpSlModal
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable
from tui_bot.ui.widgets.quotes import QuoteBoard
from tui_bot.ui.widgets.recommendations import RecommendationsTable

log = logging.getLogger(__name__)


_PROTECTIVE = frozenset(
    {
        StopOrderType.TAKE_PROFIT,
        StopOrderType.STOP_LOSS,
        StopOrderType.TRAILING_STOP,
        StopOrderType.PARTIAL_TAKE_PROFIT,
        StopOrderType.PARTIAL_STOP_LOSS,
    }
)


class TradingActions(App[None]):
    """The console's key actions, as the app's base class: everything they touch goes through `backend`."""

    settings: Settings
    keymap: dict[str, str]
    backend: ConsoleBackend | None

    def _backend_or_warn(self) -> ConsoleBackend | None:
        if self.backend is None:
            self.notify("Still connecting to the exchange…", severity="warning")
        return self.backend

    @property
    def _live(self) -> bool:
        return bool(self.backend and self.backend.venue.live_money)

    def _selected_position(self) -> tuple[ConsoleBackend, Position] | None:
        """The backend and the open position under the Positions cursor; otherwise a warning and None."""
        backend = self._backend_or_warn()
        if backend is None:
            return None
        symbol = self.query_one(PositionsTable).selected_symbol
        pos = backend.positions().get(symbol) if symbol is not None else None
        if pos is None:
            self.notify("Select a position first.", severity="warning")
            return None
        return backend, pos

    def _has_instruments(self, backend: ConsoleBackend) -> bool:
        """False, with a warning, when the backend knows no instruments (an attached console)."""
        if not backend.instruments():
            self.notify("No instruments known to this console: not available here.", severity="warning")
        return bool(backend.instruments())

    def _selected_order(self) -> tuple[ConsoleBackend, Order] | None:
        """The backend and the order under the Orders cursor; otherwise a warning and None."""
        backend = self._backend_or_warn()
        if backend is None:
            return None
        order = self.query_one(OrdersTable).selected_order
        if order is None:
            self.notify("Select an order first.", severity="warning")
            return None
        return backend, order

    # -- orders --------------------------------------------------------------------------------

    def action_order_form(self, side: str) -> None:
        backend = self._backend_or_warn()
        if backend is None:
            return
        instruments = backend.instruments()
        if not self._has_instruments(backend):
            return
        symbol = self._ticket_symbol(backend)
        form = OrderFormModal(
            Side(side),
            symbol,
            sorted(instruments),
            ticket_context(backend),
            backend.venue.live_money,
            on_submit=self.send_order,
        )
        self.push_screen(form)

    def _ticket_symbol(self, backend: ConsoleBackend) -> str:
        """The market view's symbol when the quote board has focus, else the selected position's, else the market
        view's, else the first watched (or listed) one."""
        market = backend.selected_symbol()
        if market is not None and isinstance(self.focused, QuoteBoard):
            return market
        watchlist = backend.watchlist()
        fallback = watchlist[0] if watchlist else next(iter(backend.instruments()))
        return self.query_one(PositionsTable).selected_symbol or market or fallback

    @work(group="orders", exit_on_error=False)
    async def send_order(self, intent: PlaceOrderIntent) -> None:
        assert self.backend is not None
        await self._guarded(self.backend.place_order(intent))

    async def _guarded(self, call: Awaitable[Any]) -> Any:
        """Await an intent; a rejection becomes a plain-words notification (with its code)."""
        try:
            return await call
        except ExchangeError as err:
            self.notify(plain_words(err.code, err.message), severity="error", timeout=8)
        except OrderInvalid as err:
            self.notify(f"Not sent: {err}", severity="error")
        except (ValueError, BotNotRunning) as err:
            self.notify(str(err), severity="warning")
        return None

    @work(group="orders", exit_on_error=False)
    async def _run(self, call: Awaitable[Any]) -> None:
        await self._guarded(call)

    def _if_confirmed(self, act: Callable[[], Awaitable[Any]]) -> Callable[[bool | None], None]:
        """A ConfirmModal's callback: run act in the orders worker only when the trader confirmed."""

        def answered(ok: bool | None) -> None:
            if ok:
                self._run(act())

        return answered

    def action_close_position(self) -> None:
        """Close 25, 50 or 100 % of the selected position at market (reduce-only), after choosing and confirming."""
        backend = self._backend_or_warn()
        if backend is not None and not any(p.size for p in backend.positions().values()):
            self.notify("No open position to close.")
            return
        if (selected := self._selected_position()) is None:
            return
        backend, pos = selected
        modal = PartialCloseModal(pos, backend.instruments().get(pos.symbol))
        self.push_screen(modal, self._if_confirmed(lambda: backend.close_position(pos.symbol, modal.percent)))

    def action_panic(self) -> None:
        backend = self._backend_or_warn()
        if backend is None:
            return
        body = (
            f"Cancel {count_of(len(backend.open_orders()), 'order')} and close "
            f"{count_of(len(backend.positions()), 'position')} at market?"
        )
        self.push_screen(
            ConfirmModal("PANIC", body, require_typed="yes" if self._live else None, danger=True),
            self._if_confirmed(backend.close_all),
        )

    def action_cancel_order(self) -> None:
        """Cancel the order under the Orders cursor, after a confirmation; only while the Orders table has focus."""
        if not self.query_one(OrdersTable).has_focus:
            self.notify("c cancels the order under the Orders cursor: focus Orders first (Tab).", severity="warning")
            return
        if (selected := self._selected_order()) is None:
            return
        backend, order = selected
        inst = backend.instruments().get(order.symbol)
        price = f" at {fmt.price(order.price, inst)}" if order.price else ""
        trigger = f" (trigger {fmt.price(order.trigger_price, inst)})" if order.trigger_price else ""
        body = (
            f"Cancel {order.side.value} {order.order_type.value} {plain(order.qty)} {order.symbol}"
            f"{price}{trigger}, order {order.order_id[:8]}?"
        )
        self.push_screen(
            ConfirmModal("Cancel order", body, danger=True),
            self._if_confirmed(lambda: backend.cancel_order(order.symbol, order.order_id)),
        )

    def action_cancel_all(self) -> None:
        backend = self._backend_or_warn()
        if backend is None:
            return
        orders = backend.open_orders().values()
        if not orders:
            self.notify("No open orders to cancel.")
            return
        body = f"Cancel all {count_of(len(orders), 'open order')}?"
        protecting = sum(o.stop_order_type in _PROTECTIVE and o.symbol in backend.positions() for o in orders)
        if protecting:
            body += (
                " 1 of them is a position's TP/SL: that position is left unprotected."
                if protecting == 1
                else f" {protecting} of them are positions' TP/SL: those positions are left unprotected."
            )
        self.push_screen(ConfirmModal("Cancel all orders", body, danger=True), self._if_confirmed(backend.cancel_all))

    def action_edit_tpsl(self) -> None:
        if (selected := self._selected_position()) is None:
            return
        backend, pos = selected
        if not self._has_instruments(backend):
            return
        if pos.side is None:
            self.notify(f"{pos.symbol} has no open position.", severity="warning")
            return
        modal = TpSlModal(
            pos.symbol,
            pos.side,
            pos.entry_price,
            pos.mark_price or pos.entry_price,
            pos.take_profit,
            pos.stop_loss,
            backend.instruments()[pos.symbol],
        )
        self.push_screen(modal, self._trading_stop)

    def _trading_stop(self, intent: TradingStopIntent | None) -> None:
        if intent is not None and self.backend is not None:
            self._run(self.backend.set_trading_stop(intent))

    def action_leverage(self) -> None:
        backend = self._backend_or_warn()
        if backend is None or not self._has_instruments(backend):
            return
        current = {symbol: pos.leverage for symbol, pos in backend.positions().items() if pos.leverage}
        modal = LeverageModal(self._ticket_symbol(backend), backend.instruments(), current, backend.leverage_now)
        self.push_screen(modal, self._set_leverage)

    def _set_leverage(self, intent: LeverageIntent | None) -> None:
        if intent is not None and self.backend is not None:
            self._run(self.backend.set_leverage(intent))

    # -- settings, engine keys, help, quit ------------------------------------------------------------

    def action_toggle_tightening(self) -> None:
        backend = self._backend_or_warn()
        if backend is None:
            return
        try:
            on = backend.toggle_setting("enable_sl_tightening").enable_sl_tightening
        except ValueError as err:
            self.notify(str(err), severity="warning")
            return
        self.notify(f"SL tightening {'on' if on else 'off'}")

    def action_settings(self) -> None:
        backend = self._backend_or_warn()
        if backend is None:
            return
        info = {"venue": backend.venue.label, "orders via": backend.orders_via()}
        self.push_screen(SettingsScreen(backend.settings(), self._apply_settings, info=info))

    def _apply_settings(self, changes: dict[str, Any]) -> TradingSettings:
        """Validate and apply (raises SettingsRejected with per-field reasons; nothing applied then)."""
        assert self.backend is not None
        return self.backend.update_settings(changes)

    def _bot_backend_or_warn(self) -> ConsoleBackend | None:
        backend = self._backend_or_warn()
        if backend is not None and not backend.has_bot:
            self.notify("The trading bot is not running in this session.", severity="warning")
            return None
        return backend

    def _selected_pending(self) -> str | None:
        rec = self.query_one(RecommendationsTable).selected_recommendation
        if rec is not None and rec.status == RecommendationStatus.EXPIRED:
            self.notify(f"{rec.symbol} {rec.side.value} idea expired: {rec.fate}", severity="warning")
            return None
        if rec is None or rec.status != RecommendationStatus.PENDING:
            self.notify("Select a pending recommendation first.", severity="warning")
            return None
        return rec.id

    def action_approve(self) -> None:
        backend = self._bot_backend_or_warn()
        rec_id = self._selected_pending() if backend is not None else None
        if backend is not None and rec_id is not None:
            self._approve(backend, rec_id)

    @work(group="orders", exit_on_error=False)
    async def _approve(self, backend: ConsoleBackend, rec_id: str) -> None:
        try:
            rec = await backend.approve(rec_id)
        except ValueError as err:
            self.notify(str(err), severity="warning")
            return
        except Exception as err:
            log.exception("approving %s failed", rec_id)
            self.notify(f"Approval failed: {err}", severity="error", timeout=8)
            return
        failed = rec.status != RecommendationStatus.EXECUTED
        self.notify(
            f"{rec.symbol} {rec.side.value}: {rec.status} — {rec.fate}",
            severity="error" if failed else "information",
            timeout=8 if failed else 4,
        )

    def action_dismiss(self) -> None:
        backend = self._bot_backend_or_warn()
        rec_id = self._selected_pending() if backend is not None else None
        if backend is not None and rec_id is not None:
            self._run(backend.dismiss(rec_id))

    def action_run_cycle(self) -> None:
        backend = self._bot_backend_or_warn()
        if backend is not None:
            self.notify("Running the analysis cycle…")
            self._run_cycle(backend)

    @work(group="cycle", exit_on_error=False)
    async def _run_cycle(self, backend: ConsoleBackend) -> None:
        try:
            cycle = await backend.run_cycle("console")
        except ValueError as err:  # refused (an attached console runs no cycle): one line, no traceback
            self.notify(str(err), severity="warning")
            return
        except Exception as err:
            log.exception("cycle from the console failed")
            self.notify(f"Cycle failed: {err}", severity="error", timeout=8)
            return
        text = (
            f"Cycle {cycle.status}: {cycle.recommendations} ideas, {cycle.approved} approved, "
            f"{cycle.rejected} rejected" + (f" — {cycle.skip_reason}" if cycle.skip_reason else "")
        )
        held = held_reasons_text(backend.held_reasons())
        self.notify(
            f"{text}\n{held}" if held else text,
            severity="error" if cycle.status == "failed" else "information",
            timeout=12 if held else None,
        )

    def action_stats(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None:
            self.push_screen(StatsScreen(backend.stats_report))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_rows(self.keymap)))

    def action_quit_app(self) -> None:
        backend = self.backend
        if backend is not None and backend.venue.live_money and backend.positions():
            body = f"{len(backend.positions())} positions are open on a LIVE account. Quit anyway?"
            self.push_screen(ConfirmModal("Quit", body, danger=True), lambda ok: self.exit() if ok else None)
            return
        self.exit()
