"""Defects a new user met in tmux (80×24, 120×36, 200×60): the ticket preview labelled the R:R ratio in USDT, the
close dialog wrote a 0.1-step position as 1.00 beside parts of 0.5, and the log pane shrunk by a resize showed
records from minutes before instead of the newest."""

from __future__ import annotations

from decimal import Decimal as D

from textual.widgets import Static

from tests.ui.test_tick_format import SOL_INST
from tests.ui.test_widgets import Host, _pos
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.ui.screens.partial_close import PartialCloseModal
from tui_bot.ui.screens.ticket_preview import preview
from tui_bot.ui.widgets.log_pane import LogPane


def test_the_preview_labels_money_in_usdt_and_the_reward_to_risk_as_a_ratio() -> None:
    intent = PlaceOrderIntent("SOLUSDT", Side.BUY, OrderType.MARKET, D("1"), take_profit=D("182"), stop_loss=D("175"))
    lines = preview(intent, D("178.30"), D("5"), D("0.00055")).splitlines()
    assert lines[1] == "gain at TP +3.50 USDT · loss at SL 3.49 USDT · R:R 1.00 (both fees in)"


async def test_the_close_dialog_writes_the_position_and_its_parts_to_the_qty_step() -> None:
    app = Host(Static("console"))
    async with app.run_test(size=(100, 30)) as pilot:
        modal = PartialCloseModal(_pos("SOLUSDT", "178.31", "178.3", size="1.00"), SOL_INST)
        app.push_screen(modal)
        await pilot.pause()
        assert str(modal.query_one("#body", Static).content).startswith("Close long 1.0 SOLUSDT at market")
        parts = str(modal.query_one("#parts", Static).content).splitlines()
        assert [line.split()[-1] for line in parts[:3]] == ["0.2", "0.5", "1.0"]


async def test_the_log_pane_keeps_the_newest_record_in_view_when_a_resize_shrinks_it() -> None:
    pane = LogPane()
    app = Host(pane)
    async with app.run_test(size=(80, 20)) as pilot:
        pane.styles.height = 8
        await pilot.pause()
        for n in range(30):
            pane.write_record("INFO", f"record {n}")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y
        pane.styles.height = 3
        await pilot.pause()
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y, "the last record is the pane's bottom line"
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "record 29" in shown
