"""Public topics are spread so that no connection passes Bybit's 21,000-character args limit, even where the
configured topics per connection would allow more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from tests.client import Recorder
from tui_bot.exchange.bybit.client import BybitClient
from tui_bot.exchange.bybit.urls import venue_urls
from tui_bot.exchange.bybit.ws import ARGS_CHARS_PER_CONNECTION
from tui_bot.sim.server import SimExchange

LONG_NAMES = [f"{'X' * 29}{i:03d}USDT" for i in range(500)]


@pytest.fixture
async def long_named() -> AsyncIterator[SimExchange]:
    """A still exchange listing 500 symbols of 36 characters."""
    exchange = SimExchange(seed=7, autostep=False, balance=Decimal("10000"), symbols=LONG_NAMES)
    await exchange.start()
    yield exchange
    await exchange.stop()


async def test_a_connection_takes_no_more_topics_than_the_args_limit_allows(long_named: SimExchange) -> None:
    urls = long_named.urls
    assert urls is not None
    venue = venue_urls("sim", rest=urls.rest, public_ws=urls.public_ws, private_ws=urls.private_ws, trade_ws="")
    client = BybitClient(venue, long_named.api_key, long_named.api_secret, topics_per_connection=500)
    await client.start(Recorder())
    try:
        await client.set_ticker_symbols(set(LONG_NAMES))
        assert client.ticker_topics == {f"tickers.{s}" for s in LONG_NAMES}
        sizes = [len(json.dumps(sorted(shard.topics))) for shard in client.public]
        assert len(sizes) == 2 and max(sizes) <= ARGS_CHARS_PER_CONNECTION
        assert sum(len(shard.topics) for shard in client.public) == len(LONG_NAMES)
    finally:
        await client.stop()
