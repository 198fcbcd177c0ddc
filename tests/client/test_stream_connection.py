"""StreamConnection against the embedded exchange over loopback: lifecycle, topics, heartbeat, watchdog, faults."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.client import DataReceived, Recorder, decode_stream, until
from tests.conftest import SignedRest
from tui_bot.core.health import Health, summary_line
from tui_bot.domain.events import ConnectionState, Event, FrameRejected
from tui_bot.exchange.bybit.frames import Control, FrameError
from tui_bot.exchange.bybit.parse import decode_public
from tui_bot.exchange.bybit.reconnect import ReconnectPolicy
from tui_bot.exchange.bybit.ws import StreamConnection
from tui_bot.exchange.bybit.ws_connection import Decoder, topic_of
from tui_bot.sim.server import SimExchange

BTC, ETH = "tickers.BTCUSDT", "tickers.ETHUSDT"
Factory = Callable[..., tuple[StreamConnection, Recorder]]
LIVE, RECONNECTING, DOWN, STOPPED = (
    ConnectionState.LIVE,
    ConnectionState.RECONNECTING,
    ConnectionState.DOWN,
    ConnectionState.STOPPED,
)


@pytest.fixture
async def connections() -> AsyncIterator[list[StreamConnection]]:
    """Connections a test made; stopped afterwards even when the test fails."""
    made: list[StreamConnection] = []
    yield made
    for conn in made:
        await conn.stop()


@pytest.fixture
def make(sim: SimExchange, connections: list[StreamConnection]) -> Factory:
    """Build a public (or, with private=True, authenticated private) connection with fast timings."""

    def build(
        *, private: bool = False, secret: str | None = None, decode: Decoder = decode_stream, **options: Any
    ) -> tuple[StreamConnection, Recorder]:
        assert sim.urls is not None
        recorder = Recorder()
        options = {"reconnect": ReconnectPolicy(initial=0.02, cap=0.1), "silence_timeout": 2.0, **options}
        url = sim.urls.private_ws if private else sim.urls.public_ws
        credentials = (sim.api_key, secret or sim.api_secret) if private else None
        conn = StreamConnection(
            "private" if private else "public",
            url,
            decode=decode,
            on_events=recorder,
            credentials=credentials,
            **options,
        )
        connections.append(conn)
        return conn, recorder

    return build


async def live(conn: StreamConnection, timeout: float = 3.0) -> None:
    await until(lambda: conn.stats.state is LIVE, timeout, f"{conn.name} LIVE")


def ws_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("ws:") and not t.done()]


# -- pure helpers --------------------------------------------------------------------------------


def test_topic_of_scans_only_the_head_of_a_frame() -> None:
    assert topic_of('{"topic":"tickers.BTCUSDT","type":"delta","data":{}}') == BTC
    assert topic_of(b'{"id":"abc","topic":"order","creationTime":1,"data":[]}') == "order"
    assert topic_of('{"success":true,"op":"ping"}') == ""
    assert topic_of('{"data":"' + "x" * 300 + '","topic":"late"}') == ""


# -- lifecycle and data -------------------------------------------------------------------------


async def test_public_subscribe_delivers_snapshot_then_deltas(make: Factory) -> None:
    conn, rec = make()
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 4, what="ticker snapshot and deltas")
    frames = rec.data(BTC)
    assert frames[0].kind == "snapshot" and {f.kind for f in frames[1:]} == {"delta"}
    assert rec.state_list()[:2] == [ConnectionState.CONNECTING, LIVE]
    stats = conn.stats
    assert stats.connected_since_ms > 0 and stats.reconnects == 0 and stats.decode_errors == 0
    assert stats.topic_last_ns[BTC] >= frames[-1].received_ns
    assert len(stats.latency_ms) >= 4 and 0 <= stats.latency_ms.summary().p50 < 1000
    assert stats.frames >= 5 and stats.subscribe_failures == 0


async def test_private_auth_then_subscribe_receives_account_topics(make: Factory, rest: SignedRest) -> None:
    conn, rec = make(private=True)
    await conn.subscribe(["order", "execution", "position", "wallet"])
    conn.start()
    await live(conn)
    body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    reply = await rest.post("/v5/order/create", body)
    assert reply["retCode"] == 0, reply
    await until(
        lambda: {"order", "execution", "position", "wallet"} <= {e.topic for e in rec.data()},
        what="all four private topics",
    )
    assert conn.stats.subscribe_failures == 0 and conn.stats.decode_errors == 0
    assert rec.state_list() == [ConnectionState.CONNECTING, LIVE]


async def test_wrong_secret_reports_down_with_reason_and_keeps_retrying(make: Factory) -> None:
    conn, rec = make(private=True, secret="0" * 36)
    await conn.subscribe(["order"])
    conn.start()
    await until(lambda: rec.state_list().count(DOWN) >= 3, what="three failed auth attempts")
    downs = [reason for state, reason in rec.states() if state is DOWN]
    assert all(reason == "auth failed: Request not authorized" for reason in downs), downs
    assert LIVE not in rec.state_list()
    assert rec.state_list()[:3] == [ConnectionState.CONNECTING, DOWN, RECONNECTING]
    assert conn.stats.state in (DOWN, RECONNECTING) and conn.stats.reconnects == 0


async def test_dropped_connection_reconnects_and_resubscribes(make: Factory, sim: SimExchange) -> None:
    conn, rec = make()
    await conn.subscribe([BTC, ETH])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 2, what="data before the drop")
    assert sim.drop_connections("public") == 1
    await until(lambda: rec.index_of(RECONNECTING) > 0, what="RECONNECTING")
    await until(lambda: rec.index_of(LIVE, rec.index_of(RECONNECTING)) > 0, what="LIVE again")
    back = rec.index_of(LIVE, rec.index_of(RECONNECTING) + 1)
    assert rec.states()[-2][0] is RECONNECTING and rec.states()[-2][1].startswith("connection lost")
    assert conn.stats.reconnects == 1
    await until(
        lambda: {e.topic for e in rec.events[back:] if isinstance(e, DataReceived)} == {BTC, ETH},
        what="both topics flowing after the reconnect",
    )
    again = [e for e in rec.events[rec.index_of(RECONNECTING) :] if isinstance(e, DataReceived)]
    assert {e.topic for e in again if e.kind == "snapshot"} == {BTC, ETH}, "resubscribe brings fresh snapshots"


async def test_silent_stream_is_reconnected_by_the_watchdog(make: Factory, sim: SimExchange) -> None:
    conn, rec = make(silence_timeout=0.5, ping_interval=20.0)
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 2, what="data before the stall")
    sim.faults.stall("tickers.*", 5)
    started = time.monotonic()
    await until(lambda: (RECONNECTING, "silent for 0.5s") in rec.states(), what="watchdog")
    assert time.monotonic() - started >= 0.4, "the watchdog fired before the silence threshold"
    sim.faults.clear()
    mark = len(rec.events)
    await until(
        lambda: (
            conn.stats.state is LIVE and any(e.kind == "delta" for e in rec.data(BTC) if rec.events.index(e) >= mark)
        ),
        what="deltas after the stall",
    )
    assert conn.stats.reconnects >= 1


async def test_ping_rtt_is_measured_from_pongs(make: Factory) -> None:
    conn, _ = make(ping_interval=0.1)
    conn.start()
    await until(lambda: len(conn.stats.ping_rtt_ms) >= 3, what="three pongs")
    summary = conn.stats.ping_rtt_ms.summary()
    assert 0.0 < summary.p50 < 500.0 and summary.max < 1000.0


async def test_private_pong_shape_also_gives_rtt(make: Factory) -> None:
    conn, _ = make(private=True, ping_interval=0.1)
    conn.start()
    await until(lambda: len(conn.stats.ping_rtt_ms) >= 2, what="two private pongs")


# -- subscriptions --------------------------------------------------------------------------------


async def test_subscribe_and_unsubscribe_while_live(make: Factory) -> None:
    conn, rec = make()
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 1, what="BTC data")
    await conn.subscribe([ETH, BTC])
    await until(lambda: len(rec.data(ETH)) >= 2, what="ETH data after a live subscribe")
    await conn.unsubscribe([BTC])
    await conn.unsubscribe([BTC])
    assert conn.topics == {ETH}
    await until(lambda: not conn._topic_requests, what="the unsubscribe ack")
    seen, eth = len(rec.data(BTC)), len(rec.data(ETH))
    await until(lambda: len(rec.data(ETH)) >= eth + 5, what="more ETH data")
    assert len(rec.data(BTC)) == seen, "BTC kept flowing after unsubscribe"
    assert conn.stats.subscribe_failures == 0


async def test_subscribe_while_down_is_applied_on_connect(make: Factory) -> None:
    conn, rec = make()
    await conn.subscribe([BTC, ETH])
    await conn.unsubscribe([ETH])
    assert conn.topics == {BTC}
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 2, what="BTC data")
    assert not rec.data(ETH)


async def test_subscribe_while_reconnecting_is_applied_when_live_again(make: Factory, sim: SimExchange) -> None:
    conn, rec = make()
    states_at_subscribe: list[ConnectionState] = []

    async def subscribe_eth() -> None:
        states_at_subscribe.append(conn.stats.state)
        await conn.subscribe([ETH])

    def on_events(events: list[Event]) -> None:
        rec(events)
        if any(getattr(e, "state", None) is RECONNECTING for e in events) and not states_at_subscribe:
            asyncio.get_running_loop().create_task(subscribe_eth())

    conn._on_events = on_events
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 1, what="BTC data")
    sim.drop_connections("public")
    await until(lambda: len(rec.data(ETH)) >= 2 and conn.stats.state is LIVE, what="ETH data after reconnecting")
    assert states_at_subscribe == [RECONNECTING] and conn.stats.reconnects == 1


async def test_with_the_real_decoders(make: Factory, rest: SignedRest) -> None:
    parse = pytest.importorskip("tui_bot.exchange.bybit.parse")
    public, public_events = make(decode=parse.decode_public, ping_interval=0.1)
    private, private_events = make(private=True, decode=parse.decode_private, ping_interval=0.1)
    await public.subscribe([BTC, "kline.1.BTCUSDT"])
    await private.subscribe(["order", "execution", "position", "wallet"])
    public.start()
    private.start()
    await live(private)
    body = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.010"}
    assert (await rest.post("/v5/order/create", body))["retCode"] == 0
    await until(lambda: len(private_events.events) >= 6 and len(public_events.events) >= 6, what="decoded events")
    await until(lambda: len(public.stats.ping_rtt_ms) >= 1 and len(private.stats.ping_rtt_ms) >= 1, what="pongs")
    for conn in (public, private):
        assert conn.stats.decode_errors == 0 and conn.stats.subscribe_failures == 0, conn.stats
    assert {type(e).__name__ for e in private_events.events} >= {
        "OrderUpdated",
        "ExecutionReceived",
        "PositionUpdated",
        "WalletUpdated",
    }
    assert "TickerUpdated" in {type(e).__name__ for e in public_events.events}


async def test_failed_subscribe_is_counted_and_already_subscribed_is_not(make: Factory) -> None:
    conn, rec = make()
    await conn.subscribe([BTC, "tickers.NOPEUSDT"])
    conn.start()
    await live(conn)
    assert conn.stats.subscribe_failures == 1
    assert conn._ws is not None
    await conn._send_topics(conn._ws, "subscribe", [BTC])
    await until(lambda: not conn._topic_requests, what="the duplicate subscribe ack")
    assert conn.stats.subscribe_failures == 1 and conn.stats.state is LIVE
    await until(lambda: len(rec.data(BTC)) >= 2, what="BTC data")


async def test_a_subscribe_failure_for_no_request_of_ours_is_counted_and_logged_rate_limited(
    make: Factory, sim: SimExchange, caplog: pytest.LogCaptureFixture
) -> None:
    conn, _ = make(decode=decode_public)
    await conn.subscribe([BTC])
    conn.start()
    await live(conn)
    (peer,) = sim.public.peers
    stray = {
        "success": False,
        "ret_msg": "error:handler not found,topic:tickers.BTCUSDX",
        "conn_id": peer.conn_id,
        "req_id": "not-ours-1",
        "op": "subscribe",
    }
    with caplog.at_level(logging.WARNING, logger="tui_bot.exchange.bybit.ws"):
        for n in range(3):
            peer.send({**stray, "req_id": f"not-ours-{n}"})
        peer.send({**stray, "ret_msg": "error:already subscribed,topic:tickers.BTCUSDT"})
        await until(lambda: conn.stats.subscribe_failures == 3, what="three stray failures counted")
    (line,) = [r.getMessage() for r in caplog.records if "no request of ours" in r.getMessage()]
    assert "req_id 'not-ours-0'" in line and "handler not found" in line
    assert "public=live(" in (summary := summary_line({"public": conn.stats}, Health().snapshot(), "sim"))
    assert "subscribe-failed=3)" in summary
    assert conn.stats.state is LIVE and conn.stats.decode_errors == 0


async def test_unknown_topics_are_counted_and_logged_once_per_interval(
    make: Factory, sim: SimExchange, caplog: pytest.LogCaptureFixture
) -> None:
    conn, rec = make(decode=decode_public)
    await conn.subscribe([BTC])
    conn.start()
    await live(conn)
    (peer,) = sim.public.peers
    with caplog.at_level(logging.WARNING, logger="tui_bot.exchange.bybit.ws_connection"):
        for n in range(4):
            peer.send({"topic": f"liquidation.BTCUSDT{n}", "type": "snapshot", "ts": 1, "data": {}})
        await until(lambda: conn.stats.rejected.get("unknown topic") == 4, what="four unknown topics counted")
    assert len([r for r in caplog.records if "unknown topic" in r.getMessage()]) == 1
    assert len(rec.rejected()) == 4 and conn.stats.state is LIVE


class RecordingConnection(StreamConnection):
    """A StreamConnection that also keeps every JSON request it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[dict[str, Any]] = []

    async def _send(self, ws: ClientConnection, payload: dict[str, Any]) -> None:
        self.sent.append(payload)
        await super()._send(ws, payload)


