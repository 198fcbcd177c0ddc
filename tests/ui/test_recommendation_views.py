"""Recommendations: an idea past its stop expires and cannot be approved (the bot refuses it), Enter opens the whole
idea, and time and status show at every width; against the embedded exchange with the bot running."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, LocalConsole
from tests.ui.test_amend_close import notes
from tests.ui.test_bot_console import bot_settings, shown
from tests.ui.test_console_pilot import account
from tui_bot.core.bot import TradingBot
from tui_bot.domain.enums import Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.domain.recommendations import Direction, Recommendation, RecommendationStatus, reward_risk
from tui_bot.store.ops import SaveCycle
from tui_bot.store.rows import CycleRow
from tui_bot.ui.screens.recommendation_detail import RecommendationDetail
from tui_bot.ui.widgets.recommendations import RecommendationsTable

BTC = "BTCUSDT"
CYCLE = "c-1784712600000"
REASONING = (
    "EMA(9) crossed above EMA(21) on the 1m bars while RSI(14) rose from 41 to 58; the last three closes held above "
    "the fast average, volume 1.8x its 20-bar mean. Stop under the swing low, target at 2R. "
) * 3


def bot_of(app: LocalConsole) -> TradingBot:
    assert app.runtime is not None and app.runtime.bot is not None
    return app.runtime.bot


def pending_long(app: LocalConsole, rec_id: str, *, stop_pct: str) -> Recommendation:
    """A pending BTCUSDT long recorded by the bot as a cycle would: entry at the last price, the stop stop_pct of
    it (above 1 = a stop the price has already passed), the target 2 % above."""
    assert app.runtime is not None
    last = app.runtime.engine.state.last_price(BTC)
    tick = app.runtime.engine.state.instruments[BTC].tick_size
    assert last is not None
    stop = floor_to_step(last * Decimal(stop_pct), tick)
    target = floor_to_step(last * Decimal("1.02"), tick)
    now = int(time.time() * 1000)
    app.runtime.writer.enqueue(SaveCycle(CycleRow(CYCLE, now, "1", "done", finished_ms=now)))
    rec = Recommendation(
        id=rec_id,
        cycle_id=CYCLE,
        symbol=BTC,
        side=Side.BUY,
        confidence=Decimal("0.72"),
        entry=last,
        stop_loss=stop,
        take_profit=target,
        rr=reward_risk(Direction.LONG, last, stop, target),
        strategy="ema_trend",
        strategy_version="1.2",
        reasoning=REASONING,
        status=RecommendationStatus.PENDING.value,
        created_ms=now,
        updated_ms=now,
    )
    return bot_of(app).record(rec)


async def test_the_bot_refuses_to_approve_an_idea_whose_price_has_passed_its_stop(
    console: Console, tmp_path: Path
) -> None:
    async with console(settings=bot_settings(tmp_path)) as (app, _pilot):
        bot = bot_of(app)
        rec = pending_long(app, "stale-1", stop_pct="1.01")  # a long whose stop is above the price
        with pytest.raises(
            ValueError, match=r"BTCUSDT Buy idea expired, not approved: the price .* has passed the stop"
        ):
            await bot.approve(rec.id)  # before any ticker: the approval itself checks
        assert bot.recommendations[rec.id].status == RecommendationStatus.EXPIRED
        assert account(app).orders == {}


async def test_an_idea_past_its_stop_shows_as_expired_and_a_refuses_it_with_the_reason(
    console: Console, tmp_path: Path
) -> None:
    async with console(settings=bot_settings(tmp_path)) as (app, pilot):
        fresh = pending_long(app, "fresh-1", stop_pct="0.98")
        stale = pending_long(app, "stale-1", stop_pct="1.01")
        await wait_for(lambda: shown(app).get(stale.id, {}).get("status") == "expired")
        assert "has passed the stop" in shown(app)[stale.id]["fate"]
        assert shown(app)[fresh.id]["status"] == "pending", "an idea still above its stop stays approvable"
        table = app.query_one(RecommendationsTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(stale.id))
        await pilot.pause()
        await pilot.press("a")
        await wait_for(lambda: any("idea expired" in text and "passed the stop" in text for text in notes(app)))
        await pilot.press("enter")  # the detail view's a asks the bot, which refuses it too
        await wait_for(lambda: isinstance(app.screen, RecommendationDetail))
        assert "expired — the price" in str(app.screen.query_one("#fields", Static).content)
        await pilot.press("a")
        await wait_for(lambda: any("idea expired, not approved: the price" in text for text in notes(app)))
        assert bot_of(app).recommendations[stale.id].status == RecommendationStatus.EXPIRED
        assert account(app).orders == {}


async def test_enter_opens_the_whole_idea_esc_closes_it_and_d_there_dismisses_it(
    console: Console, tmp_path: Path
) -> None:
    async with console(settings=bot_settings(tmp_path)) as (app, pilot):
        rec = pending_long(app, "idea-1", stop_pct="0.98")
        table = app.query_one(RecommendationsTable)
        await wait_for(lambda: table.has_row(rec.id))
        table.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, RecommendationDetail))
        fields = str(app.screen.query_one("#fields", Static).content)
        for text in ("BTCUSDT", "Buy", "72%", "ema_trend v1.2", "pending", CYCLE, "R:R"):
            assert text in fields, text
        assert str(app.screen.query_one("#reasoning", Static).content) == REASONING, "the reasoning in full"
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, RecommendationDetail))
        assert bot_of(app).recommendations[rec.id].status == RecommendationStatus.PENDING
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, RecommendationDetail))
        await pilot.press("d")
        await wait_for(lambda: bot_of(app).recommendations[rec.id].status == RecommendationStatus.DISMISSED)
        await wait_for(lambda: shown(app)[rec.id]["status"] == "dismissed")


async def test_a_in_the_detail_view_approves_the_idea_and_it_is_traded(console: Console, tmp_path: Path) -> None:
    async with console(settings=bot_settings(tmp_path)) as (app, pilot):
        rec = pending_long(app, "idea-1", stop_pct="0.98")
        table = app.query_one(RecommendationsTable)
        await wait_for(lambda: table.has_row(rec.id))
        table.focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, RecommendationDetail))
        await pilot.press("a")
        await wait_for(lambda: bot_of(app).recommendations[rec.id].status != RecommendationStatus.PENDING, timeout=10)
        done = bot_of(app).recommendations[rec.id]
        assert done.status == RecommendationStatus.EXECUTED, done.fate
        await wait_for(lambda: account(app).positions.get(BTC) is not None and account(app).positions[BTC].size > 0)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 60)])
async def test_time_and_status_show_at_every_width(console: Console, tmp_path: Path, size: tuple[int, int]) -> None:
    async with console(size=size, settings=bot_settings(tmp_path)) as (app, pilot):
        rec = pending_long(app, "idea-1", stop_pct="0.98")
        table = app.query_one(RecommendationsTable)
        await wait_for(lambda: table.has_row(rec.id))
        await pilot.pause()
        shown_region = table.region.intersection(app.screen.region)
        assert table.display and shown_region.height >= 2, "header and the first idea are on screen"
        header = table.render_line(0).text
        row = table.render_line(1).text
        clock = shown(app)[rec.id]["time"]
        assert "Time" in header and "Status" in header, header
        assert clock in row and "pending" in row, row


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (160, 45), (200, 60)])
async def test_every_column_header_shown_is_whole(console: Console, tmp_path: Path, size: tuple[int, int]) -> None:
    async with console(size=size, settings=bot_settings(tmp_path)) as (app, pilot):
        table = app.query_one(RecommendationsTable)
        await pilot.pause()
        empty_header = table.render_line(0).text
        assert all(str(column.label) in empty_header.split() for column in table.columns.values()), empty_header
        rec = pending_long(app, "idea-1", stop_pct="0.98")
        await wait_for(lambda: table.has_row(rec.id))
        await pilot.pause()
        header = table.render_line(0).text
        labels = [str(column.label) for column in table.columns.values()]
        assert header.split() == labels, f"every header whole at {size}: {header!r}"
        assert labels[:4] == ["Time", "Symbol", "Side", "Status"] and labels[-1] == "Why"
