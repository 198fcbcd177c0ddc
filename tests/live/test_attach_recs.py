"""A headless bot's recommendations in an attached console: listed with the bot's id, approved and dismissed over
the command streams, gone when the bot stops (a `tui-bot bot` process beside a listener, on an embedded exchange
over loopback)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.core.conftest import sim_of, wait_for
from tests.live.commands_support import PATIENT_S, orders_on_exchange
from tests.live.conftest import Live
from tests.ui.conftest import WIDE, console_settings
from tui_bot.attach_cli import opener
from tui_bot.config import Settings, load_settings
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.live.attached_backend import AttachedBackend
from tui_bot.runtime import start_runtime
from tui_bot.sim.server import SimExchange
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.widgets.recommendations import RecommendationsTable

BOT = "a1"


@dataclass
class BotProcess:
    """A running `tui-bot bot --bot-id a1` on the test's exchange, and the ideas its store held when it started."""

    process: asyncio.subprocess.Process
    ideas: list[Recommendation]


def bot_config(folder: Path, sim: SimExchange) -> Path:
    """The bot's settings: the test's exchange as a custom venue on loopback, gates that pass, no scheduled cycles."""
    assert sim.urls is not None
    path = folder / "bot.toml"
    path.write_text(
        f'[exchange]\nvenue = "custom"\nrest_url = "{sim.urls.rest}"\npublic_ws_url = "{sim.urls.public_ws}"\n'
        f'private_ws_url = "{sim.urls.private_ws}"\ntrade_ws_url = "{sim.urls.trade_ws}"\n'
        f'[listen]\nlog_file = "{folder / "bot.log"}"\n[bot]\nbot_id = "{BOT}"\nwatchlist = ["BTCUSDT", "ETHUSDT"]\n'
        "[trading]\nrun_cycles = false\nauto_approve_trades = false\nmin_confidence_threshold = 0.0\n"
        'min_rr = "0.1"\ntimeframe = "1"\n'
    )
    return path


async def pending_ideas(config: Path, db: Path) -> list[Recommendation]:
    """Run one cycle on the bot's store (what its next start shows); its ideas, pending."""
    runtime = await start_runtime(load_settings(config), db, schedule_cycles=False)
    try:
        assert runtime.bot is not None
        await runtime.bot.run_cycle("test")
        ideas = runtime.bot.pending()
        await runtime.writer.flush()
    finally:
        await runtime.close()
    assert len(ideas) >= 2, "both watchlist symbols should have an idea under gates that pass"
    return ideas


@pytest.fixture
def sim(live: Live) -> SimExchange:
    """The listener's exchange: the bot trades there, on the account the listener publishes."""
    return sim_of(live.runtime)


@pytest.fixture
async def bot(
    sim: SimExchange, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotProcess]:
    """A bot process whose store holds pending ideas; SIGTERMed at the end unless the test stopped it."""
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    config, db = bot_config(tmp_path, sim), tmp_path / f"{BOT}.db"
    ideas = await pending_ideas(config, db)
    process = await asyncio.create_subprocess_exec(
        str(console_script()), "--config", str(config), "--db", str(db), "bot", "--bot-id", BOT, "--redis", redis_url,
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
    )  # fmt: skip
    assert process.stdout is not None
    started = (await process.stdout.readline()).decode()
    assert started.startswith(f"bot {BOT}: venue"), started
    yield BotProcess(process, ideas)
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await process.communicate()


def attached(settings: Settings, url: str, db: Path, timeout_s: float) -> Callable[[], Awaitable[AttachedBackend]]:
    """`tui-bot --attach url`'s backend opener, waiting timeout_s for a bot's answer (the console's is 3 s)."""
    shipped = opener(settings, url, db)

    async def open_backend() -> AttachedBackend:
        backend = AttachedBackend(url, shipped.venue, shipped.trading, shipped.db_target, timeout_s=timeout_s)
        await backend.start()
        return backend

    return open_backend


