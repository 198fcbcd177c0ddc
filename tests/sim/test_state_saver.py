"""The paper account's file is written when the account changed, not while only the markets move."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.core.conftest import wait_for
from tests.sim.rest_helpers import client_for, order, place
from tui_bot.sim.server import SimExchange


async def test_the_file_is_written_after_a_fill_and_never_while_nothing_changes(tmp_path: Path) -> None:
    path = tmp_path / "paper.json"
    sim = SimExchange(seed=7, step_seconds=0.02, balance=Decimal("10000"), state_file=path)
    assert sim.state_saver is not None
    saver = sim.state_saver
    saver.interval_s = 0.02
    await sim.start()
    rest = client_for(sim)
    try:
        await wait_for(lambda: saver.checks >= 5)  # the markets moved all along; the account did not
        assert saver.writes == 0 and not path.exists()
        await place(rest, order())
        await wait_for(lambda: saver.writes == 1)
        saved = json.loads(path.read_bytes())
        assert [p["size"] for p in saved["account"]["positions"].values()] == ["0.010"]
        checks = saver.checks
        await wait_for(lambda: saver.checks >= checks + 5)
        assert saver.writes == 1
    finally:
        await rest.close()
        await sim.stop()
    assert saver.writes == 2  # and once at stop, whatever changed
