"""tui_bot: a keyboard-driven terminal console for Bybit v5 USDT perpetuals."""

__version__ = "0.1.0"
