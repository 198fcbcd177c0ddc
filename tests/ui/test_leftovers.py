"""From a new user's tmux tryout: the footer at every width, state in text, the ticket's trigger, dialogs' timing."""

from __future__ import annotations

import itertools

from textual.app import App
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tests.ui.conftest import Console
from tests.ui.test_console_pilot import open_buy_form


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
