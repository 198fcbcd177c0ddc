"""Modals and screens: each returns a typed intent (or None) and never talks to the engine itself."""

from __future__ import annotations

from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.help_screen import HelpScreen
from tui_bot.ui.screens.leverage import LeverageModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.settings_screen import SettingsScreen
from tui_bot.ui.screens.tpsl import TpSlModal

__all__ = ["ConfirmModal", "HelpScreen", "LeverageModal", "OrderFormModal", "SettingsScreen", "TpSlModal"]
