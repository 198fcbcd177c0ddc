"""`tui-bot --attach URL`: the console on a listener's Redis, its close key a command a bot's receiver executes."""

from __future__ import annotations

import asyncio
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.core.conftest import sim_of, wait_for
from tests.live.commands_support import PATIENT_S, open_sizes, receiving
from tests.live.conftest import Live
from tests.ui.conftest import WIDE, console_settings
from tui_bot.attach_cli import opener
from tui_bot.domain.events import OrderUpdated, PositionUpdated, ResyncCompleted
from tui_bot.live.commands import ToggleTightening
from tui_bot.live.commands_sender import CommandSender
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.screens.order_form import OrderFormModal
from tui_bot.ui.screens.partial_close import PartialCloseModal
from tui_bot.ui.widgets.fills import FillsTable
from tui_bot.ui.widgets.positions import PositionsTable

BOT = "tb1"
BTC = "BTCUSDT"


def notes(app: TuiBotApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_the_attached_console_shows_the_bots_position_and_x_has_the_bot_close_it(
    live: Live, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))
    sim = sim_of(live.runtime)
    async with receiving(redis_url, BOT, live.runtime.backend):
        async with app.run_test(size=WIDE, notifications=True) as pilot:
            await wait_for(lambda: app.backend is not None and bool(app.query(PositionsTable)), timeout=6.0)
            assert app.backend is not None and app.backend.venue.label == "ATTACHED SIM"
            positions = app.query_one(PositionsTable)
            await live.market(BTC, "Buy", "0.010", bot=BOT)
            await wait_for(lambda: positions.has_row(BTC))
            await pilot.press("b")  # no instruments over Redis: one line, no ticket
            await pilot.pause()
            assert not isinstance(app.screen, OrderFormModal)
            assert "No instruments known to this console: not available here." in " ".join(notes(app))
            await pilot.press("x")
            await wait_for(lambda: isinstance(app.screen, PartialCloseModal))
            await pilot.press("3", "y")
            await wait_for(lambda: BTC not in open_sizes(sim))
            await wait_for(lambda: not positions.has_row(BTC))
            app.exit()
            await wait_for(app.task.done, timeout=5.0)
        assert app.return_code in (None, 0)
        sender = CommandSender(redis_url, "test", timeout_s=PATIENT_S)
        try:
            reply = await sender.send(BOT, ToggleTightening())  # the bot still takes commands
        finally:
            await sender.close()
        assert reply.ok, reply
    assert live.publisher.up and live.reader.listener_alive  # quitting the console stopped no listener


def test_attach_with_a_url_that_is_not_redis_is_one_line_and_status_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [console_script(), "--attach", "http://127.0.0.1:6379"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "tui-bot: argument --attach: expected redis://HOST:PORT/DB, rediss://HOST:PORT/DB or unix:///PATH; "
        "see tui-bot --help"
    ]


