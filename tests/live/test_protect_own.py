"""Many processes on one account, each protecting only the positions it holds: headless bots their own (as the
listener's live state says), the listener with Redis only the attached console's (in this process, the exchange over
loopback, real Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.conftest import SignedRest
from tests.core.conftest import custom_venue, fast_settings, sim_of, wait_for
from tests.live.conftest import Live
from tests.redis_server import RedisServer
from tui_bot.bot_cli import HeadlessBot, start_headless
from tui_bot.core.protection import ARMED, Protection
from tui_bot.core.state import AccountState
from tui_bot.core.stops import safe_stop
from tui_bot.domain.enums import Side
from tui_bot.domain.events import StreamMode
from tui_bot.domain.order_ids import OrderIdFactory, OrderReason, parse_order_id
from tui_bot.domain.trading_settings import TightenStep
from tui_bot.listen import start_listener
from tui_bot.live.attached_backend import CONSOLE_SENDER
from tui_bot.live.reader import LiveState
from tui_bot.sim.records import SimPosition
from tui_bot.store.repos import first_snapshot_since

PATIENCE_S = 15.0
RISK = Decimal("0.005")
"""The stop of every position here: 0.5 % below the last price (R)."""
PROFIT = Decimal("1.0125")
"""Where the price is moved: 2.5 R in profit (the sim's random steps undo a few ticks at most)."""
SEEN = Decimal("1.005")
"""A mark this far above entry shows a process has seen the move (1 R)."""
HOUR_MS = 3_600_000


def _steps(stop_r: str) -> list[TightenStep]:
    return [TightenStep(at_r=Decimal(1), stop_r=Decimal(stop_r))]


async def _bot(live: Live, tmp_path: Path, url: str, bot_id: str, **trading: object) -> HeadlessBot:
    """A headless bot (no cycles) on the listener's exchange and Redis, with the trading settings given."""
    settings = custom_venue(sim_of(live.runtime))
    settings.streams.fallback_after_s = 0.5
    settings.bot.bot_id = bot_id
    settings.trading = settings.trading.model_copy(update={"trailing_stop_mode": "off", **trading})
    reader = LiveState(url, heartbeat_poll_s=0.05, retry_s=0.05)
    return await start_headless(settings, tmp_path / f"{bot_id}.db", url, live=reader, trading_bot=False)


@pytest.fixture
def venue_keys(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = sim_of(live.runtime)
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)


async def _open(live: Live, symbol: str, bot: str | None) -> SimPosition:
    """A long in symbol with a stop R below the last price, as bot's entry (None: another program's order)."""
    sim = sim_of(live.runtime)
    inst = live.runtime.engine.state.instruments[symbol]
    last = sim.engine.markets[symbol].last_price
    stop = (last * (1 - RISK) / inst.tick_size).to_integral_value() * inst.tick_size
    body = {
        "category": "linear", "symbol": symbol, "side": "Buy", "orderType": "Market", "qty": str(inst.min_qty * 10),
        "stopLoss": str(stop),
    }  # fmt: skip
    if bot is not None:
        body["orderLinkId"] = OrderIdFactory(bot).new(OrderReason.ENTRY)
    reply = await live.rest.post("/v5/order/create", body)
    assert reply["retCode"] == 0, reply
    if bot is not None:
        await wait_for(lambda: symbol in live.reader.bot_positions(bot), timeout=PATIENCE_S)
    return _exchange(live, symbol)


def _exchange(live: Live, symbol: str) -> SimPosition:
    """A copy of the account's position in symbol as the exchange holds it now."""
    sim = sim_of(live.runtime)
    pos = sim.engine.accounts[sim.api_key].positions.get(symbol)
    return replace(pos) if pos is not None else SimPosition(symbol=symbol)


def _in_profit(live: Live, *symbols: str) -> None:
    sim = sim_of(live.runtime)
    for symbol in symbols:
        market = sim.engine.markets[symbol]
        market.set_price(market.last_price * PROFIT, sim.clock.now_ms())


def _stop_at(live: Live, opened: SimPosition, stop_r: str) -> Decimal:
    """Where a stop_r step puts opened's stop (the step's arithmetic, R from the stop it opened with)."""
    tick = live.runtime.engine.state.instruments[opened.symbol].tick_size
    r = opened.entry_price - opened.stop_loss
    return safe_stop(opened.entry_price + Decimal(stop_r) * r, Side.BUY, tick)


def _follows(process: Live | HeadlessBot, *symbols: str) -> Callable[[], bool]:
    """Whether the process's engine holds positions in all the symbols."""
    return lambda: set(symbols) <= set(process.runtime.engine.state.positions)


def _marked(state: AccountState, symbol: str, price: Decimal) -> Callable[[], bool]:
    return lambda: state.positions[symbol].mark_price >= price


async def _settled(process: Live | HeadlessBot, *seen: SimPosition) -> Protection:
    """Wait until the process marks each position SEEN above its entry (its protection saw the move), then until
    its protection has no request in flight; its protection."""
    protection, state = process.runtime.protection, process.runtime.engine.state
    assert protection is not None
    for pos in seen:
        await wait_for(_marked(state, pos.symbol, pos.entry_price * SEEN), timeout=PATIENCE_S)
    await wait_for(lambda: not any(g.busy for g in protection.guards.values()), timeout=PATIENCE_S)
    return protection


def _two_hours_on(bot: HeadlessBot) -> Protection:
    """The bot's protection, its clock two hours on (every position open now is aged)."""
    protection, client = bot.runtime.protection, bot.runtime.client
    assert protection is not None
    protection.now_ms = lambda: client.now_ms() + 2 * HOUR_MS
    return protection


def _closers(live: Live) -> list[tuple[str, str, OrderReason]]:
    """Symbol, bot and reason of every closing order of ours on the account, as the listener saw them end."""
    ended = live.runtime.engine.state.closed_orders.values()
    closes = [(o.symbol, parse_order_id(o.order_link_id)) for o in ended if o.reduce_only]
    return sorted((symbol, parsed.bot, parsed.reason) for symbol, parsed in closes if parsed is not None)


async def test_each_bot_moves_only_its_own_stop(live: Live, tmp_path: Path, redis_url: str, venue_keys: None) -> None:
    a1 = await _bot(live, tmp_path, redis_url, "a1", rr_tightening_steps=_steps("0"))
    b2 = await _bot(live, tmp_path, redis_url, "b2", rr_tightening_steps=_steps("0.5"))
    try:
        btc, eth = await _open(live, "BTCUSDT", "a1"), await _open(live, "ETHUSDT", "b2")
        await wait_for(_follows(a1, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        await wait_for(_follows(b2, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        _in_profit(live, "BTCUSDT", "ETHUSDT")
        a1_stop, b2_stop = _stop_at(live, btc, "0"), _stop_at(live, eth, "0.5")  # the steps differ: who moved what
        await wait_for(lambda: _exchange(live, "BTCUSDT").stop_loss == a1_stop, timeout=PATIENCE_S)
        await wait_for(lambda: _exchange(live, "ETHUSDT").stop_loss == b2_stop, timeout=PATIENCE_S)
        a1_prot, b2_prot = await _settled(a1, btc, eth), await _settled(b2, btc, eth)
        assert (set(a1_prot.guards), set(b2_prot.guards)) == ({"BTCUSDT"}, {"ETHUSDT"})
        assert (_exchange(live, "BTCUSDT").stop_loss, _exchange(live, "ETHUSDT").stop_loss) == (a1_stop, b2_stop)
    finally:
        await a1.close()
        await b2.close()


async def test_with_the_listener_and_redis_gone_a_bot_protects_what_it_last_knew_it_held(
    live: Live, tmp_path: Path, redis_url: str, redis_server: RedisServer, venue_keys: None
) -> None:
    a1 = await _bot(live, tmp_path, redis_url, "a1", rr_tightening_steps=_steps("0"))
    try:
        btc, eth = await _open(live, "BTCUSDT", "a1"), await _open(live, "ETHUSDT", "b2")
        await wait_for(_follows(a1, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        prot = a1.runtime.protection
        assert prot is not None
        await wait_for(lambda: "BTCUSDT" in prot.guards and prot.guards["BTCUSDT"].r is not None, timeout=PATIENCE_S)
        await live.publisher.stop()  # the listener is gone, then Redis loses every key: nobody writes them again
        snapshots = a1.live.snapshots
        redis_server.restart()
        await wait_for(
            lambda: a1.live.snapshots > snapshots and a1.runtime.engine.mode is StreamMode.POLL, timeout=PATIENCE_S
        )
        assert a1.live.positions() == {} and not a1.feed.private_live
        _in_profit(live, "BTCUSDT", "ETHUSDT")
        await wait_for(lambda: _exchange(live, "BTCUSDT").stop_loss == _stop_at(live, btc, "0"), timeout=PATIENCE_S)
        await _settled(a1, btc, eth)
        assert set(prot.guards) == {"BTCUSDT"} and _exchange(live, "ETHUSDT").stop_loss == eth.stop_loss
    finally:
        await a1.close()


async def test_a_restarted_bot_restores_the_first_stop_of_its_own_position_only(
    live: Live, tmp_path: Path, redis_url: str, venue_keys: None
) -> None:
    a1 = await _bot(live, tmp_path, redis_url, "a1", rr_tightening_steps=_steps("0"))
    try:
        btc, _eth = await _open(live, "BTCUSDT", "a1"), await _open(live, "ETHUSDT", "b2")
        await wait_for(_follows(a1, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        _in_profit(live, "BTCUSDT")
        await wait_for(lambda: _exchange(live, "BTCUSDT").stop_loss == _stop_at(live, btc, "0"), timeout=PATIENCE_S)
    finally:
        await a1.close()
    again = await _bot(live, tmp_path, redis_url, "a1", rr_tightening_steps=_steps("0"))
    try:
        prot = again.runtime.protection
        assert prot is not None and prot.initial_risk("BTCUSDT") == btc.entry_price - btc.stop_loss  # not breakeven's
        await wait_for(_follows(again, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        assert set(prot.guards) == {"BTCUSDT"}
    finally:
        await again.close()


async def test_aged_close_closes_only_the_bots_own_position(
    live: Live, tmp_path: Path, redis_url: str, venue_keys: None
) -> None:
    aged = {"aged_position_hours": Decimal(1), "aged_position_action": "close", "enable_sl_tightening": False}
    a1 = await _bot(live, tmp_path, redis_url, "a1", **aged)
    b2 = await _bot(live, tmp_path, redis_url, "b2", **aged)
    try:
        await _open(live, "BTCUSDT", "a1")
        eth = await _open(live, "ETHUSDT", "b2")
        await wait_for(_follows(a1, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        await wait_for(_follows(b2, "BTCUSDT", "ETHUSDT"), timeout=PATIENCE_S)
        a1_prot, b2_prot = _two_hours_on(a1), _two_hours_on(b2)
        a1_prot.check_aged()  # what the aged monitor does every aged_check_s
        await wait_for(lambda: not _exchange(live, "BTCUSDT").size, timeout=PATIENCE_S)
        await wait_for(lambda: not any(g.busy for g in a1_prot.guards.values()), timeout=PATIENCE_S)
        assert _exchange(live, "ETHUSDT").size == eth.size and a1_prot.actions == 1
        b2_prot.check_aged()
        await wait_for(lambda: not _exchange(live, "ETHUSDT").size, timeout=PATIENCE_S)
        closers = [("BTCUSDT", "a1", OrderReason.TIME_EXIT), ("ETHUSDT", "b2", OrderReason.TIME_EXIT)]
        await wait_for(lambda: _closers(live) == closers, timeout=PATIENCE_S)
    finally:
        await a1.close()
        await b2.close()


@pytest.fixture
async def listener(tmp_path: Path, redis_url: str) -> AsyncIterator[Live]:
    """`tui-bot listen --redis` as it starts (on the embedded exchange, default trading settings: tightening on)."""
    settings = fast_settings()
    settings.sim.balance = Decimal(1_000_000)
    settings.redis.url = SecretStr(redis_url)
    runtime, publisher = await start_listener(settings, tmp_path / "listen.db")
    assert publisher is not None
    sim = sim_of(runtime)
    assert sim.urls is not None
    rest = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    reader = LiveState(redis_url, heartbeat_poll_s=0.05, retry_s=0.05)
    await reader.start()
    try:
        yield Live(runtime, publisher, reader, rest)
    finally:
        for step in (rest.close, reader.close, publisher.stop, runtime.close):
            await step()


async def test_the_listener_protects_the_consoles_position_and_leaves_bots_and_others_alone(listener: Live) -> None:
    live = listener
    bots = await _open(live, "BTCUSDT", "a1")
    external = await _open(live, "ETHUSDT", None)
    console = await _open(live, "SOLUSDT", CONSOLE_SENDER)
    await wait_for(_follows(live, "BTCUSDT", "ETHUSDT", "SOLUSDT"), timeout=PATIENCE_S)
    _in_profit(live, "BTCUSDT", "ETHUSDT", "SOLUSDT")
    await wait_for(lambda: _exchange(live, "SOLUSDT").stop_loss >= _stop_at(live, console, "0"), timeout=PATIENCE_S)
    prot = await _settled(live, bots, external)
    assert set(prot.guards) == {"SOLUSDT"}
    assert [_exchange(live, p.symbol).stop_loss for p in (bots, external)] == [bots.stop_loss, external.stop_loss]
    await live.runtime.writer.flush()
    armed = [await first_snapshot_since(live.runtime.conn, s, ARMED, 0) is not None for s in ("BTCUSDT", "ETHUSDT")]
    assert armed == [False, False]
    assert await first_snapshot_since(live.runtime.conn, "SOLUSDT", ARMED, 0) is not None
