"""Trading settings: all-or-nothing validated edits, persisted in the DB, restored on the next start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tui_bot.core.settings import SettingsChanged, SettingsRejected
from tui_bot.runtime import Runtime


async def test_edits_persist_across_restart_and_bad_edits_change_nothing(make_runtime: Callable[..., Awaitable[Runtime]]) -> None:
    rt = await make_runtime()
    sub = rt.engine.bus.subscribe()
    try:
        rt.trading.update({"risk_percentage": "2.5", "max_concurrent_trades": 5})
        rt.trading.toggle("enable_sl_tightening")
        with pytest.raises(SettingsRejected) as rejected:
            rt.trading.update({"leverage": "3", "min_confidence_threshold": 1.5})
        assert set(rejected.value.errors) == {"min_confidence_threshold"}
        assert rt.trading.current.leverage == Decimal("5")
        batch = await sub.next_batch()
        changes = [item.changed for item in batch if isinstance(item, SettingsChanged)]
        assert changes == [("risk_percentage", "max_concurrent_trades"), ("enable_sl_tightening",)]
    finally:
        await rt.close()
    again = await make_runtime()
    try:
        current = again.trading.current
        assert (current.risk_percentage, current.max_concurrent_trades, current.enable_sl_tightening) == (Decimal("2.5"), 5, False)
    finally:
        await again.close()


async def test_order_path_setting_applies_live_and_persists(make_runtime: Callable[..., Awaitable[Runtime]]) -> None:
    rt = await make_runtime()
    try:
        assert rt.orders.via == "ws"
        rt.trading.update({"orders_over_trade_ws": False})
        assert rt.orders.via == "rest"
    finally:
        await rt.close()
    again = await make_runtime()
    try:
        assert again.orders.via == "rest" and again.trading.current.orders_over_trade_ws is False
    finally:
        await again.close()