async def test_many_topics_are_sent_in_chunks_of_ten(sim: SimExchange, connections: list[StreamConnection]) -> None:
    assert sim.urls is not None
    symbols = sorted(sim.engine.markets)
    topics = [f"{kind}.{s}" for s in symbols for kind in ("tickers", "publicTrade", "kline.1", "kline.5", "kline.15")]
    conn = RecordingConnection("public", sim.urls.public_ws, decode=decode_stream, on_events=Recorder())
    connections.append(conn)
    await conn.subscribe(topics)
    conn.start()
    await live(conn)
    requests = [frame for frame in conn.sent if frame["op"] == "subscribe"]
    assert [len(frame["args"]) for frame in requests] == [10, len(topics) - 10]
    assert len({frame["req_id"] for frame in requests}) == 2
    (peer,) = sim.public.peers
    assert peer.topics == set(topics) and conn.stats.subscribe_failures == 0


# -- bad frames and consumers ----------------------------------------------------------------------


async def test_decode_failures_are_counted_and_reported_without_killing_the_stream(make: Factory) -> None:
    calls = {"n": 0}

    def flaky(raw: str | bytes, received_ns: int) -> Control | list[Event]:
        result = decode_stream(raw, received_ns)
        if isinstance(result, list):
            calls["n"] += 1
            if calls["n"] % 3 == 0:
                raise FrameError("synthetic failure")
        return result

    conn, rec = make(decode=flaky)
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.rejected()) >= 2 and len(rec.data(BTC)) >= 4, what="good and bad frames")
    assert conn.stats.decode_errors == len(rec.rejected())
    rejected = rec.rejected()[0]
    assert rejected.connection == "public" and rejected.error == "synthetic failure"
    assert rejected.text.startswith('{"topic":"tickers.BTCUSDT"') and len(rejected.text) <= 500
    assert conn.stats.state is LIVE and conn.stats.reconnects == 0


