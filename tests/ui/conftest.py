"""Pilot fixtures: the whole console (TuiBotApp on a local backend) on the embedded exchange, files under tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.core.conftest import fast_settings, wait_for
from tui_bot.config import Settings
from tui_bot.runtime import LocalBackendOpener, Runtime
from tui_bot.ui.app import TuiBotApp
from tui_bot.ui.screens.confirm import ConfirmModal
from tui_bot.ui.widgets.positions import PositionsTable

WIDE = (160, 48)


class LocalConsole(TuiBotApp):
    """The console as `tui-bot` composes it (a runtime in this process behind its backend); the test also
    reaches that runtime, to drive the embedded exchange and look at the core, which the app itself never does."""

    def __init__(self, settings: Settings) -> None:
        self.opener = LocalBackendOpener(settings, settings.storage.db_path)
        super().__init__(settings, self.opener)

    @property
    def runtime(self) -> Runtime | None:
        return self.opener.runtime


Console = Callable[..., AbstractAsyncContextManager[tuple[LocalConsole, Pilot[None]]]]


def console_settings(tmp_path: Path) -> Settings:
    """Quick-reacting settings with the DB and the log file under tmp_path (sim venue, random port)."""
    settings = fast_settings()
    settings.sim.step_ms = 500  # a calmer market than the shipped 100 ms: Pilot waits for the process to idle after
    # every key (up to 1 s, twice), and repaints at 100 ms kept it busy: a key cost ~0.4 s, now ~0.1 s
    settings.storage.db_path = tmp_path / "console.db"
    settings.listen.log_file = tmp_path / "console.log"
    return settings


def ready(app: LocalConsole) -> bool:
    """The backend is up, the tables are mounted and BTCUSDT has a last price (market orders validate)."""
    if app.backend is None or app.runtime is None or not app.query(PositionsTable):
        return False
    ticker = app.runtime.engine.state.tickers.get("BTCUSDT")
    return ticker is not None and bool(ticker.last_price)


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Console:
    """Start a console: `async with console() as (app, pilot)`; a second one on the same DB restarts it."""
    monkeypatch.setattr(ConfirmModal, "ARM_DELAY", 0.0)

    @asynccontextmanager
    async def run(
        size: tuple[int, int] = WIDE, settings: Settings | None = None
    ) -> AsyncIterator[tuple[LocalConsole, Pilot[None]]]:
        settings = settings or console_settings(tmp_path)
        app = LocalConsole(settings)
        async with app.run_test(size=size, notifications=True) as pilot:
            await wait_for(lambda: ready(app), timeout=6.0)
            await pilot.pause()
            yield app, pilot
            # End the app's message loop (which cancels the bridge) before run_test prunes the screens, as
            # a real run does; otherwise bridge messages arriving mid-teardown find no widgets to update.
            app.exit()
            await wait_for(app.task.done, timeout=5.0)
        assert app.return_code in (None, 0)

    return run
