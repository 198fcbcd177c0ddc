"""The command palette lists every key's action by name with its key, and running one does what the key does."""

from __future__ import annotations

from decimal import Decimal

from textual.command import CommandList, CommandPalette
from textual.widgets import Static

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, LocalConsole
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.numbers import floor_to_step
from tui_bot.ui.keymap import BINDING_TABLE, key_display
from tui_bot.ui.screens.confirm import ConfirmModal

BTC = "BTCUSDT"


def palette_commands(app: LocalConsole) -> dict[str, str]:
    """Title → help of every command the palette offers over the current screen."""
    return {command.title: command.help for command in app.get_system_commands(app.screen)}


async def test_palette_lists_every_binding_by_name_with_its_key(console: Console) -> None:
    async with console() as (app, _pilot):
        commands = palette_commands(app)
        for _id, keys, _action, description, _show in BINDING_TABLE:
            assert commands[description].startswith(f"{key_display(keys)} · "), description
        assert commands["Cancel all"].startswith("C · Cancel every open order")
        assert commands["Quit"].startswith("q · "), "Textual's own Quit (no LIVE question) is replaced by ours"


async def test_palette_finds_cancel_all_and_runs_it(console: Console) -> None:
    async with console() as (app, pilot):
        rt = app.runtime
        assert rt is not None
        last = rt.engine.state.tickers[BTC].last_price
        price = floor_to_step(last * Decimal("0.9"), rt.engine.state.instruments[BTC].tick_size)
        await rt.orders.place(BTC, Side.BUY, Decimal("0.01"), order_type=OrderType.LIMIT, price=price)
        await wait_for(lambda: len(rt.engine.state.open_orders) == 1)
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"cancel all")
        results = app.screen.query_one(CommandList)
        await wait_for(lambda: results.option_count == 1 and results.highlighted == 0)
        assert "Cancel all" in str(results.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ConfirmModal))
        assert str(app.screen.query_one("#body", Static).content) == "Cancel all 1 open order?"
        await pilot.press("y")
        await wait_for(lambda: not rt.engine.state.open_orders, timeout=5.0)


async def test_palette_offers_no_key_commands_over_a_dialog(console: Console) -> None:
    async with console() as (app, pilot):
        await pilot.press("question_mark")
        await wait_for(lambda: app.screen.is_modal)
        assert "Cancel all" not in palette_commands(app) and "Theme" in palette_commands(app)
