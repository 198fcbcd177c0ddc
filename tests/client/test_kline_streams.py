"""BybitClient kline streams on the embedded exchange: sharded with tickers, interval changes unsubscribe."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.client import Recorder, until
from tui_bot.domain.events import KlineUpdated
from tui_bot.exchange.bybit.client import BybitClient
from tui_bot.exchange.bybit.urls import venue_urls
from tui_bot.sim.server import SimExchange

SYMBOLS = {"BTCUSDT", "ETHUSDT", "SOLUSDT"}


@pytest.fixture
async def started(sim: SimExchange) -> AsyncIterator[tuple[BybitClient, Recorder]]:
    """A client with two topics per public connection, started against the sim."""
    assert sim.urls is not None
    urls = venue_urls(
        "sim",
        rest=sim.urls.rest,
        public_ws=sim.urls.public_ws,
        private_ws=sim.urls.private_ws,
        trade_ws=sim.urls.trade_ws,
    )
    client = BybitClient(urls, sim.api_key, sim.api_secret, topics_per_connection=2, backoff_max=0.2)
    recorder = Recorder()
    await client.start(recorder)
    yield client, recorder
    await client.stop()


def kline_events(recorder: Recorder, interval: str | None = None) -> list[KlineUpdated]:
    return [
        e for e in recorder.events if isinstance(e, KlineUpdated) and (interval is None or e.kline.interval == interval)
    ]


def served_topics(sim: SimExchange) -> set[str]:
    """Topics the exchange currently has at least one subscriber for."""
    return {topic for topic, peers in sim.public.subscribers.items() if peers}


async def test_klines_arrive_for_every_symbol_over_several_shards(
    started: tuple[BybitClient, Recorder], sim: SimExchange
) -> None:
    client, recorder = started
    await client.set_kline_streams(SYMBOLS, "1")
    assert client.kline_topics == {f"kline.1.{s}" for s in SYMBOLS}
    await until(lambda: {e.kline.symbol for e in kline_events(recorder, "1")} == SYMBOLS, 5.0, "klines of 3 symbols")
    shards = [shard for shard in client.public if shard.topics & client.kline_topics]
    assert len(shards) >= 2 and all(len(shard.topics) <= 2 for shard in client.public)
    bar = kline_events(recorder, "1")[-1].kline
    assert bar.low <= min(bar.open, bar.close) and bar.high >= max(bar.open, bar.close)


async def test_tickers_and_klines_share_shards_and_ticker_set_is_untouched(
    started: tuple[BybitClient, Recorder], sim: SimExchange
) -> None:
    client, _ = started
    await client.set_ticker_symbols({"BTCUSDT"})
    await client.set_kline_streams(SYMBOLS, "5")
    assert client.ticker_topics == {"tickers.BTCUSDT"}
    assert sum(len(shard.topics) for shard in client.public) == 4
    assert len(client.public) == 2 and all(len(shard.topics) == 2 for shard in client.public)
    await client.set_ticker_symbols(set())
    assert client.kline_topics == {f"kline.5.{s}" for s in SYMBOLS} and client.ticker_topics == set()
    await until(lambda: served_topics(sim) == client.kline_topics, 5.0, "exchange serves only the klines")


async def test_changing_interval_unsubscribes_the_old_topics(
    started: tuple[BybitClient, Recorder], sim: SimExchange
) -> None:
    client, recorder = started
    await client.set_kline_streams(SYMBOLS, "1")
    await until(lambda: served_topics(sim) == {f"kline.1.{s}" for s in SYMBOLS}, 5.0, "interval 1 served")
    await client.set_kline_streams({"BTCUSDT", "ETHUSDT"}, "3")
    wanted = {"kline.3.BTCUSDT", "kline.3.ETHUSDT"}
    assert client.kline_topics == wanted
    assert all(not topic.startswith("kline.1.") for shard in client.public for topic in shard.topics)
    await until(lambda: served_topics(sim) == wanted, 5.0, "only interval 3 served")
    await until(
        lambda: {e.kline.symbol for e in kline_events(recorder, "3")} == {"BTCUSDT", "ETHUSDT"},
        5.0,
        "interval 3 klines",
    )
    await client.set_kline_streams(set(), "3")
    assert client.kline_topics == set()
    await until(lambda: served_topics(sim) == set(), 5.0, "nothing served")
