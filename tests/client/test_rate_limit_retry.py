"""Rate limits on the embedded exchange: reads wait for the limit's reset and are asked again (counted for the health
panel); an order send refused with 10006 is not sent a second time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from tests.client import Recorder, until
from tests.golden import assert_matches_golden, assert_shape, load_fixture
from tui_bot.domain.enums import OrderType, Side
from tui_bot.domain.requests import OrderRequest
from tui_bot.exchange.bybit.client import BybitClient
from tui_bot.exchange.bybit.rest_retry import RESET_HEADER, reset_ms_from
from tui_bot.exchange.bybit.urls import venue_urls
from tui_bot.exchange.errors import RetryableError
from tui_bot.sim.ratelimit import DEFAULT_LIMIT, LIMITS
from tui_bot.sim.server import SimExchange

POSITIONS = "/v5/position/list"
CREATE = "/v5/order/create"


@pytest.fixture
async def client(sim: SimExchange) -> AsyncIterator[BybitClient]:
    """A client started against the sim (private and trade streams open)."""
    assert sim.urls is not None
    urls = venue_urls(
        "sim",
        rest=sim.urls.rest,
        public_ws=sim.urls.public_ws,
        private_ws=sim.urls.private_ws,
        trade_ws=sim.urls.trade_ws,
    )
    started = BybitClient(urls, sim.api_key, sim.api_secret, backoff_max=0.2)
    await started.start(Recorder())
    yield started
    await started.stop()


def sent(sim: SimExchange, path: str) -> int:
    """Requests the exchange's limiter saw on path for the test's key (each one counts, refused or not)."""
    return sim.limiter.requests[(sim.api_key, path)]


def resting_buy(sim: SimExchange, link_id: str) -> OrderRequest:
    """A limit buy of BTCUSDT 10% under the market (it rests)."""
    price = (sim.engine.markets["BTCUSDT"].last_price * Decimal("0.9")).quantize(Decimal("0.1"))
    return OrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.001"), link_id, price=price)


async def test_a_burst_of_kline_reads_refused_with_10006_all_succeed_after_waiting(
    sim: SimExchange, client: BybitClient
) -> None:
    sim.faults.rest_errors.extend([10006, 10006])  # the next two requests are refused, with a reset 1 s on
    results = await asyncio.gather(*(client.fetch_klines(s, "1", 5) for s in ("BTCUSDT", "ETHUSDT", "SOLUSDT")))
    assert [len(r) for r in results] == [5, 5, 5], "every read answered"
    assert not sim.faults.rest_errors
    stats = client.rest_stats()
    assert stats.rate_limit_retries == 2 and stats.errors_by_code[10006] == 2


async def test_reads_over_the_exchange_rate_limit_wait_for_its_reset(sim: SimExchange, client: BybitClient) -> None:
    limit = LIMITS.get(POSITIONS, DEFAULT_LIMIT)
    burst = limit + 8
    before = sent(sim, POSITIONS)
    sim.clock.held_ms = sim.clock.now_ms()  # the exchange sees the whole burst in one millisecond
    reads = asyncio.gather(*(client.fetch_positions() for _ in range(burst)))
    await until(lambda: sent(sim, POSITIONS) - before >= burst, timeout=20, what="the whole burst to arrive")
    sim.clock.held_ms = None  # time runs again: the window the burst filled passes
    results = await reads
    assert len(results) == burst, "every read answered"
    retries = client.rest_stats().rate_limit_retries
    assert retries >= burst - limit, "the reads past the limit were refused, waited for the reset and asked again"
    assert sent(sim, POSITIONS) - before == burst + retries


async def _fill_order_limit(sim: SimExchange, client: BybitClient, *, via_ws: bool) -> None:
    """Hold the exchange's clock and send as many orders as one second allows."""
    sim.clock.held_ms = sim.clock.now_ms()
    for i in range(LIMITS[CREATE]):
        await client.place_order(resting_buy(sim, f"fill-{int(via_ws)}-{i:02d}"), via_ws=via_ws)


@pytest.mark.parametrize("via_ws", [False, True], ids=["rest", "trade-ws"])
async def test_an_order_send_refused_with_10006_is_not_sent_again(
    sim: SimExchange, client: BybitClient, via_ws: bool
) -> None:
    await until(lambda: client.trade_ready, what="the trade stream")
    await _fill_order_limit(sim, client, via_ws=via_ws)
    before = sent(sim, CREATE)
    with pytest.raises(RetryableError) as refused:
        await client.place_order(resting_buy(sim, "over-limit"), via_ws=via_ws)
    sim.clock.held_ms = None
    assert refused.value.code == 10006
    assert sent(sim, CREATE) - before == 1, "sent once: the refusal is the caller's to handle, not re-sent blindly"
    assert client.rest_stats().rate_limit_retries == 0
    links = {o.order_link_id for o in await client.fetch_open_orders()}
    assert "over-limit" not in links and len(links) == LIMITS[CREATE]


async def test_the_10006_response_matches_its_golden_frames_and_gives_the_reset(sim: SimExchange) -> None:
    assert sim.urls is not None
    golden_headers = load_fixture("http_rate_limit_headers")
    sim.faults.rest_errors.append(10006)
    async with aiohttp.ClientSession() as session:
        url = f"{sim.urls.rest}/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=1"
        async with session.get(url) as resp:
            body, headers = await resp.json(), resp.headers
    assert_matches_golden(body, "rest_rate_limited")
    assert body["retCode"] == 10006 and body["retMsg"] == load_fixture("rest_rate_limited")["retMsg"]
    frame_headers = {name: headers[name] for name in golden_headers}
    assert_shape(frame_headers, golden_headers)
    assert reset_ms_from(frame_headers) == int(headers[RESET_HEADER]) > body["time"]
    assert reset_ms_from(golden_headers) == 1784712601123 and reset_ms_from({}) == 0


async def test_http_429_on_a_read_waits_and_asks_again(sim: SimExchange, client: BybitClient) -> None:
    sim.faults.rest_errors.append(429)
    positions = await client.fetch_positions()
    assert isinstance(positions, list) and not sim.faults.rest_errors
    stats = client.rest_stats()
    assert (stats.rate_limit_retries, stats.errors_by_code.get(429)) == (1, 1)
