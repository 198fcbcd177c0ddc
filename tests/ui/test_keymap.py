"""Binding ids: every key has one, config remaps by id, unknown ids are reported, and the app applies the remap."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._toast import Toast

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, console_settings
from tui_bot.domain.enums import Side
from tui_bot.ui.keymap import (
    BINDING_IDS,
    BINDING_TABLE,
    HELP_TEXT,
    app_bindings,
    help_rows,
    markdown_key_table,
    validated_keymap,
)
from tui_bot.ui.screens.help_screen import HelpScreen
from tui_bot.ui.screens.order_form import OrderFormModal


def test_every_binding_has_an_id_and_help_lists_it() -> None:
    bindings = app_bindings()
    assert {b.id for b in bindings} == BINDING_IDS
    assert len(BINDING_IDS) == len(BINDING_TABLE)
    assert {binding_id for _, binding_id, *_ in help_rows({})} >= BINDING_IDS, "in the footer or not, help lists it"


def test_remap_keeps_known_ids_and_reports_unknown_ones() -> None:
    keymap, warnings = validated_keymap({"buy": "Y", "sel": "S"})
    assert keymap == {"buy": "Y"}
    assert warnings == ["unknown key binding id in [keys]: 'sel'"]
    rows = {binding_id: keys for keys, binding_id, *_ in help_rows(keymap)}
    assert rows["buy"] == "Y" and rows["sell"] == "s"


def test_a_remap_onto_a_taken_key_is_refused_in_one_line_and_the_default_kept() -> None:
    keymap, warnings = validated_keymap({"buy": "s", "stats": "Y", "dismiss": "Y"})
    assert keymap == {"stats": "Y"}
    assert warnings == [
        "[keys] buy = 's' refused: s is already Sell (sell); buy stays on b",
        "[keys] dismiss = 'Y' refused: Y is already Stats (stats); dismiss stays on d",
    ]


def test_swaps_and_freed_keys_are_allowed_but_not_a_refused_remaps_default() -> None:
    assert validated_keymap({"buy": "s", "sell": "b"}) == ({"buy": "s", "sell": "b"}, [])
    assert validated_keymap({"settings": "f5", "stats": "f2"}) == ({"settings": "f5", "stats": "f2"}, [])
    assert validated_keymap({"buy": "x", "close_position": "b"}) == ({"buy": "x", "close_position": "b"}, [])
    keymap, warnings = validated_keymap({"buy": "s", "close_position": "b"})
    assert keymap == {}, "buy is refused (s stays Sell's), so b stays Buy's and close_position cannot have it"
    assert warnings == [
        "[keys] buy = 's' refused: s is already Sell (sell); buy stays on b",
        "[keys] close_position = 'b' refused: b is already Buy (buy); close_position stays on x",
    ]


def test_reserved_and_malformed_keys_are_refused() -> None:
    keymap, warnings = validated_keymap(
        {"buy": "tab", "sell": "ctrl+p", "panic": " ", "stats": "what ever", "help": "ctrl+shft+h", "quit": "?"}
    )
    assert keymap == {}
    assert warnings == [
        "[keys] buy = 'tab' refused: tab moves between tables; buy stays on b",
        "[keys] sell = 'ctrl+p' refused: ctrl+p opens the command palette; sell stays on s",
        "[keys] panic = ' ' refused: not a key name (e.g. B, f5, ctrl+b, question_mark); panic stays on X",
        "[keys] stats = 'what ever' refused: not a key name (e.g. B, f5, ctrl+b, question_mark); stats stays on p",
        "[keys] help = 'ctrl+shft+h' refused: not a key name (e.g. B, f5, ctrl+b, question_mark); help stays on ?",
        "[keys] quit = '?' refused: ? is already Help (help); quit stays on q",
    ]
    assert validated_keymap({"help": "?", "settings": "comma,F2", "quit": "ctrl+x"}) == (
        {"help": "question_mark", "settings": "comma,f2", "quit": "ctrl+x"},
        [],
    )


def test_readme_key_table_is_the_one_help_rows_make() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_key_table() in readme, (
        "README's key table is out of date: replace it with the output of "
        "python -c 'from tui_bot.ui.keymap import markdown_key_table; print(markdown_key_table())'"
    )


def test_every_binding_has_help_text() -> None:
    assert set(HELP_TEXT) == BINDING_IDS
    for _keys, binding_id, description, explanation in help_rows({}):
        assert explanation and explanation != description, binding_id


async def test_a_conflicting_remap_is_warned_at_start_and_sell_still_sells(console: Console, tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    settings.keys = {"buy": "s"}
    async with console(settings=settings) as (app, pilot):
        warning = "[keys] buy = 's' refused: s is already Sell (sell); buy stays on b"
        assert warning in [str(toast._notification.message) for toast in app.screen.query(Toast)]
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, OrderFormModal))
        assert isinstance(app.screen, OrderFormModal) and app.screen.side is Side.SELL
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, OrderFormModal))
        await pilot.press("b")
        await wait_for(lambda: isinstance(app.screen, OrderFormModal))
        assert isinstance(app.screen, OrderFormModal) and app.screen.side is Side.BUY


async def test_a_remapped_key_works_and_the_old_one_no_longer_does(console: Console, tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    settings.keys = {"help": "j"}
    async with console(settings=settings) as (app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("j")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), timeout=3.0)