def shown(table: RecommendationsTable) -> dict[str, str]:
    """The console's recommendations table: id -> status."""
    return {key: rec.status for key, rec in table._rows.items()}


async def test_the_attached_console_lists_a_bots_ideas_approves_and_dismisses_them_and_drops_them_when_it_stops(
    bot: BotProcess, sim: SimExchange, redis_url: str, tmp_path: Path
) -> None:
    first, second = bot.ideas[:2]
    settings = console_settings(tmp_path)
    app = TuiBotApp(settings, attached(settings, redis_url, tmp_path / f"{BOT}.db", PATIENT_S))
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await wait_for(lambda: app.backend is not None and bool(app.query(RecommendationsTable)), timeout=6.0)
        table = app.query_one(RecommendationsTable)
        await wait_for(lambda: {f"{BOT}/{first.id}", f"{BOT}/{second.id}"} <= set(shown(table)), timeout=15.0)
        assert all(rec.strategy.startswith(f"{BOT}/") for rec in table._rows.values())  # each names its bot
        await pilot.press("r")  # the bots run their own cycles: refused in a line, never a traceback
        refused = "analysis cycles: not available when attached"
        await wait_for(lambda: any(str(n.message) == refused for n in app._notifications))
        table.move_cursor(row=table.get_row_index(f"{BOT}/{first.id}"))
        await pilot.press("a")
        await wait_for(lambda: any(o.symbol == first.symbol for o in orders_on_exchange(sim, f"{BOT}-en-")), 15.0)
        await wait_for(lambda: shown(table)[f"{BOT}/{first.id}"] == RecommendationStatus.EXECUTED, timeout=15.0)
        said = f"{first.symbol} {first.side.value}: executed"
        await wait_for(lambda: any(said in str(n.message) for n in app._notifications), timeout=15.0)
        table.move_cursor(row=table.get_row_index(f"{BOT}/{second.id}"))
        await pilot.press("d")
        await wait_for(lambda: shown(table)[f"{BOT}/{second.id}"] == RecommendationStatus.DISMISSED, timeout=15.0)
        assert [o.symbol for o in orders_on_exchange(sim, f"{BOT}-en-")] == [first.symbol]  # a dismissal sends none
        bot.process.send_signal(signal.SIGTERM)
        assert await bot.process.wait() == 0
        await wait_for(lambda: not shown(table), timeout=10.0)
        app.exit()
        await wait_for(app.task.done, timeout=5.0)


async def test_a_refusal_and_a_silent_bot_are_told_in_a_line_and_a_killed_bots_ideas_expire(
    bot: BotProcess, redis_url: str, tmp_path: Path
) -> None:
    first, second = bot.ideas[:2]
    settings, db = console_settings(tmp_path), tmp_path / f"{BOT}.db"
    backend = await attached(settings, redis_url, db, PATIENT_S)()
    impatient = await attached(settings, redis_url, db, 1.0)()
    try:
        await wait_for(lambda: len(backend.recommendations()) >= 2, timeout=15.0)
        done = await backend.dismiss(f"{BOT}/{first.id}")
        assert (done.id, done.status, done.strategy) == (f"{BOT}/{first.id}", "dismissed", f"{BOT}/{first.strategy}")
        with pytest.raises(ValueError, match=rf"^{BOT} refused: only a pending recommendation can be approved$"):
            await backend.approve(f"{BOT}/{first.id}")
        with pytest.raises(ValueError, match=r"^recommendation zz/x: no bot publishes it \(any more\)$"):
            await backend.approve("zz/x")
        bot.process.kill()  # no goodbye: its value stays until its TTL runs out
        await bot.process.wait()
        await wait_for(lambda: len(impatient.recommendations()) >= 2)
        with pytest.raises(ValueError, match=rf"^no answer from bot {BOT} in 1 s$"):
            await impatient.approve(f"{BOT}/{second.id}")
        await wait_for(lambda: backend.recommendations() == [], timeout=10.0)
    finally:
        await impatient.close()
        await backend.close()
