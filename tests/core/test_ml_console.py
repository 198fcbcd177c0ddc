"""The stats screen shows the learned score's status line (why its gate is off, or the model it gates with) and
its calibration, predicted beside realised win rate per score bucket; hidden without a trading bot."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Static

from tests.core.conftest import wait_for
from tests.ui.test_stats_screen import SIZE, Host, report
from tui_bot.core.ml_report import MlReport, calibration
from tui_bot.core.stats import StatsReport
from tui_bot.ui.screens.stats_screen import CalibrationTable, StatsScreen

OFF = "learned score off: 12 of 100 outcomes needed to train (min_outcomes)"
ON = "ML gate on: model v2 (trained on 150, AUC 0.71, Brier 0.210); ideas below 0.55 are rejected"
SCORED = [(0.1, False), (0.15, True), (0.7, True), (0.75, True), (0.65, False)]


async def test_the_stats_screen_says_why_the_gate_is_off_then_shows_the_calibration() -> None:
    reports = [
        replace(report(), ml=MlReport(OFF, False)),
        replace(report(), ml=MlReport(ON, True, calibration(SCORED))),
        report(),
    ]

    async def load() -> StatsReport:
        return reports.pop(0)

    app = Host(StatsScreen(load))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.stats
        await wait_for(lambda: screen.report is not None)
        await pilot.pause()
        status = screen.query_one("#stats-ml-status", Static)
        table = screen.query_one("#stats-ml", CalibrationTable)
        assert status.display and str(status.render()) == OFF
        assert not table.display  # nothing scored has closed yet
        await pilot.press("r")
        await wait_for(lambda: screen.report is not None and screen.report.ml is not None and screen.report.ml.gating)
        await pilot.pause()
        assert str(status.render()) == ON and table.display
        assert table.keys() == ["0.0", "0.6"]
        assert table.row_texts("0.0") == {"bucket": "0.0-0.2", "count": "2", "predicted": "12.5%", "realised": "50.0%"}
        assert table.row_texts("0.6") == {"bucket": "0.6-0.8", "count": "3", "predicted": "70.0%", "realised": "66.7%"}
        await pilot.press("r")
        await wait_for(lambda: screen.report is not None and screen.report.ml is None)
        await pilot.pause()
        assert not status.display and not table.display and not screen.query_one("#stats-ml-heading").display
