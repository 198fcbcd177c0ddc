"""Two bots on one account: a symbol one bot holds is refused to the other's entries, the gate naming the holder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bot.test_cycle import PERMISSIVE, settings_with
from tests.core.conftest import custom_venue, sim_of, wait_for
from tui_bot.domain.recommendations import RecommendationStatus
from tui_bot.runtime import Runtime, start_runtime


async def _second_bot(first: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """Bot "beta": its own runtime and store on the first runtime's exchange account."""
    sim = sim_of(first)
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    settings = custom_venue(sim)
    settings.trading = settings_with(auto_approve_trades=False, **PERMISSIVE).trading
    settings.bot.bot_id = "beta"
    return await start_runtime(settings, tmp_path / "beta.db", schedule_cycles=False)


async def test_an_idea_on_a_symbol_another_bot_holds_is_refused_naming_that_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_with(auto_approve_trades=False, **PERMISSIVE)
    settings.bot.bot_id = "alpha"
    alpha = await start_runtime(settings, tmp_path / "alpha.db", schedule_cycles=False)
    beta = await _second_bot(alpha, tmp_path, monkeypatch)
    try:
        assert alpha.bot is not None and beta.bot is not None
        await beta.bot.run_cycle("beta-first")
        await alpha.bot.run_cycle("alpha-first")
        taken = await alpha.bot.approve(alpha.bot.pending()[0].id)
        assert taken.status == RecommendationStatus.EXECUTED, taken.fate
        symbol = taken.symbol
        ledger = beta.writer.ledger
        await wait_for(lambda: ledger is not None and any(t.bot == "alpha" for t in ledger.open_trades()))
        await wait_for(lambda: symbol in beta.engine.state.positions)

        [idea] = [r for r in beta.bot.pending() if r.symbol == symbol]
        refused = await beta.bot.approve(idea.id)
        assert (refused.status, refused.fate) == (RecommendationStatus.REJECTED, f"{symbol} is held by bot alpha")

        cycle = await beta.bot.run_cycle("beta-second")
        fates = [r.fate for r in beta.bot.recommendations.values() if r.cycle_id == cycle.id and r.symbol == symbol]
        assert fates and all(f == f"{symbol} is held by bot alpha" for f in fates), fates
        sent = [o.order_link_id for o in sim_of(alpha).engine.accounts[sim_of(alpha).api_key].orders.values()]
        assert not [link for link in sent if link.startswith("beta-")], "beta sent an entry into alpha's symbol"
    finally:
        await beta.close()
        await alpha.close()
