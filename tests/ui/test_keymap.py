"""Binding ids: every key has one, config remaps by id, unknown ids are reported, and the app applies the remap."""

from __future__ import annotations

from pathlib import Path

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, console_settings
from tui_bot.ui.keymap import BINDING_IDS, BINDING_TABLE, app_bindings, help_rows, validated_keymap
from tui_bot.ui.screens.help_screen import HelpScreen


def test_every_binding_has_an_id_and_help_lists_it() -> None:
    bindings = app_bindings()
    assert {b.id for b in bindings} == BINDING_IDS
    assert len(BINDING_IDS) == len(BINDING_TABLE)
    assert {binding_id for _, binding_id, _ in help_rows({})} >= BINDING_IDS, "in the footer or not, help lists it"


def test_remap_keeps_known_ids_and_reports_unknown_ones() -> None:
    keymap, warnings = validated_keymap({"buy": "B", "sel": "S", "panic": " "})
    assert keymap == {"buy": "B"}
    assert warnings == ["unknown key binding id in [keys]: 'sel'"]
    rows = {binding_id: keys for keys, binding_id, _ in help_rows(keymap)}
    assert rows["buy"] == "B" and rows["sell"] == "s"


async def test_a_remapped_key_works_and_the_old_one_no_longer_does(console: Console, tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    settings.keys = {"help": "j"}
    async with console(settings=settings) as (app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("j")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), timeout=3.0)
