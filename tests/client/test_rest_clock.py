"""The server-clock offset: requests are signed with our clock corrected by it, so it must follow the exchange's."""

from __future__ import annotations

import pytest

from tui_bot.exchange.bybit.rest import BybitRest
from tui_bot.sim.server import SimExchange


@pytest.mark.parametrize("skew_ms", [0, 250, -4_000])
async def test_clock_offset_follows_the_exchange_clock(sim: SimExchange, skew_ms: int) -> None:
    sim.clock.skew_ms = skew_ms
    rest = BybitRest(sim.urls.rest, sim.api_key, sim.api_secret)
    offset = await rest.sync_clock()
    assert abs(offset - skew_ms) <= 25  # half a loopback round trip (a few ms; tens on a loaded machine)
    assert abs(rest.now_ms() - sim.clock.now_ms()) <= 25
    assert rest.stats.calls >= 3, "the shortest of several round trips is used"
    # a request 4 s ahead of the exchange would be refused (10002): signed with the corrected clock, it is not
    assert (await rest.call("get_wallet_balance", accountType="UNIFIED"))["list"]
