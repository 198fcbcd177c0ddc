"""What each key does: open a modal, then hand its intent to the order service in a worker."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from textual import work

from tui_bot.core.orders import OrderInvalid
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import LeverageIntent, PlaceOrderIntent, TradingStopIntent
from tui_bot.domain.order_ids import OrderReason
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.domain.requests import TradingStopRequest
from tui_bot.exchange.errors import ExchangeError, plain_words
from tui_bot.ui.format import count_of
from tui_bot.ui.keymap import help_rows
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.help_screen import HelpScreen
from tui_bot.ui.screens.leverage import LeverageModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.settings_screen import SettingsScreen
from tui_bot.ui.screens.stats_screen import StatsScreen
from tui_bot.ui.screens.tpsl import TpSlModal
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable
from tui_bot.ui.widgets.recommendations import RecommendationsTable

if TYPE_CHECKING:
    from tui_bot.core.bot import TradingBot
    from tui_bot.runtime import Runtime

log = logging.getLogger(__name__)


class TradingActions:
    """Mixin for the app: key actions. Expects `runtime`, `settings`, `keymap`, `notify`, `push_screen`."""

    runtime: Runtime | None

    def _runtime_or_warn(self) -> Runtime | None:
        if self.runtime is None:
            self.notify("Still connecting to the exchange…", severity="warning")  # type: ignore[attr-defined]
        return self.runtime

    @property
    def _live(self) -> bool:
        return bool(self.runtime and self.runtime.client.live_money)

    # -- orders --------------------------------------------------------------------------------

    def action_order_form(self, side: str) -> None:
        rt = self._runtime_or_warn()
        if rt is None:
            return
        state = rt.engine.state
        selected = self.query_one(PositionsTable).selected_symbol  # type: ignore[attr-defined]
        symbol = selected or (rt.settings.bot.watchlist[0] if rt.settings.bot.watchlist else next(iter(state.instruments)))
        prices = {s: t.last_price for s, t in state.tickers.items() if t.last_price}
        equity = state.wallet.total_equity if state.wallet else None
        form = OrderFormModal(Side(side), symbol, sorted(state.instruments), state.instruments, prices, equity,
                              rt.trading.current, rt.client.live_money, on_submit=self.send_order)
        self.push_screen(form)  # type: ignore[attr-defined]

    @work(group="orders", exit_on_error=False)
    async def send_order(self, intent: PlaceOrderIntent) -> None:
        rt = self.runtime
        assert rt is not None
        if intent.leverage is not None:
            await self._guarded(rt.orders.set_leverage(intent.symbol, intent.leverage))
        await self._guarded(rt.orders.place(intent.symbol, intent.side, intent.qty, order_type=intent.order_type,
                                            price=intent.price if intent.order_type is OrderType.LIMIT else None,
                                            take_profit=intent.take_profit, stop_loss=intent.stop_loss,
                                            reason=OrderReason.MANUAL_ENTRY))

    async def _guarded(self, call: Awaitable[Any]) -> Any:
        """Await an order call; a rejection becomes a plain-words notification with its code."""
        try:
            return await call
        except ExchangeError as err:
            self.notify(plain_words(err.code, err.message), severity="error", timeout=8)  # type: ignore[attr-defined]
        except OrderInvalid as err:
            self.notify(f"Not sent: {err}", severity="error")  # type: ignore[attr-defined]
        return None

    def action_close_position(self) -> None:
        rt = self._runtime_or_warn()
        symbol = self.query_one(PositionsTable).selected_symbol  # type: ignore[attr-defined]
        if rt is None or symbol is None or symbol not in rt.engine.state.positions:
            self.notify("Select a position first.", severity="warning")  # type: ignore[attr-defined]
            return
        pos = rt.engine.state.positions[symbol]
        body = f"Close {pos.side.value if pos.side else ''} {pos.size} {symbol} at market?"
        self.push_screen(ConfirmModal("Close position", body, danger=True),  # type: ignore[attr-defined]
                         lambda ok: self._run(rt.orders.close_position(symbol)) if ok else None)

    def action_panic(self) -> None:
        rt = self._runtime_or_warn()
        if rt is None:
            return
        state = rt.engine.state
        body = (f"Cancel {count_of(len(state.open_orders), 'order')} and close "
                f"{count_of(len(state.positions), 'position')} at market?")
        self.push_screen(ConfirmModal("PANIC", body, require_typed="yes" if self._live else None, danger=True),  # type: ignore[attr-defined]
                         lambda ok: self._run(rt.orders.close_all()) if ok else None)

    def action_cancel_order(self) -> None:
        rt = self._runtime_or_warn()
        order = self.query_one(OrdersTable).selected_order  # type: ignore[attr-defined]
        if rt is None or order is None:
            self.notify("Select an order first.", severity="warning")  # type: ignore[attr-defined]
            return
        self._run(rt.orders.cancel(order.symbol, order.order_id))

    def action_cancel_all(self) -> None:
        rt = self._runtime_or_warn()
        if rt is None:
            return
        count = len(rt.engine.state.open_orders)
        self.push_screen(ConfirmModal("Cancel all orders", f"Cancel all {count_of(count, 'open order')}?", danger=True),  # type: ignore[attr-defined]
                         lambda ok: self._run(rt.orders.cancel_all()) if ok else None)

    @work(group="orders", exit_on_error=False)
    async def _run(self, call: Awaitable[Any]) -> None:
        await self._guarded(call)

    def action_edit_tpsl(self) -> None:
        rt = self._runtime_or_warn()
        symbol = self.query_one(PositionsTable).selected_symbol  # type: ignore[attr-defined]
        if rt is None or symbol is None or symbol not in rt.engine.state.positions:
            self.notify("Select a position first.", severity="warning")  # type: ignore[attr-defined]
            return
        pos = rt.engine.state.positions[symbol]
        if pos.side is None:
            self.notify(f"{symbol} has no open position.", severity="warning")  # type: ignore[attr-defined]
            return
        modal = TpSlModal(symbol, pos.side, pos.entry_price, pos.mark_price or pos.entry_price, pos.take_profit,
                          pos.stop_loss, rt.engine.state.instruments[symbol])
        self.push_screen(modal, self._trading_stop)  # type: ignore[attr-defined]

    def _trading_stop(self, intent: TradingStopIntent | None) -> None:
        if intent is not None and self.runtime is not None:
            self._run(self.runtime.orders.set_trading_stop(
                TradingStopRequest(intent.symbol, take_profit=intent.take_profit, stop_loss=intent.stop_loss)))

    def action_leverage(self) -> None:
        rt = self._runtime_or_warn()
        if rt is None:
            return
        symbol = self.query_one(PositionsTable).selected_symbol or rt.settings.bot.watchlist[0]  # type: ignore[attr-defined]
        pos = rt.engine.state.positions.get(symbol)
        current = pos.leverage if pos else rt.trading.current.leverage
        self.push_screen(LeverageModal(symbol, current, rt.engine.state.instruments[symbol]), self._set_leverage)  # type: ignore[attr-defined]

    def _set_leverage(self, intent: LeverageIntent | None) -> None:
        if intent is not None and self.runtime is not None:
            self._run(self.runtime.orders.set_leverage(intent.symbol, intent.leverage))

    # -- settings, engine keys, help, quit ------------------------------------------------------------

    def action_toggle_tightening(self) -> None:
        rt = self._runtime_or_warn()
        if rt is not None:
            on = rt.trading.toggle("enable_sl_tightening").enable_sl_tightening
            self.notify(f"SL tightening {'on' if on else 'off'}")  # type: ignore[attr-defined]

    def action_settings(self) -> None:
        rt = self._runtime_or_warn()
        if rt is None:
            return
        info = {"venue": rt.client.label, "orders via": rt.orders.via}
        self.push_screen(SettingsScreen(rt.trading.current, self._apply_settings, info=info))  # type: ignore[attr-defined]

    def _apply_settings(self, changes: dict[str, Any]) -> Any:
        """Validate and apply (raises SettingsRejected with per-field reasons; nothing applied then)."""
        assert self.runtime is not None
        return self.runtime.trading.update(changes)

    def _bot_or_warn(self) -> TradingBot | None:
        rt = self._runtime_or_warn()
        if rt is not None and rt.bot is None:
            self.notify("The trading bot is not running in this session.", severity="warning")  # type: ignore[attr-defined]
        return rt.bot if rt is not None else None

    def _selected_pending(self) -> str | None:
        rec = self.query_one(RecommendationsTable).selected_recommendation  # type: ignore[attr-defined]
        if rec is None or rec.get("status") != RecommendationStatus.PENDING:
            self.notify("Select a pending recommendation first.", severity="warning")  # type: ignore[attr-defined]
            return None
        return str(rec["id"])

    def action_approve(self) -> None:
        bot = self._bot_or_warn()
        rec_id = self._selected_pending() if bot is not None else None
        if bot is not None and rec_id is not None:
            self._approve(bot, rec_id)

    @work(group="orders", exit_on_error=False)
    async def _approve(self, bot: TradingBot, rec_id: str) -> None:
        try:
            rec = await bot.approve(rec_id)
        except ValueError as err:
            self.notify(str(err), severity="warning")  # type: ignore[attr-defined]
            return
        except Exception as err:
            log.exception("approving %s failed", rec_id)
            self.notify(f"Approval failed: {err}", severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        failed = rec.status != RecommendationStatus.EXECUTED
        self.notify(f"{rec.symbol} {rec.side.value}: {rec.status} — {rec.fate}",  # type: ignore[attr-defined]
                    severity="error" if failed else "information", timeout=8 if failed else 4)

    def action_dismiss(self) -> None:
        bot = self._bot_or_warn()
        rec_id = self._selected_pending() if bot is not None else None
        if bot is not None and rec_id is not None:
            try:
                bot.dismiss(rec_id)
            except ValueError as err:
                self.notify(str(err), severity="warning")  # type: ignore[attr-defined]

    def action_run_cycle(self) -> None:
        bot = self._bot_or_warn()
        if bot is not None:
            self.notify("Running the analysis cycle…")  # type: ignore[attr-defined]
            self._run_cycle(bot)

    @work(group="cycle", exit_on_error=False)
    async def _run_cycle(self, bot: TradingBot) -> None:
        try:
            cycle = await bot.run_cycle("console")
        except Exception as err:
            log.exception("cycle from the console failed")
            self.notify(f"Cycle failed: {err}", severity="error", timeout=8)  # type: ignore[attr-defined]
            return
        text = (f"Cycle {cycle.status}: {cycle.recommendations} ideas, {cycle.approved} approved, "
                f"{cycle.rejected} rejected" + (f" — {cycle.skip_reason}" if cycle.skip_reason else ""))
        self.notify(text, severity="error" if cycle.status == "failed" else "information")  # type: ignore[attr-defined]

    def action_stats(self) -> None:
        rt = self._runtime_or_warn()
        if rt is not None:
            self.push_screen(StatsScreen.of_store(rt.conn))  # type: ignore[attr-defined]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_rows(self.keymap)))  # type: ignore[attr-defined]

    def action_quit_app(self) -> None:
        rt = self.runtime
        if rt is not None and rt.client.live_money and rt.engine.state.positions:
            body = f"{len(rt.engine.state.positions)} positions are open on a LIVE account. Quit anyway?"
            self.push_screen(ConfirmModal("Quit", body, danger=True), lambda ok: self.exit() if ok else None)  # type: ignore[attr-defined]
            return
        self.exit()  # type: ignore[attr-defined]

