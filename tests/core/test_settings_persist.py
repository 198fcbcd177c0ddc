"""Trading settings: all-or-nothing validated edits, persisted in the DB, restored on the next start."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.core.conftest import fast_settings
from tui_bot.core.bus import Bus
from tui_bot.core.settings import SettingsChanged, SettingsRejected, SettingsService
from tui_bot.domain.trading_settings import TradingSettings
from tui_bot.runtime import Runtime


async def test_edits_persist_across_restart_and_bad_edits_change_nothing(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
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
        assert (current.risk_percentage, current.max_concurrent_trades, current.enable_sl_tightening) == (
            Decimal("2.5"),
            5,
            False,
        )
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


async def test_only_edited_settings_are_stored_so_config_toml_keeps_the_rest(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await make_runtime()
    try:
        rt.trading.toggle("enable_sl_tightening")
    finally:
        await rt.close()
    settings = fast_settings()
    settings.trading = settings.trading.model_copy(update={"max_concurrent_trades": 7, "paper_trading": True})
    again = await make_runtime(settings)
    try:
        current = again.trading.current
        assert current.enable_sl_tightening is False, "the edit made in the app is kept"
        assert (current.max_concurrent_trades, current.paper_trading) == (7, True), "config.toml still counts"
    finally:
        await again.close()


async def test_paper_trading_turned_on_in_the_file_beats_a_stored_off(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    rt = await make_runtime()
    try:
        rt.trading.update({"paper_trading": False, "use_testnet": False})
        rt.trading.update({"paper_trading": True})
        rt.trading.update({"paper_trading": False})  # stored: off
    finally:
        await rt.close()
    settings = fast_settings()
    settings.trading = settings.trading.model_copy(update={"paper_trading": True})
    again = await make_runtime(settings)
    try:
        assert again.trading.current.paper_trading is True
    finally:
        await again.close()


async def test_a_broken_stored_settings_row_is_ignored_with_a_warning(
    make_runtime: Callable[..., Awaitable[Runtime]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rt = await make_runtime()
    await rt.close()
    for broken in ("[1]", "{not json", '{"leverage": "1000", "nonsense": 1}'):
        with contextlib.closing(sqlite3.connect(tmp_path / "core.db")) as db:
            db.execute("INSERT OR REPLACE INTO config VALUES ('trading', ?, 0)", (broken,))
            db.commit()
        caplog.clear()
        again = await make_runtime()
        try:
            assert again.trading.current.leverage == Decimal("5")
            assert any(r.levelname == "WARNING" for r in caplog.records), broken
        finally:
            await again.close()


@pytest.mark.parametrize(
    ("names", "reason"),
    [
        (
            ["ema_trend", "nosuch"],
            "strategy 'nosuch': not a built-in (chart_llm, ema_trend, range_breakout, rsi_reversion)",
        ),
        (["ema_trend", "rsi_reversion", "ema_trend"], "strategy 'ema_trend' is listed twice"),
        (["no_such_pkg.mod:Momentum"], "cannot import module 'no_such_pkg.mod'"),
        (["collections:OrderedDict"], "OrderedDict lacks name, version, min_candles, propose()"),
    ],
)
def test_strategies_that_cannot_load_are_refused_when_edited(names: list[str], reason: str) -> None:
    service = SettingsService(TradingSettings(), None, Bus().publish)
    with pytest.raises(SettingsRejected) as rejected:
        service.update({"strategies": names, "leverage": "3"})
    assert list(rejected.value.errors) == ["strategies"] and reason in rejected.value.errors["strategies"]
    assert service.current == TradingSettings(), "nothing applied"


async def test_a_stored_strategy_list_that_no_longer_loads_is_left_out(
    make_runtime: Callable[..., Awaitable[Runtime]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rt = await make_runtime()
    await rt.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "core.db")) as db:
        db.execute(
            "INSERT OR REPLACE INTO config VALUES ('trading', ?, 0)",
            ('{"strategies": ["gone_pkg.mod:Momentum"], "leverage": "3"}',),
        )
        db.commit()
    again = await make_runtime()
    try:
        assert again.trading.current.strategies == TradingSettings().strategies
        assert again.trading.current.leverage == Decimal("3"), "the other stored edit still applies"
        assert any(
            "strategies" in r.getMessage() and "cannot import module 'gone_pkg.mod'" in r.getMessage()
            for r in caplog.records
            if r.levelname == "WARNING"
        )
    finally:
        await again.close()


def test_leverage_takes_two_decimals_at_most() -> None:
    TradingSettings(leverage=Decimal("5.12"))
    with pytest.raises(ValidationError):
        TradingSettings(leverage=Decimal("5.123"))
