"""A headless bot on the listener's live state (in this process, the exchange over loopback): it follows the account
from Redis, pauses entries and protects from REST while the listener or Redis is gone, resumes when it is back, and
refuses a symbol another bot holds as the listener says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.bot.test_cycle import PERMISSIVE
from tests.core.conftest import custom_venue, sim_of, wait_for
from tests.live.conftest import FAST, Live
from tests.redis_server import RedisServer
from tui_bot.bot_cli import HeadlessBot, start_headless
from tui_bot.core.engine import EXEC_SYNCED_KEY
from tui_bot.domain.alerts import AlertKind
from tui_bot.domain.enums import OrderStatus
from tui_bot.domain.events import StreamMode
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason
from tui_bot.domain.recommendations import Recommendation, RecommendationStatus
from tui_bot.live.bot_gates import PAUSED, RESUMED
from tui_bot.live.publisher import LivePublisher
from tui_bot.live.reader import LiveState
from tui_bot.runtime import Runtime
from tui_bot.store.db import open_database
from tui_bot.store.ops import SetConfig
from tui_bot.store.writer import StoreWriter

BOT = "hb1"
PATIENCE_S = 15.0


async def _headless(live: Live, tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> HeadlessBot:
    """Bot hb1 on the listener's exchange and Redis: ideas wait for approval, protection sets exchange trailing."""
    sim = sim_of(live.runtime)
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    settings = custom_venue(sim)
    settings.streams.fallback_after_s = 0.5
    settings.bot.bot_id = BOT
    trading = {**PERMISSIVE, "auto_approve_trades": False, "trailing_stop_mode": "native"}
    trading["enable_sl_tightening"] = False
    settings.trading = settings.trading.model_copy(update=trading)
    reader = LiveState(url, heartbeat_poll_s=0.05, retry_s=0.05)
    headless = await start_headless(settings, tmp_path / "bot.db", url, live=reader, schedule_cycles=False)
    headless.announcer.speak()
    return headless