def test_handle_frame_rejects_garbage_and_survives_decoder_and_consumer_bugs() -> None:
    rec = Recorder()
    conn = StreamConnection("unit", "ws://127.0.0.1:9", decode=decode_stream, on_events=rec)
    conn.handle_frame("this is not json" * 100, 1)
    conn.handle_frame(b"[1,2]", 2)
    assert conn.stats.decode_errors == 2 and conn.stats.frames == 2
    first, second = rec.rejected()
    assert isinstance(first, FrameRejected) and len(first.text) == 500 and "invalid JSON" in first.error
    assert second.text == "[1,2]" and second.received_ns == 2

    def buggy(raw: str | bytes, received_ns: int) -> Control | list[Event]:
        raise KeyError("data")

    conn = StreamConnection("unit", "ws://127.0.0.1:9", decode=buggy, on_events=rec)
    conn.handle_frame('{"topic":"x"}', 3)
    assert conn.stats.decode_errors == 1 and rec.rejected()[-1].error == "'data'"

    def broken_sink(events: list[Event]) -> None:
        raise RuntimeError("consumer bug")

    conn = StreamConnection("unit", "ws://127.0.0.1:9", decode=decode_stream, on_events=broken_sink)
    conn.handle_frame('{"topic":"tickers.BTCUSDT","type":"delta","ts":1,"data":{}}', 4)
    assert conn.stats.topic_last_ns == {BTC: 4} and conn.stats.decode_errors == 0


