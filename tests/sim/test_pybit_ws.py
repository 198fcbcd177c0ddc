"""pybit's official WebSocket clients, unpatched, against the embedded exchange at its default latency.

pybit records a request only after sending it; the default latency is what keeps a loopback reply from
beating that record (as the network does against Bybit). Only the URLs are pointed at the exchange.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pybit._websocket_trading
import pybit.unified_trading
import pytest
from pybit.unified_trading import HTTP, WebSocket, WebSocketTrading

from tests.conftest import ThreadedSim
from tests.golden import load_fixture
from tests.sim.ws_helpers import PRIVATE_TOPICS, wait_until
from tui_bot.config import SimSettings
from tui_bot.sim.server import SimExchange

SNAPSHOT_FIELDS = set(load_fixture("ws_ticker_snapshot")["data"])


class Recorder:
    """Thread-safe list of callback payloads (copied, since pybit hands out its live ticker cache)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.items.append(json.loads(json.dumps(message)))

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.items)


def exchange_of(runner: ThreadedSim) -> SimExchange:
    assert runner.exchange is not None and runner.exchange.urls is not None
    return runner.exchange


@pytest.fixture
def still_sim() -> Iterator[ThreadedSim]:
    """A threaded exchange whose market moves only when the test steps it, so REST is an exact oracle."""
    runner = ThreadedSim(seed=7, autostep=False, latency_ms=SimSettings().latency_ms)
    yield runner
    runner.stop()


def rest_ticker(exchange: SimExchange) -> dict[str, str]:
    assert exchange.urls is not None
    url = f"{exchange.urls.rest}/v5/market/tickers?category=linear&symbol=BTCUSDT"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback exchange
        return json.loads(response.read())["result"]["list"][0]


def http_session(exchange: SimExchange) -> HTTP:
    assert exchange.urls is not None
    session = HTTP(testnet=False, api_key=exchange.api_key, api_secret=exchange.api_secret)
    session.endpoint = exchange.urls.rest
    return session


def test_ticker_stream_merges_snapshot_and_deltas(still_sim: ThreadedSim, monkeypatch: pytest.MonkeyPatch) -> None:
    exchange = exchange_of(still_sim)
    assert exchange.urls is not None
    monkeypatch.setattr(
        pybit.unified_trading, "PUBLIC_WSS", exchange.urls.public_ws.replace("linear", "{CHANNEL_TYPE}")
    )
    received = Recorder()
    ws = WebSocket(testnet=False, channel_type="linear")
    try:
        ws.ticker_stream(symbol="BTCUSDT", callback=received)
        assert wait_until(lambda: len(received.snapshot()) >= 1, 5), "no ticker snapshot reached pybit"
        first = received.snapshot()[0]["data"]
        assert set(first) == SNAPSHOT_FIELDS
        prices = {first["lastPrice"]}
        for _ in range(12):
            still_sim.call(exchange.step, 1)
            oracle = rest_ticker(exchange)

            def caught_up(oracle: dict[str, str] = oracle) -> bool:
                items = received.snapshot()
                latest = items[-1]["data"]
                return all(
                    latest[k] == oracle[k]
                    for k in (
                        "lastPrice",
                        "markPrice",
                        "indexPrice",
                        "bid1Price",
                        "ask1Price",
                        "volume24h",
                        "turnover24h",
                    )
                )

            assert wait_until(caught_up, 3), f"pybit's merged ticker {received.snapshot()[-1]['data']} != {oracle}"
            merged = received.snapshot()[-1]["data"]
            assert set(merged) == SNAPSHOT_FIELDS, "a merged ticker keeps every snapshot field"
            prices.add(merged["lastPrice"])
        assert len(prices) >= 2, "lastPrice never moved over 12 steps"
        assert len(received.snapshot()) >= 2
    finally:
        ws.exit()


def by_price(levels: list[list[str]], *, descending: bool) -> list[list[str]]:
    """pybit appends inserted levels at the end of its book; sort them as Bybit sends them."""
    return sorted(levels, key=lambda level: Decimal(level[0]), reverse=descending)