@pytest.fixture
async def bot(
    live: Live, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[HeadlessBot]:
    headless = await _headless(live, tmp_path, redis_url, monkeypatch)
    try:
        await wait_for(lambda: headless.feed.private_live, timeout=PATIENCE_S)
        yield headless
    finally:
        await headless.close()


async def _pending(rt: Runtime) -> list[Recommendation]:
    assert rt.bot is not None
    await rt.bot.run_cycle("test")
    pending = rt.bot.pending()
    assert len(pending) >= 2, "both watchlist symbols should have an idea under permissive gates"
    return pending


async def _open_with_stop(live: Live, bot: HeadlessBot, symbol: str) -> None:
    """A long for bot in symbol with a stop 2 % below the last price, placed behind the bot's back."""
    sim = sim_of(live.runtime)
    inst = bot.runtime.engine.state.instruments[symbol]
    last = sim.engine.markets[symbol].last_price
    stop = (last * Decimal("0.98") / inst.tick_size).to_integral_value() * inst.tick_size
    body = {
        "category": "linear", "symbol": symbol, "side": "Buy", "orderType": "Market", "qty": str(inst.min_qty * 10),
        "stopLoss": str(stop), "orderLinkId": OrderIdFactory(BOT).new(OrderReason.ENTRY),
    }  # fmt: skip
    reply = await live.rest.post("/v5/order/create", body)
    assert reply["retCode"] == 0, reply


def _trailing(live: Live, symbol: str) -> Decimal:
    """The exchange's trailing stop distance on the account's symbol position (0: none)."""
    sim = sim_of(live.runtime)
    pos = sim.engine.accounts[sim.api_key].positions.get(symbol)
    return pos.trailing_stop if pos is not None else Decimal(0)


async def test_the_bot_follows_its_fill_and_position_from_redis(live: Live, bot: HeadlessBot) -> None:
    rt = bot.runtime
    assert rt.engine.mode is StreamMode.STREAM and rt.client.private is None  # no private stream of its own
    await live.market("ETHUSDT", "Buy", "0.10", bot=BOT)
    await wait_for(lambda: "ETHUSDT" in rt.engine.state.positions, timeout=PATIENCE_S)
    await wait_for(lambda: any(rt.engine.state.exec_ids), timeout=PATIENCE_S)
    assert rt.engine.mode is StreamMode.STREAM and rt.engine.state.positions["ETHUSDT"].size == Decimal("0.10")
    assert bot.feed.stats.frames > 0


async def test_an_order_opened_and_cancelled_behind_the_bot_is_followed_to_its_final_state(
    live: Live, bot: HeadlessBot
) -> None:
    state = bot.runtime.engine.state
    last = sim_of(live.runtime).engine.markets["ETHUSDT"].last_price
    body = {
        "category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.10",
        "price": str((last * Decimal("0.8")).quantize(Decimal("0.01"))), "orderLinkId": "hb1-en-lim-1",
    }  # fmt: skip
    placed = await live.rest.post("/v5/order/create", body)
    order_id = placed["result"]["orderId"]
    await wait_for(lambda: order_id in state.open_orders, timeout=PATIENCE_S)
    cancel = {"category": "linear", "symbol": "ETHUSDT", "orderId": order_id}
    cancelled = await live.rest.post("/v5/order/cancel", cancel)
    assert cancelled["retCode"] == 0, cancelled
    await wait_for(lambda: order_id in state.closed_orders, timeout=PATIENCE_S)  # its final state, looked up
    assert state.closed_orders[order_id].status is OrderStatus.CANCELLED and order_id not in state.open_orders
    assert bot.runtime.engine.mode is StreamMode.STREAM


async def test_listener_gone_pauses_entries_protects_from_rest_and_resumes_when_back(
    live: Live, bot: HeadlessBot, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = bot.runtime
    assert rt.bot is not None
    first, second = (await _pending(rt))[:2]
    await live.publisher.stop()  # the listener is gone: its heartbeat with it
    await wait_for(lambda: not bot.feed.private_live, timeout=PATIENCE_S)
    assert capsys.readouterr().out.splitlines() == [f"bot {BOT}: listener heartbeat gone: {PAUSED}"]
    refused = await rt.bot.approve(first.id)
    assert (refused.status, refused.fate) == (RecommendationStatus.REJECTED, "listener heartbeat gone: entries paused")
    await _open_with_stop(live, bot, first.symbol)  # only REST can tell the bot of it now
    await wait_for(lambda: rt.engine.mode is StreamMode.POLL, timeout=PATIENCE_S)
    await wait_for(lambda: _trailing(live, first.symbol) > 0, timeout=PATIENCE_S)  # protection acted
    alerts = rt.alerts
    assert alerts is not None
    await wait_for(lambda: [a.kind for a in alerts.active()] == [AlertKind.STREAM_MODE], timeout=PATIENCE_S)
    live.publisher = LivePublisher(live.runtime.engine, live.runtime.writer, redis_url, FAST)
    await live.publisher.start()
    await wait_for(lambda: bot.feed.private_live, timeout=PATIENCE_S)
    assert capsys.readouterr().out.splitlines() == [f"bot {BOT}: {RESUMED}"]
    done = await rt.bot.approve(second.id)
    assert done.status == RecommendationStatus.EXECUTED, done.fate


async def test_redis_gone_pauses_entries_and_resumes_after_its_restart(
    live: Live, bot: HeadlessBot, redis_server: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    rt = bot.runtime
    assert rt.bot is not None
    first, second = (await _pending(rt))[:2]
    redis_server.stop()
    try:
        await wait_for(lambda: not bot.feed.private_live, timeout=PATIENCE_S)
        assert capsys.readouterr().out.splitlines() == [f"bot {BOT}: redis unreachable: {PAUSED}"]
        refused = await rt.bot.approve(first.id)
        assert (refused.status, refused.fate) == (RecommendationStatus.REJECTED, "redis unreachable: entries paused")
        await wait_for(lambda: rt.engine.mode is StreamMode.POLL, timeout=PATIENCE_S)
    finally:
        redis_server.start()  # empty: the listener writes everything again, the bot follows it again
    await wait_for(lambda: bot.feed.private_live, timeout=PATIENCE_S)
    assert capsys.readouterr().out.splitlines() == [f"bot {BOT}: {RESUMED}"]
    done = await rt.bot.approve(second.id)
    assert done.status == RecommendationStatus.EXECUTED, done.fate


async def test_a_symbol_another_bot_holds_in_redis_is_refused_by_name(
    live: Live, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await live.market("ETHUSDT", "Buy", "0.10", bot="ob2")
    await wait_for(lambda: "ETHUSDT" in live.reader.bot_positions("ob2"), timeout=PATIENCE_S)
    conn = await open_database(tmp_path / "bot.db")  # hb1's store synced after ob2's entry: it never recorded it
    writer = StoreWriter(conn)
    writer.start()
    synced = live.runtime.client.now_ms() + 5_000  # its reseeds read fills from 5 s before this: after ob2's
    writer.enqueue(SetConfig(EXEC_SYNCED_KEY, synced))
    await writer.stop()
    await conn.close()
    bot = await _headless(live, tmp_path, redis_url, monkeypatch)
    try:
        rt = bot.runtime
        assert rt.bot is not None
        await wait_for(lambda: bot.feed.private_live and "ETHUSDT" in rt.engine.state.positions, timeout=PATIENCE_S)
        await rt.bot.run_cycle("test")
        eth = [(r.status, r.fate) for r in rt.bot.recommendations.values() if r.symbol == "ETHUSDT"]
        assert eth == [(RecommendationStatus.REJECTED, "ETHUSDT is held by bot ob2")]
    finally:
        await bot.close()
