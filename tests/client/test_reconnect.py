"""Reconnect timing: a live session the server closed is retried at once, failed attempts back off up to the cap.

The policy's random source is injected (always the top of its range) and notes the connection's failure count at
each draw, so the tests see exactly which delay every retry chose without timing anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.client import Recorder, decode_stream, decode_trade, until
from tui_bot.domain.events import ConnectionState, Event
from tui_bot.exchange.bybit.reconnect import ReconnectPolicy, backoff_delay
from tui_bot.exchange.bybit.trade_ws import TradeConnection
from tui_bot.exchange.bybit.ws import StreamConnection
from tui_bot.exchange.bybit.ws_connection import WsConnection
from tui_bot.sim.server import SimExchange

LIVE, DOWN = ConnectionState.LIVE, ConnectionState.DOWN
INITIAL, CAP, AFTER_LIVE = 0.02, 0.1, 0.1
CEILINGS = ReconnectPolicy(initial=INITIAL, cap=CAP, after_live=AFTER_LIVE, rand=lambda: 1.0)
"""The same timings drawing the top of every range: CEILINGS.delay(failures) is the delay a retry chose."""


class Draws:
    """A policy's random source: always 1.0 (the ceiling), noting the connection's failure count at each draw."""

    def __init__(self) -> None:
        self.conn: WsConnection | None = None
        self.failures: list[int] = []

    def __call__(self) -> float:
        assert self.conn is not None
        self.failures.append(self.conn.failures)
        return 1.0

    def delays(self) -> list[float]:
        """The delay each retry so far waited."""
        return [CEILINGS.delay(f) for f in self.failures]


@pytest.fixture
async def connections() -> AsyncIterator[list[WsConnection]]:
    """Connections a test made; stopped afterwards even when the test fails."""
    made: list[WsConnection] = []
    yield made
    for conn in made:
        await conn.stop()


def private_stream(
    sim: SimExchange, connections: list[WsConnection], *, flap_within: float = 0.05, secret: str | None = None
) -> tuple[StreamConnection, Recorder, Draws]:
    """An authenticated private stream on the sim with an injected random source."""
    assert sim.urls is not None
    draws, rec = Draws(), Recorder()
    policy = ReconnectPolicy(initial=INITIAL, cap=CAP, after_live=AFTER_LIVE, flap_within=flap_within, rand=draws)
    conn = StreamConnection(
        "private",
        sim.urls.private_ws,
        decode=decode_stream,
        on_events=rec,
        credentials=(sim.api_key, secret or sim.api_secret),
        reconnect=policy,
    )
    draws.conn = conn
    connections.append(conn)
    return conn, rec, draws


async def live_for_a_while(conn: WsConnection, reconnects: int) -> None:
    """Wait until LIVE after `reconnects` reconnects, then past the policy's flap threshold."""
    await until(lambda: conn.stats.state is LIVE and conn.stats.reconnects == reconnects, what=f"LIVE #{reconnects}")
    await asyncio.sleep(conn.reconnect.flap_within * 2)


# -- the policy ------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_and_is_capped() -> None:
    ceilings = [backoff_delay(n, 0.5, 30.0, rand=lambda: 1.0) for n in range(10)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]
    assert backoff_delay(10_000, 0.5, 30.0, rand=lambda: 1.0) == 30.0
    assert backoff_delay(3, 0.5, 30.0, rand=lambda: 0.0) == 0.0
    draws = [backoff_delay(4, 0.5, 30.0) for _ in range(200)]
    assert all(0.0 <= d <= 8.0 for d in draws) and len(set(draws)) > 100


def test_a_session_that_was_live_resets_the_count_and_others_add_a_failure() -> None:
    policy = ReconnectPolicy(flap_within=1.0)
    assert policy.failures_after(0, None) == 1, "never went LIVE: a failed attempt"
    assert policy.failures_after(4, None) == 5
    assert policy.failures_after(4, 19.0) == 0, "a session live for 19 s is healthy"
    assert policy.failures_after(4, 1.0) == 0
    assert policy.failures_after(4, 0.3) == 5, "closed within flap_within of going LIVE: a failure"


