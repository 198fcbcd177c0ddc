"""The trading bot from the console: `r` runs a cycle, recommendations appear, `a` trades one, `d` dismisses one."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, LocalConsole, console_settings
from tui_bot.config import Settings
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.ui.widgets.recommendations import RecommendationsTable


def bot_settings(tmp_path: Path) -> Settings:
    settings = console_settings(tmp_path)
    settings.trading = settings.trading.model_copy(
        update={
            "auto_approve_trades": False,
            "min_confidence_threshold": 0.0,
            "min_rr": Decimal("0.1"),
            "timeframe": "1",
            "run_cycles": False,
        }
    )
    return settings


def shown(app: LocalConsole) -> dict[str, dict[str, str]]:
    """The recommendations table as drawn: row key to cell texts."""
    table = app.query_one(RecommendationsTable)
    return {key: table.row_texts(key) for key in table.keys()}  # noqa: SIM118 - LiveTable.keys, not a dict


def activity(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The activity log's lines so far."""
    return [r.getMessage() for r in caplog.records if r.name == "tui_bot.activity"]


async def test_r_runs_a_cycle_then_a_places_and_d_dismisses(
    console: Console, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tui_bot.activity")
    async with console(settings=bot_settings(tmp_path)) as (app, pilot):
        table = app.query_one(RecommendationsTable)
        assert table.empty_state_shown
        await pilot.press("r")
        await wait_for(lambda: any(r["status"] == "pending" for r in shown(app).values()), timeout=10)
        assert app.runtime is not None and app.runtime.bot is not None
        pending = app.runtime.bot.pending()
        table.focus()
        await pilot.pause()
        table.move_cursor(row=table.get_row_index(pending[0].id))
        await pilot.pause()
        await pilot.press("a")
        await wait_for(lambda: shown(app)[pending[0].id]["status"] != "pending", timeout=10)
        rec = app.runtime.bot.recommendations[pending[0].id]
        assert rec.status == RecommendationStatus.EXECUTED, rec.fate
        assert rec.order_link_id is not None
        approved = f"recommendation approved: {rec.side.value} {rec.symbol} {rec.strategy} ({rec.id}) → executed"
        assert [line for line in activity(caplog) if line.startswith(approved)] == [f"{approved}: {rec.fate}"]
        placed = [line for line in activity(caplog) if line.startswith("order placed: ")]
        assert len(placed) == 1 and f"(entry, id {rec.order_link_id})" in placed[0], "the bot's order, logged once"
        await wait_for(lambda: rec.symbol in app.runtime.engine.state.positions, timeout=5)
        assert len(pending) >= 2
        table.move_cursor(row=table.get_row_index(pending[1].id))
        await pilot.pause()
        await pilot.press("d")
        await wait_for(lambda: shown(app)[pending[1].id]["status"] == "dismissed", timeout=5)
        assert any(line.startswith("recommendation dismissed: ") and pending[1].id in line for line in activity(caplog))
