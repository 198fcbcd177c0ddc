"""From a new user's tmux tryout: the footer at every width, state in text, the ticket's trigger, dialogs' timing."""

from __future__ import annotations

import itertools
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button, Footer, Input, RadioButton, Static
from textual.widgets._footer import FooterKey

from tests.core.conftest import sim_of, wait_for
from tests.core.test_resilience import private_stream_refused
from tests.ui.conftest import Console
from tests.ui.test_alerts_console import alerting
from tests.ui.test_alerts_console import line_text as alert_text
from tests.ui.test_alerts_console import sim as sim_of_app
from tests.ui.test_console_pilot import BTC, open_buy_form
from tests.ui.test_double_submit import open_position
from tests.ui.test_history import QTY, flat, long_with_stop, open_trade_history
from tests.ui.test_screens import Host
from tests.ui.test_ticket_pilot import text, type_into
from tui_bot.domain.alerts import Severity
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.intents import PlaceOrderIntent
from tui_bot.domain.numbers import floor_to_step, plain
from tui_bot.ui import format as fmt
from tui_bot.ui.keymap import validated_keymap
from tui_bot.ui.log_handler import PaneLogHandler
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.tpsl import TpSlModal
from tui_bot.ui.screens.trade_history import ClosedTradesTable
from tui_bot.ui.widgets.alert_line import CLEARED_SHOWN_MS, AlertLine
from tui_bot.ui.widgets.log_pane import LogPane


def screen_lines(app: App[None]) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_every_footer_key_is_on_screen_and_help_and_quit_at_the_right_end_at_every_width(
    console: Console,
) -> None:
    async with console(size=(80, 24)) as (app, pilot):
        shown = {binding.action for _n, binding, _e, _t in app.screen.active_bindings.values() if binding.show}
        for width, height in ((80, 24), (120, 36), (200, 60), (80, 24)):
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            await pilot.pause()
            footer = app.query_one(Footer)
            keys = list(footer.query(FooterKey))
            assert {key.action for key in keys} >= shown
            for key in keys:
                assert footer.region.contains_region(key.region), f"{key.key_display} cut at {width}: {key.region}"
                assert key.region.width >= len(key.key_display)
            regions = sorted((key.region for key in keys), key=lambda region: region.x)
            assert all(a.right <= b.x for a, b in itertools.pairwise(regions)), f"keys overlap at {width}"
            bottom = screen_lines(app)[-1]
            assert "? Help" in bottom and "q Quit" in bottom, bottom
            assert bottom.rstrip().endswith("palette"), bottom
            if width >= 120:
                assert "b Buy" in bottom and "s Sell" in bottom, bottom


async def test_the_tickets_radio_and_checkbox_state_reads_in_text_not_only_colour(console: Console) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        text = "\n".join(screen_lines(app))
        assert "▐●▌ Buy" in text and "▐○▌ Sell" in text, "the chosen side is a filled dot, the other an empty one"
        assert "▐ ▌ reduce-only" in text, "an unticked box is blank"
        form.query_one("#reduce").focus()
        await pilot.press("space")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "▐x▌ reduce-only" in text, "a ticked box has an x"
        await pilot.press("escape")


async def test_ctrl_l_switches_the_ticket_to_limit_from_the_qty_field_and_the_next_keys_are_the_price(
    console: Console,
) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        await pilot.press("0", ".", "0", "1", "ctrl+l")
        await pilot.pause()
        assert form.query_one("#type-limit", RadioButton).value
        assert app.focused is form.query_one("#price", Input), "Limit moves to the price, its text selected"
        await pilot.press("9", "0", "0", "0", "0")
        await pilot.pause()
        intent = form.evaluation.intent
        assert intent is not None and intent.order_type is OrderType.LIMIT
        assert (intent.price, intent.trigger_price) == (Decimal("90000"), None)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert form.query_one("#type-market", RadioButton).value and app.focused is form.query_one("#qty", Input)
        await pilot.press("escape")


async def test_a_price_typed_into_trigger_is_labelled_a_conditional_order_in_the_preview(console: Console) -> None:
    async with console() as (app, pilot):
        form = await open_buy_form(app, pilot)
        await pilot.press("0", ".", "0", "1")
        await type_into(pilot, form, "trigger", "200000")
        await pilot.pause()
        assert form.evaluation.intent is not None
        preview = text(form, "#preview")
        assert preview.startswith("conditional: triggers when last rises to 200000"), preview
        assert "Trigger at" in "\n".join(screen_lines(app))
        await pilot.press("escape")


