"""The history keys: h opens the trade history, o the order history, both read through `backend`."""

from __future__ import annotations

from tui_bot.ui.actions import TradingActions
from tui_bot.ui.screens.order_history import OrderHistoryScreen
from tui_bot.ui.screens.trade_history import TradeHistoryScreen


class HistoryActions(TradingActions):
    """Opens the history screens on the backend's stored trades and orders."""

    def action_trade_history(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None:
            self.push_screen(TradeHistoryScreen(backend.trade_history, backend.instruments()))

    def action_order_history(self) -> None:
        backend = self._backend_or_warn()
        if backend is not None:
            self.push_screen(OrderHistoryScreen(backend.order_history, backend.instruments()))