async def test_attached_panic_goes_to_every_bot_a_foreign_position_is_refused_and_history_reads_the_store(
    live: Live, redis_url: str, tmp_path: Path
) -> None:
    backend = await opener(console_settings(tmp_path), redis_url, tmp_path / "listen.db")()
    sim = sim_of(live.runtime)
    try:
        await wait_for(lambda: backend.health().task_lines(time.time_ns() // 1_000_000) == [])  # the listener beats
        await live.market("ETHUSDT", "Buy", "0.10")  # a foreign order: no bot holds it
        await live.market(BTC, "Buy", "0.010", bot=BOT)
        await wait_for(lambda: {"ETHUSDT", BTC} <= set(backend.positions()))
        assert backend.bots_holding(BTC) == [BOT] and backend.bots_holding("ETHUSDT") == ["external"]
        with pytest.raises(ValueError, match=r"^close ETHUSDT: no bot of ours holds it; not closable when attached$"):
            await backend.close_position("ETHUSDT")
        sim_keys = r"\(the embedded exchange runs inside the listener, its keys unknown here\)"
        with pytest.raises(ValueError, match=rf"^manual orders: not available when attached {sim_keys}$"):
            await backend.place_order(None)  # type: ignore[arg-type]
        async with receiving(redis_url, BOT, live.runtime.backend):
            assert await backend.close_all() == []  # the bot's panic closes everything it can see: the account
        await wait_for(lambda: open_sizes(sim) == {})
        await wait_for(lambda: not backend.positions())
        await live.runtime.writer.flush()
        closed = {(t.symbol, t.qty) for t in (await backend.trade_history()).trades}  # the listener's store, read
        assert {(BTC, Decimal("0.010")), ("ETHUSDT", Decimal("0.10"))} <= closed
    finally:
        await backend.close()
    assert live.publisher.up and live.reader.listener_alive


async def test_attached_health_shows_the_listener_gone_when_its_heartbeat_is(redis_url: str, tmp_path: Path) -> None:
    backend = await opener(
        console_settings(tmp_path), redis_url, tmp_path / "none.db"
    )()  # no listener has ever run here
    try:
        now_ms = time.time_ns() // 1_000_000
        await wait_for(lambda: backend.health().task_lines(now_ms) == ["listener died (no heartbeat in Redis)"])
        assert backend.positions() == {} and backend.wallet() is None
    finally:
        await backend.close()


KEY_GROUPS = (
    ("b", "s", "c", "A", "C"),
    ("e", "l", "t", "a", "d"),
    ("r", "m", "m", "i", "g"),
    ("w", "W", "N", "n", "B"),
)
SCREEN_KEYS = ("p", "h", "o", "comma", "question_mark")


@pytest.mark.parametrize("group", range(len(KEY_GROUPS) + 1))
async def test_every_key_of_the_attached_console_answers_without_a_traceback(
    live: Live, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group: int
) -> None:
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_for(lambda: app.backend is not None and bool(app.query(PositionsTable)), timeout=6.0)
        await live.market(BTC, "Buy", "0.010", bot=BOT)
        await wait_for(lambda: app.query_one(PositionsTable).has_row(BTC))
        screens = group == len(KEY_GROUPS)  # the keys that open a screen, each given time to draw
        for key in SCREEN_KEYS if screens else KEY_GROUPS[group]:
            await pilot.press(key)
            await pilot.pause(0.2 if screens else None)
            await pilot.press("escape")
            await pilot.pause()
        assert app.is_running
        app.exit()
        await wait_for(app.task.done, timeout=5.0)
    assert app.return_code in (None, 0)


async def test_a_fill_made_while_the_attached_console_is_open_shows_in_its_fills_table_once(
    live: Live, redis_url: str, tmp_path: Path
) -> None:
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, opener(settings, redis_url, tmp_path / "listen.db"))
    async with app.run_test(size=WIDE) as pilot:
        await wait_for(lambda: app.backend is not None and bool(app.query(FillsTable)), timeout=6.0)
        fills = app.query_one(FillsTable)
        await pilot.pause()
        assert fills.row_count == 0, "nothing stored yet: a row can only come from the stream"
        await live.market(BTC, "Buy", "0.010", bot=BOT)
        await live.market(BTC, "Sell", "0.010", bot=BOT)
        await wait_for(lambda: fills.row_count == 2, timeout=10)
        assert app.backend is not None
        await live.runtime.writer.flush()
        stored = {e.exec_id for e in await app.backend.recent_fills()}
        assert set(fills._order) == stored and len(stored) == 2, "the stream's fills are the stored ones, each once"
        app.exit()
        await wait_for(app.task.done, timeout=5.0)


async def test_a_live_change_hands_the_console_only_what_it_touched(live: Live, redis_url: str, tmp_path: Path) -> None:
    backend = await opener(console_settings(tmp_path), redis_url, tmp_path / "listen.db")()
    subscription = backend.subscribe()
    try:
        await live.market(BTC, "Buy", "0.010", bot=BOT)
        await wait_for(lambda: BTC in backend.positions() and not backend.open_orders())
        await live.runtime.engine.drain()
        subscription.take()  # the order, the fill, the wallet: what opening touched
        marked: list[object] = []
        while sum(isinstance(item, PositionUpdated) for item in marked) < 5:  # marks move: position keys only
            async with asyncio.timeout(10):
                marked += await subscription.next_batch()
        assert not [item for item in marked if isinstance(item, (ResyncCompleted, OrderUpdated))]
        assert {item.position.symbol for item in marked if isinstance(item, PositionUpdated)} == {BTC}
    finally:
        backend.unsubscribe(subscription)
        await backend.close()