def test_orderbook_stream_assembles_the_book_rest_shows(
    still_sim: ThreadedSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange = exchange_of(still_sim)
    assert exchange.urls is not None
    monkeypatch.setattr(
        pybit.unified_trading, "PUBLIC_WSS", exchange.urls.public_ws.replace("linear", "{CHANNEL_TYPE}")
    )
    received = Recorder()
    rest = http_session(exchange)
    ws = WebSocket(testnet=False, channel_type="linear")
    try:
        ws.orderbook_stream(depth=50, symbol="BTCUSDT", callback=received)
        assert wait_until(lambda: len(received.snapshot()) >= 1, 5), "no orderbook snapshot reached pybit"
        for step in range(10):
            if step:
                still_sim.call(exchange.step, 1)
            oracle = rest.get_orderbook(category="linear", symbol="BTCUSDT", limit=50)["result"]
            assert wait_until(lambda u=oracle["u"]: received.snapshot()[-1]["data"]["u"] == u, 3), (
                f"pybit's book stopped at u={received.snapshot()[-1]['data']['u']}, REST is at {oracle['u']}"
            )
            book = received.snapshot()[-1]["data"]
            assert by_price(book["b"], descending=True) == oracle["b"], f"bids differ after step {step}"
            assert by_price(book["a"], descending=False) == oracle["a"], f"asks differ after step {step}"
        assert len(received.snapshot()) >= 10
    finally:
        ws.exit()


def test_private_auth_and_four_topics_for_a_market_fill(
    threaded_sim: ThreadedSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange = exchange_of(threaded_sim)
    assert exchange.urls is not None
    monkeypatch.setattr(pybit.unified_trading, "PRIVATE_WSS", exchange.urls.private_ws)
    streams = {topic: Recorder() for topic in PRIVATE_TOPICS}
    ws = WebSocket(testnet=False, channel_type="private", api_key=exchange.api_key, api_secret=exchange.api_secret)
    try:
        assert wait_until(lambda: ws.auth, 5), "pybit's private auth (expires = now + 1 s) did not succeed"
        ws.order_stream(streams["order"])
        ws.execution_stream(streams["execution"])
        ws.position_stream(streams["position"])
        ws.wallet_stream(streams["wallet"])

        def subscribed() -> bool:
            peers = threaded_sim.call(lambda: [set(p.topics) for p in exchange.private.peers])
            return any(set(PRIVATE_TOPICS) <= topics for topics in peers)

        assert wait_until(subscribed, 5), "pybit's four subscriptions never reached the exchange"
        reply = http_session(exchange).place_order(
            category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.010", orderLinkId="pybit-ws-1"
        )
        order_id = reply["result"]["orderId"]
        assert wait_until(lambda: all(r.snapshot() for r in streams.values()), 5), {
            t: len(r.snapshot()) for t, r in streams.items()
        }
        order = streams["order"].snapshot()[0]
        execution = streams["execution"].snapshot()[0]
        position = streams["position"].snapshot()[0]
        wallet = streams["wallet"].snapshot()[0]
        assert order["topic"] == "order" and order["data"][0]["orderId"] == order_id
        assert order["data"][0]["orderStatus"] == "Filled" and order["data"][0]["orderLinkId"] == "pybit-ws-1"
        assert execution["data"][0]["orderId"] == order_id and execution["data"][0]["isMaker"] is False
        assert (position["data"][0]["side"], Decimal(position["data"][0]["size"])) == ("Buy", Decimal("0.010"))
        assert wallet["data"][0]["accountType"] == "UNIFIED"
    finally:
        ws.exit()


def test_websocket_trading_places_an_order(threaded_sim: ThreadedSim, monkeypatch: pytest.MonkeyPatch) -> None:
    exchange = exchange_of(threaded_sim)
    assert exchange.urls is not None
    monkeypatch.setattr(pybit._websocket_trading, "TRADE_WSS", exchange.urls.trade_ws)
    replies, errors = Recorder(), Recorder()
    ws = WebSocketTrading(testnet=False, api_key=exchange.api_key, api_secret=exchange.api_secret)
    try:
        assert wait_until(lambda: ws.auth, 5), "pybit's trade auth did not succeed"
        ws.place_order(
            replies,
            errors,
            category="linear",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Market",
            qty="0.010",
            orderLinkId="pybit-trade-1",
        )
        assert wait_until(lambda: replies.snapshot() or errors.snapshot(), 5), "no order.create response"
        assert errors.snapshot() == []
        [reply] = replies.snapshot()
        assert (reply["retCode"], reply["op"]) == (0, "order.create")
        assert reply["data"]["orderId"] and reply["data"]["orderLinkId"] == "pybit-trade-1"
        ws.place_order(
            replies, errors, category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.0001"
        )
        assert wait_until(lambda: errors.snapshot(), 5), "an invalid order must reach the error callback"
        assert errors.snapshot()[0]["retCode"] == 10001
    finally:
        ws.exit()
    positions = http_session(exchange).get_positions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert (positions[0]["side"], Decimal(positions[0]["size"])) == ("Buy", Decimal("0.010"))