async def test_the_tpsl_dialog_follows_the_live_mark_and_checks_the_stop_against_it(console: Console) -> None:
    async with console() as (app, pilot):
        await open_position(app, pilot)
        assert app.runtime is not None
        market = sim_of(app.runtime).engine.markets[BTC]
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, TpSlModal))
        dialog = app.screen
        assert isinstance(dialog, TpSlModal)
        opened_at = dialog.mark
        lower = floor_to_step(opened_at * Decimal("0.95"), market.tick)
        market.set_price(lower, sim_of(app.runtime).clock.now_ms())
        await wait_for(lambda: dialog.mark < opened_at * Decimal("0.97"))
        inst = app.runtime.engine.state.instruments[BTC]
        assert f"mark {fmt.price(dialog.mark, inst)}" in str(dialog.query_one("#tpsl-info", Static).content)
        stop = floor_to_step(opened_at * Decimal("0.97"), market.tick)  # below the old mark, above the live one
        dialog.query_one("#sl", Input).focus()
        await pilot.press("ctrl+u", *plain(stop))
        await pilot.pause()
        assert "must be below the mark" in str(dialog.query_one("#sl-error", Static).content)
        await pilot.press("escape")


async def test_y_confirms_once_the_dialog_is_painted_while_enter_waits_and_the_button_says_so() -> None:
    app = Host(lambda: ConfirmModal("Close", "Close 1 BTCUSDT?", arm_delay=30))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        modal = app.screen
        assert "Enter in 30.0 s" in str(modal.query_one("#yes", Button).label)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is modal and app.results == [], "Enter inside the window does not confirm"
        await pilot.press("y")
        await pilot.pause()
    assert app.results == [True], "a deliberate y after the dialog is on screen confirms at once"


def test_a_remap_onto_y_is_refused_so_a_held_key_never_opens_and_confirms_a_dialog() -> None:
    keymap, warnings = validated_keymap({"panic": "y"})
    assert keymap == {} and warnings == [
        "[keys] panic = 'y' refused: y confirms dialogs (at once, so a held key that opens one must not be y);"
        " panic stays on X"
    ]


async def test_the_schema_migrations_info_lines_stay_out_of_the_log_pane(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    handler = PaneLogHandler()
    logging.getLogger().addHandler(handler)
    try:
        async with console() as (app, pilot):
            app.log_handler = handler
            logging.getLogger("tui_bot.test").info("a line of our own")
            await wait_for(lambda: any("a line of our own" in line.text for line in app.query_one(LogPane).lines))
            shown = [line.text for line in app.query_one(LogPane).lines]
    finally:
        logging.getLogger().removeHandler(handler)
    assert any(r.name.startswith("alembic") and r.levelno == logging.INFO for r in caplog.records), "it did log"
    assert not [line for line in shown if "alembic" in line], shown


async def test_a_cleared_alert_leaves_the_line_after_ten_seconds(tmp_path: Path, console: Console) -> None:
    async with console(size=(80, 24), settings=alerting(tmp_path)) as (app, pilot):
        line = app.query_one(AlertLine)
        async with private_stream_refused(sim_of_app(app)):
            await wait_for(lambda: "private connection" in alert_text(app), timeout=15)
        await wait_for(lambda: " CLEARED " in alert_text(app), timeout=15)
        cleared_at_ns = app.now_ns()
        app.now_ns = lambda: cleared_at_ns + CLEARED_SHOWN_MS * 1_000_000  # type: ignore[method-assign]
        await wait_for(lambda: not line.display)
        assert app.backend is not None and not app.backend.active_alerts()
        assert app.backend.recent_alerts()[-1].severity is Severity.CLEARED, "still in the list, off the line"


async def test_trade_history_at_80x24_keeps_entry_and_exit_on_screen_and_the_wide_one_shows_every_column(
    console: Console,
) -> None:
    async with console(size=(80, 24)) as (app, pilot):
        backend = app.backend
        assert backend is not None
        await long_with_stop(app)
        await backend.place_order(PlaceOrderIntent(BTC, Side.SELL, OrderType.MARKET, QTY))
        await flat(app)
        assert app.runtime is not None
        await app.runtime.writer.flush()
        screen = await open_trade_history(app, pilot)
        await pilot.pause()
        [trade] = screen.loaded.trades if screen.loaded is not None else ()
        inst = backend.instruments()[BTC]
        lines = "\n".join(screen_lines(app))
        for price in (trade.entry_price, trade.exit_price):
            assert f" {fmt.price(price, inst)} " in lines, lines
        assert "Opened UTC" not in lines
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        await pilot.pause()
        table = screen.query_one(ClosedTradesTable)
        assert [column.key.value for column in table.columns.values()] == [k for k, _ in table.COLUMNS]
        assert "Opened UTC" in "\n".join(screen_lines(app))