def test_the_retry_after_a_live_session_is_a_small_jitter_and_failures_back_off() -> None:
    top = ReconnectPolicy(rand=lambda: 1.0)
    assert top.delay(0) == 0.1
    assert [top.delay(n) for n in range(1, 9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert ReconnectPolicy(rand=lambda: 0.0).delay(0) == 0.0
    jitter = [ReconnectPolicy().delay(0) for _ in range(200)]
    assert all(0.0 <= d <= 0.1 for d in jitter) and len(set(jitter)) > 100
    assert ReconnectPolicy(initial=0.5, cap=2.0, rand=lambda: 1.0).delay(10) == 2.0


# -- against the embedded exchange -----------------------------------------------------------------


async def test_live_private_stream_dropped_by_the_server_retries_at_once_every_time(
    sim: SimExchange, connections: list[WsConnection]
) -> None:
    conn, rec, draws = private_stream(sim, connections)
    await conn.subscribe(["order", "execution"])
    conn.start()
    for reconnects in range(5):
        await live_for_a_while(conn, reconnects)
        assert sim.drop_connections("private") == 1
    await until(lambda: conn.stats.reconnects == 5 and conn.stats.state is LIVE, what="LIVE after the last drop")
    assert draws.failures == [0] * 5, "a drop of a live session was counted as a failed attempt"
    assert draws.delays() == [AFTER_LIVE] * 5
    assert rec.state_list().count(LIVE) == 6 and conn.failures == 0


async def test_refused_auth_backs_off_to_the_cap_and_a_live_session_resets_the_count(
    sim: SimExchange, connections: list[WsConnection]
) -> None:
    conn, rec, draws = private_stream(sim, connections, secret="0" * 36)
    await conn.subscribe(["order"])
    conn.start()
    await until(lambda: len(draws.failures) >= 5, what="five refused attempts")
    assert draws.failures[:5] == [1, 2, 3, 4, 5]
    assert draws.delays()[:5] == [0.02, 0.04, 0.08, CAP, CAP]
    assert rec.state_list().count(DOWN) >= 5 and LIVE not in rec.state_list()
    conn.credentials = (sim.api_key, sim.api_secret)
    await live_for_a_while(conn, 0)
    retries = len(draws.failures)
    assert sim.drop_connections("private") == 1
    await until(lambda: len(draws.failures) > retries, what="the retry after the live session")
    assert draws.failures[retries:] == [0] and draws.delays()[-1] == AFTER_LIVE
    await until(lambda: conn.stats.reconnects == 1 and conn.stats.state is LIVE, what="LIVE again")


async def test_unreachable_venue_backs_off_to_the_cap(connections: list[WsConnection]) -> None:
    draws = Draws()
    conn = StreamConnection(
        "nowhere",
        "ws://127.0.0.1:9",
        decode=decode_stream,
        on_events=Recorder(),
        reconnect=ReconnectPolicy(initial=INITIAL, cap=CAP, rand=draws),
    )
    draws.conn = conn
    connections.append(conn)
    conn.start()
    await until(lambda: len(draws.failures) >= 6, what="six failed connects")
    assert draws.failures[:6] == [1, 2, 3, 4, 5, 6]
    assert draws.delays()[:6] == [0.02, 0.04, 0.08, CAP, CAP, CAP]


async def test_a_server_that_closes_right_after_live_is_backed_off(
    sim: SimExchange, connections: list[WsConnection]
) -> None:
    conn, rec, draws = private_stream(sim, connections, flap_within=30.0)

    def drop_when_live(events: list[Event]) -> None:
        rec(events)
        if any(getattr(e, "state", None) is LIVE for e in events):
            asyncio.get_running_loop().call_soon(sim.drop_connections, "private")

    conn._on_events = drop_when_live
    await conn.subscribe(["order"])
    conn.start()
    await until(lambda: len(draws.failures) >= 5, what="five flapping sessions")
    assert draws.failures[:5] == [1, 2, 3, 4, 5]
    assert draws.delays()[:5] == [0.02, 0.04, 0.08, CAP, CAP]
    assert rec.state_list().count(LIVE) >= 5 and conn.stats.reconnects >= 4


async def test_live_trade_socket_dropped_by_the_server_retries_at_once(
    sim: SimExchange, connections: list[WsConnection]
) -> None:
    assert sim.urls is not None
    draws = Draws()
    conn = TradeConnection(
        "trade",
        sim.urls.trade_ws,
        credentials=(sim.api_key, sim.api_secret),
        decode_trade=decode_trade,
        on_events=Recorder(),
        reconnect=ReconnectPolicy(initial=INITIAL, cap=CAP, flap_within=0.05, rand=draws),
    )
    draws.conn = conn
    connections.append(conn)
    conn.start()
    for reconnects in range(3):
        await live_for_a_while(conn, reconnects)
        assert sim.drop_connections("trade") == 1
    await until(lambda: conn.is_ready and conn.stats.reconnects == 3, what="ready after the last drop")
    assert draws.failures == [0, 0, 0]
