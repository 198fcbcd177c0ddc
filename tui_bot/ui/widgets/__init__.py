"""Console widgets: keyed tables reconciled in place, the header, health panel and log pane."""

from __future__ import annotations

from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.header import HeaderBar
from tui_bot.ui.widgets.health import HealthLine, HealthPanel
from tui_bot.ui.widgets.log_pane import LogPane
from tui_bot.ui.widgets.orders import OrdersTable
from tui_bot.ui.widgets.positions import PositionsTable
from tui_bot.ui.widgets.recommendations import RecommendationsTable

__all__ = [
    "FillsTable",
    "HeaderBar",
    "HealthLine",
    "HealthPanel",
    "LogPane",
    "OrdersTable",
    "PositionsTable",
    "RecommendationsTable",
]
