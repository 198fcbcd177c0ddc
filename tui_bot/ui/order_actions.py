"""Amending a working order (A) and a recommendation's detail view (Enter on Recommendations), through `backend`."""

from __future__ import annotations

from textual import on
from textual.widgets import DataTable

from tui_bot.core.console_api import ConsoleBackend
from tui_bot.domain.enums import StopOrderType
from tui_bot.domain.intents import AmendOrderIntent
from tui_bot.domain.recommendations import Recommendation
from tui_bot.ui.actions import TradingActions
from tui_bot.ui.screens.amend import AmendModal
from tui_bot.ui.screens.recommendation_detail import Decision, RecommendationDetail
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.recommendations import RecommendationsTable

POSITION_STOPS = frozenset({StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS, StopOrderType.TRAILING_STOP})
"""The position's own TP, SL and trailing stop: set with e (trading-stop), not amended as orders."""


class OrderActions(TradingActions):
    """The amend key and the recommendation detail view; every act goes through the backend's intents."""

    def action_amend_order(self) -> None:
        """Amend the order under the Orders cursor (price and qty prefilled); only while Orders has focus."""
        if not self.query_one(OrdersTable).has_focus:
            self.notify("A amends the order under the Orders cursor: focus Orders first (Tab).", severity="warning")
            return
        if (selected := self._selected_order()) is None:
            return
        backend, order = selected
        if order.stop_order_type in POSITION_STOPS:  # the exchange moves these with the position (trading-stop)
            self.notify(f"That is the {order.symbol} position's TP/SL: press e to change it.", severity="warning")
            return
        inst = backend.instruments().get(order.symbol)
        if inst is None:
            self.notify(f"{order.symbol} is not a listed instrument.", severity="warning")
            return
        self.push_screen(AmendModal(order, inst), self._amend)

    def _amend(self, intent: AmendOrderIntent | None) -> None:
        if intent is not None and self.backend is not None:
            self._run(self.backend.amend_order(intent))

    @on(DataTable.RowSelected, "#recommendations")
    def open_recommendation(self, event: DataTable.RowSelected) -> None:
        """Enter on a recommendation opens its detail view; a / d there approve or dismiss it."""
        event.stop()
        rec = self.query_one(RecommendationsTable).selected_recommendation
        if rec is None or self.backend is None:
            return
        backend = self.backend
        detail = RecommendationDetail(rec, backend.instruments().get(rec.symbol))
        self.push_screen(detail, lambda decision: self._decide(backend, rec, decision))

    def _decide(self, backend: ConsoleBackend, rec: Recommendation, decision: Decision | None) -> None:
        """Hand the detail view's answer to the bot (which refuses what is no longer pending, with the reason)."""
        if decision is None or self._bot_backend_or_warn() is None:
            return
        if decision == "approve":
            self._approve(backend, rec.id)
        else:
            self._run(backend.dismiss(rec.id))
