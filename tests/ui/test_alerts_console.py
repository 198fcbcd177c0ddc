"""Alerts in the console against the embedded exchange: the alert line, the alerts list (n), arming a price alert
from its modal (N) and disarming it from the list."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.core.conftest import sim_of, wait_for
from tests.core.test_resilience import private_stream_refused
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.config import Settings
from tui_bot.core.alert_rules import AlertSettings
from tui_bot.domain.alerts import AlertKind, Cross
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.sim.server import SimExchange
from tui_bot.ui.screens.alerts_screen import ACTIVE_MARK, PriceAlertsTable, RecentAlertsTable
from tui_bot.ui.screens.price_alert import PriceAlertModal
from tui_bot.ui.widgets.alert_line import AlertLine

BTC = "BTCUSDT"
TICK = Decimal("0.10")
NARROW = (80, 24)


def alerting(tmp_path: Path) -> Settings:
    """Console settings whose connection-down warning comes after 1 s, checked every 50 ms; latency never alerts
    (a busy machine's p99 would put its warning on the line in place of the alert under test)."""
    settings = console_settings(tmp_path)
    settings.alerts = AlertSettings(
        check_interval_s=0.05,
        connection_down_warning_s=1,
        connection_down_critical_s=30,
        latency_warning_ms=3_600_000,
        latency_critical_ms=3_600_000,
    )
    return settings


def sim(app: LocalConsole) -> SimExchange:
    assert app.runtime is not None
    return sim_of(app.runtime)


def line_text(app: LocalConsole) -> str:
    line = app.query_one(AlertLine)
    return str(line.content) if line.display else ""


def rows_about(app: LocalConsole, source: str) -> list[dict[str, str]]:
    """The alerts list's rows (newest first) whose source is source."""
    recent = app.screen.query_one(RecentAlertsTable)
    rows = [recent.row_texts(key) for key in recent.keys()]  # noqa: SIM118 - LiveTable.keys(), not a dict's
    return [row for row in rows if row["source"] == source]


async def test_a_connection_down_shows_on_the_alert_line_and_in_the_list_marked_active(
    tmp_path: Path, console: Console
) -> None:
    async with console(size=NARROW, settings=alerting(tmp_path)) as (app, pilot):
        line = app.query_one(AlertLine)
        assert not line.display, "no alert yet: the line takes no room"
        async with private_stream_refused(sim(app)):
            await wait_for(lambda: "private connection" in line_text(app))
            text = line_text(app)
            assert re.match(r"▲ [12] active · ", text) and " WARNING private connection " in text, text
            assert line.has_class("-warning") and line.region.y == 1 and line.region.height == 1
            await pilot.press("n")
            (row,) = rows_about(app, "connection down private")
            assert (row["active"], row["severity"]) == (ACTIVE_MARK, "warning")
            assert row["text"].startswith("private connection ")
            await pilot.press("escape")
        await wait_for(lambda: app.backend is not None and not app.backend.active_alerts())
        await wait_for(lambda: " CLEARED " in line_text(app))
        assert line.has_class("-cleared") and "active" not in line_text(app)
        await pilot.press("n")
        newest, older = rows_about(app, "connection down private")
        assert (newest["severity"], newest["active"]) == ("cleared", "")
        assert (older["severity"], older["active"]) == ("warning", ""), "its condition no longer holds"


async def type_level(pilot: Pilot[None], app: LocalConsole, text: str) -> str:
    """Type text into the price alert's level and press Enter; the field's reason shown ('' when armed)."""
    field = app.screen.query_one("#level", Input)
    field.value = text
    await pilot.press("enter")
    if not isinstance(app.screen, PriceAlertModal):
        return ""
    return str(app.screen.query_one("#level-error", Static).content)


async def test_a_price_alert_armed_from_the_modal_fires_when_the_exchange_crosses_it(
    tmp_path: Path, console: Console
) -> None:
    settings = alerting(tmp_path)  # a connection slow to come up on a busy machine must not take the line
    settings.alerts = settings.alerts.model_copy(update={"connection_down_warning_s": 60})
    async with console(settings=settings) as (app, pilot):
        assert app.backend is not None
        await wait_for(lambda: app.backend is not None and app.backend.selected_symbol() == BTC)
        market = sim(app).engine.markets[BTC]
        await pilot.press("N")
        assert isinstance(app.screen, PriceAlertModal) and app.screen.symbol == BTC
        assert await type_level(pilot, app, "1,5") == "use a point for decimals, not a comma"
        assert await type_level(pilot, app, "1e3") == "write the price out in digits, without an exponent"
        assert await type_level(pilot, app, "-0.5") == "a price must be positive"
        assert (await type_level(pilot, app, "100000.05")).startswith("BTCUSDT level must be a multiple of 0.10")
        assert app.backend.price_alerts() == [], "nothing armed by a refused level"
        level = market.last_price + 2000 * TICK
        assert await type_level(pilot, app, plain(level)) == ""
        (armed,) = app.backend.price_alerts()
        assert (armed.symbol, armed.level, armed.direction) == (BTC, level, Cross.ABOVE)
        market.set_price(floor_to_step(level * Decimal("1.005"), TICK), sim(app).clock.now_ms())
        await wait_for(lambda: f"{BTC} crossed above {plain(level)}" in line_text(app), timeout=20.0)
        assert " INFO " in line_text(app) and app.query_one(AlertLine).has_class("-info")
        await pilot.press("n")
        assert app.screen.query_one(PriceAlertsTable).row_count == 0, "fired once, so no longer armed"
        recent = app.screen.query_one(RecentAlertsTable)
        assert recent.row_texts(recent.keys()[0])["source"] == f"price {BTC}"


async def test_d_in_the_list_disarms_the_selected_price_alert(tmp_path: Path, console: Console) -> None:
    async with console(settings=alerting(tmp_path)) as (app, pilot):
        assert app.backend is not None
        last = app.backend.last_price(BTC)
        assert last is not None
        far = app.backend.add_price_alert(BTC, last + 5000 * TICK)
        await pilot.press("n")
        table = app.screen.query_one(PriceAlertsTable)
        assert table.keys() == [far.alert_id] and table.cell(far.alert_id, "direction") == "crosses above"
        await pilot.press("d")
        assert app.backend.price_alerts() == [] and table.row_count == 0
        await pilot.press("d")  # nothing left: a note, nothing else
        assert app.backend.price_alerts() == []
        assert [a for a in app.backend.recent_alerts() if a.kind is AlertKind.PRICE] == []