# -- stopping --------------------------------------------------------------------------------------


async def test_stop_is_clean_and_leaves_no_tasks(make: Factory) -> None:
    conn, rec = make(ping_interval=0.05)
    await conn.subscribe([BTC])
    conn.start()
    await until(lambda: len(rec.data(BTC)) >= 2, what="data")
    assert ws_tasks()
    await conn.stop()
    assert ws_tasks() == []
    assert rec.state_list()[-1] is STOPPED and conn.stats.state is STOPPED
    count = len(rec.events)
    await asyncio.sleep(0.1)
    assert len(rec.events) == count, "events after stop"
    await conn.stop()
    assert rec.state_list().count(STOPPED) == 1


async def test_unreachable_venue_keeps_reconnecting_and_stops_cleanly() -> None:
    rec = Recorder()
    conn = StreamConnection(
        "nowhere",
        "ws://127.0.0.1:9",
        decode=decode_stream,
        on_events=rec,
        reconnect=ReconnectPolicy(initial=0.01, cap=0.02),
    )
    conn.start()
    await until(lambda: len(rec.states()) >= 2, what="a failed attempt")
    assert rec.states()[1][0] is RECONNECTING and "Connect" in rec.states()[1][1]
    await conn.stop()
    assert ws_tasks() == [] and conn.stats.state is STOPPED


def test_stats_start_empty() -> None:
    conn = StreamConnection("idle", "ws://127.0.0.1:9", decode=decode_stream, on_events=Recorder())
    assert conn.topics == set() and conn.stats.frames == 0 and conn.stats.ping_rtt_ms.summary().samples == 0
    assert conn.stats.latency_ms.summary().p99 == 0.0
