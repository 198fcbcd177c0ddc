"""A cycle's HOLDs reach the console: the `r` report names each held symbol with every strategy's reason."""

from __future__ import annotations

from pathlib import Path

from tests.core.conftest import wait_for
from tests.ui.conftest import Console, LocalConsole
from tests.ui.test_bot_console import bot_settings


def notes(app: LocalConsole) -> list[str]:
    """The console's notifications, oldest first."""
    return [str(n.message) for n in app._notifications]


async def test_r_reports_why_each_symbol_held(console: Console, tmp_path: Path) -> None:
    async with console(settings=bot_settings(tmp_path)) as (app, pilot):
        await pilot.press("r")
        await wait_for(lambda: any(n.startswith("Cycle done") for n in notes(app)), timeout=15)
        assert app.backend is not None and app.runtime is not None and app.runtime.bot is not None
        held = app.backend.held_reasons()
        assert held, "the sim's market leaves some strategy without a trade on some symbol"
        [report] = [n for n in notes(app) if n.startswith("Cycle done")]
        _summary, held_line = report.split("\n")
        assert held_line.startswith("Held: ")
        symbol, reasons = next(iter(held.items()))
        assert f"{symbol} ({'; '.join(reasons)})" in held_line
        strategies = set(app.backend.settings().strategies)
        ideas = {(r.symbol, r.strategy) for r in app.backend.recommendations()}
        for sym, why in held.items():
            for reason in why:
                strategy, _, text = reason.partition(": ")
                assert strategy in strategies and text, reason
                assert (sym, strategy) not in ideas, f"{sym} {strategy} both held and proposed"
