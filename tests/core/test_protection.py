"""Protection on the embedded exchange: stop tightening by R, trailing stops, aged positions, restart, errors."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.core.conftest import sim_of, wait_for
from tui_bot.core import protection, stops
from tui_bot.core.protection import Protection
from tui_bot.core.stops import safe_stop
from tui_bot.domain.enums import Side, StopOrderType
from tui_bot.domain.events import ProtectionActed, TickerUpdated
from tui_bot.domain.models import Position
from tui_bot.domain.numbers import ceil_to_step, floor_to_step
from tui_bot.domain.order_ids import OrderReason, parse_order_id
from tui_bot.domain.requests import TradingStopRequest
from tui_bot.domain.trading_settings import TightenStep, TradingSettings
from tui_bot.runtime import Runtime
from tui_bot.sim import rest
from tui_bot.sim.errors import SimError

SYMBOL = "BTCUSDT"
R = Decimal("1000")
TICK = Decimal("0.10")
_PATH = "/v5/position/trading-stop"


@pytest.fixture
def stop_requests(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every trading-stop request the embedded exchange receives (counted on the exchange side)."""
    calls: list[dict[str, Any]] = []
    original = rest.PRIVATE_POST[_PATH]

    def counting(engine: Any, account: Any, raw: dict[str, Any]) -> dict[str, Any]:
        calls.append(dict(raw))
        return original(engine, account, raw)

    monkeypatch.setitem(rest.PRIVATE_POST, _PATH, counting)
    return calls


@pytest.fixture
async def protect(runtime: Runtime) -> AsyncIterator[Callable[..., Protection]]:
    """Make and start Protection instances on the runtime (after stopping one the runtime runs itself)."""
    for owner in (runtime, getattr(runtime, "bot", None)):
        wired = getattr(owner, "protection", None)
        if isinstance(wired, Protection):
            await wired.stop()
    made: list[Protection] = []

    def make(start: bool = True, **kw: Any) -> Protection:
        prot = Protection(runtime.engine, runtime.orders, runtime.trading, runtime.writer, **kw)
        made.append(prot)
        if start:
            prot.start()
        return prot

    yield make
    for prot in made:
        await prot.stop()


def move_price(rt: Runtime, price: Decimal) -> None:
    """Move the embedded exchange's BTCUSDT market to price at once."""
    sim = sim_of(rt)
    sim.engine.markets[SYMBOL].set_price(price, sim.clock.now_ms())


async def open_long(rt: Runtime) -> Position:
    """Buy 0.010 BTC with a stop one R below the last price and wait until the position shows it."""
    last = sim_of(rt).engine.markets[SYMBOL].last_price
    await rt.orders.place(SYMBOL, Side.BUY, Decimal("0.010"), stop_loss=last - R)
    state = rt.engine.state
    await wait_for(lambda: SYMBOL in state.positions and state.positions[SYMBOL].stop_loss > 0)
    return state.positions[SYMBOL]


async def exchange_position(rt: Runtime) -> Position | None:
    """The BTCUSDT position as the exchange reports it over REST."""
    return next((p for p in await rt.client.fetch_positions() if p.symbol == SYMBOL and p.size), None)


async def wait_exchange(
    rt: Runtime, predicate: Callable[[Position | None], bool], timeout: float = 5.0
) -> Position | None:
    """Poll the exchange's position until predicate holds."""
    deadline = time.monotonic() + timeout
    while True:
        pos = await exchange_position(rt)
        if predicate(pos):
            return pos
        if time.monotonic() > deadline:
            raise AssertionError(f"exchange position never matched; last seen {pos}")
        await asyncio.sleep(0.05)


async def armed(prot: Protection, pos: Position) -> Decimal:
    await wait_for(lambda: SYMBOL in prot.guards and prot.guards[SYMBOL].r is not None)
    r = prot.guards[SYMBOL].r
    assert r == pos.entry_price - pos.stop_loss
    return r


async def mark_reaches(rt: Runtime, price: Decimal) -> None:
    """Wait until our state marks the long at or above price (so protection has seen the move)."""
    await wait_for(lambda: rt.engine.state.positions[SYMBOL].mark_price >= price)


def acted(rt: Runtime) -> Callable[[], list[ProtectionActed]]:
    """Collect ProtectionActed events published on the bus from now on."""
    sub = rt.engine.bus.subscribe()
    seen: list[ProtectionActed] = []

    def take() -> list[ProtectionActed]:
        seen.extend(e for e in sub.take() if isinstance(e, ProtectionActed))
        return seen

    return take


async def test_stop_moves_to_breakeven_at_1r_and_to_plus_1r_at_2r(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    events = acted(runtime)
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    entry = pos.entry_price
    breakeven, plus_one = safe_stop(entry, Side.BUY, TICK), safe_stop(entry + r, Side.BUY, TICK)
    move_price(runtime, entry + r * Decimal("0.8"))
    await mark_reaches(runtime, entry + r * Decimal("0.75"))
    await asyncio.sleep(0.2)
    assert stop_requests == []
    move_price(runtime, entry + r * Decimal("1.3"))
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == breakeven)
    assert [Decimal(c["stopLoss"]) for c in stop_requests] == [breakeven]
    move_price(runtime, entry + r * Decimal("2.3"))
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == plus_one)
    await asyncio.sleep(0.3)
    assert [Decimal(c["stopLoss"]) for c in stop_requests] == [breakeven, plus_one]
    assert [(e.action, e.symbol) for e in events()] == [("tighten 1R→0R", SYMBOL), ("tighten 2R→1R", SYMBOL)]
    await runtime.writer.flush()
    db = sqlite3.connect(runtime.db_path)
    rows = db.execute(
        "select reason, stop_loss from position_snapshots where reason != 'update' order by id"
    ).fetchall()
    assert [reason.split(" ")[0] for reason, _ in rows] == ["protect:armed", "tighten", "tighten"]
    assert [(reason, Decimal(stop)) for reason, stop in rows[1:]] == [
        ("tighten 1R→0R", breakeven),
        ("tighten 2R→1R", plus_one),
    ]


async def test_toggling_sl_tightening_off_stops_it_live(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    runtime.trading.update({"enable_sl_tightening": False})
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    entry, stop = pos.entry_price, pos.stop_loss
    move_price(runtime, entry + r * Decimal("1.5"))
    await wait_for(lambda: runtime.engine.state.positions[SYMBOL].mark_price > entry + r * Decimal("1.4"))
    await asyncio.sleep(0.3)
    assert stop_requests == []
    assert (await exchange_position(runtime)).stop_loss == stop  # type: ignore[union-attr]
    runtime.trading.toggle("enable_sl_tightening")
    mark = runtime.engine.state.positions[SYMBOL].mark_price
    for _ in range(3):  # a burst of ticks before the exchange answers: still one request in flight
        prot.on_event(
            TickerUpdated(symbol=SYMBOL, snapshot=False, fields={"mark_price": mark}, exchange_ts=0, received_ns=0)
        )
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == floor_to_step(entry, TICK))
    await asyncio.sleep(0.2)
    assert len(stop_requests) == 1


async def test_native_trailing_stop_is_set_once_on_the_exchange(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    runtime.trading.update(
        {
            "trailing_stop_mode": "native",
            "enable_sl_tightening": False,
            "trailing_activate_r": "1.5",
            "trailing_distance_r": "0.5",
        }
    )
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    distance = ceil_to_step(r / 2, TICK)
    await wait_exchange(runtime, lambda p: p is not None and p.trailing_stop == distance)
    active = ceil_to_step(pos.entry_price + r * Decimal("1.5"), TICK)
    sim = sim_of(runtime)
    account = sim.engine.accounts[sim.api_key]
    trailing = next(o for o in account.open_orders(SYMBOL) if o.stop_order_type is StopOrderType.TRAILING_STOP)
    assert (trailing.trailing_distance, trailing.trailing_active_price) == (distance, active)
    await asyncio.sleep(0.3)
    assert [(Decimal(c["trailingStop"]), Decimal(c["activePrice"])) for c in stop_requests] == [(distance, active)]


async def test_client_trailing_moves_the_stop_behind_the_best_mark(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    runtime.trading.update(
        {
            "trailing_stop_mode": "client",
            "enable_sl_tightening": False,
            "trailing_activate_r": "1",
            "trailing_distance_r": "1",
        }
    )
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    entry = pos.entry_price
    move_price(runtime, entry + r * Decimal("0.7"))
    await mark_reaches(runtime, entry + r * Decimal("0.65"))
    await asyncio.sleep(0.3)
    assert stop_requests == []
    move_price(runtime, entry + r * Decimal("1.5"))
    first = await wait_exchange(runtime, lambda p: p is not None and p.stop_loss > entry + r * Decimal("0.4"))
    assert first is not None and abs(first.stop_loss - (entry + r / 2)) < Decimal("30")
    started = time.monotonic()
    move_price(runtime, entry + r * Decimal("2.5"))
    second = await wait_exchange(runtime, lambda p: p is not None and p.stop_loss > entry + r * Decimal("1.4"))
    assert second is not None and abs(second.stop_loss - (entry + r * Decimal("1.5"))) < Decimal("30")
    stops = [Decimal(c["stopLoss"]) for c in stop_requests]
    assert stops == sorted(stops) and len(stops) <= 2 + (time.monotonic() - started) / 1.0


async def test_client_trail_after_a_spike_and_fall_back_sets_a_stop_the_exchange_accepts(
    runtime: Runtime,
    protect: Callable[..., Protection],
    stop_requests: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime.trading.update(
        {
            "trailing_stop_mode": "client",
            "enable_sl_tightening": False,
            "trailing_activate_r": "1",
            "trailing_distance_r": "0.5",
        }
    )
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    entry = pos.entry_price
    move_price(runtime, entry + r * 2)
    first = await wait_exchange(runtime, lambda p: p is not None and p.stop_loss > entry + r)
    assert first is not None
    monkeypatch.setattr(protection, "CLIENT_TRAIL_EVERY_S", 3600.0)  # the spike and the fall land inside one pause
    before = len(stop_requests)
    move_price(runtime, entry + r * 3)  # a spike, then back below where it would trail to
    await mark_reaches(runtime, entry + r * Decimal("2.9"))
    fallen = entry + r * Decimal("1.8")
    move_price(runtime, fallen)
    await wait_for(lambda: runtime.engine.state.positions[SYMBOL].mark_price < entry + r * 2)
    assert len(stop_requests) == before, "the trail moved inside its pause"
    monkeypatch.setattr(protection, "CLIENT_TRAIL_EVERY_S", 0.0)  # the pause ends with the market fallen back
    after = await wait_exchange(runtime, lambda p: p is None or p.stop_loss > first.stop_loss, timeout=6.0)
    drift = r * Decimal("0.2")  # the embedded market keeps walking from where it was put
    assert after is None or first.stop_loss < after.stop_loss < fallen + drift  # moved up, or already hit and closed
    assert all(Decimal(c["stopLoss"]) < fallen + drift for c in stop_requests[before:]), "a stop beyond the market"


async def test_aged_position_is_closed_with_a_time_exit(runtime: Runtime, protect: Callable[..., Protection]) -> None:
    runtime.trading.update({"aged_position_hours": "1", "aged_position_action": "close", "enable_sl_tightening": False})
    events = acted(runtime)
    await open_long(runtime)
    prot = protect(now_ms=lambda: runtime.client.now_ms() + 2 * 3_600_000, aged_check_s=0.05)
    await wait_exchange(runtime, lambda p: p is None)
    await wait_for(lambda: SYMBOL not in runtime.engine.state.positions)
    await wait_for(lambda: prot.actions == 1)  # recorded once the close is acknowledged, maybe after the fill
    closers = [parse_order_id(o.order_link_id) for o in runtime.engine.state.closed_orders.values() if o.reduce_only]
    assert [c.reason for c in closers if c is not None] == [OrderReason.TIME_EXIT]
    assert [(e.action, e.detail) for e in events()] == [("aged close", "closed: open over 1h")]
    assert prot.actions == 1


async def test_young_position_is_left_alone_and_aged_tighten_moves_to_breakeven_once(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    runtime.trading.update(
        {"aged_position_hours": "1", "aged_position_action": "tighten", "enable_sl_tightening": False}
    )
    pos = await open_long(runtime)
    offset = [0]
    prot = protect(now_ms=lambda: runtime.client.now_ms() + offset[0], aged_check_s=0.05)
    r = await armed(prot, pos)
    move_price(runtime, pos.entry_price + r / 2)
    await wait_for(lambda: runtime.engine.state.positions[SYMBOL].mark_price > pos.entry_price + r / 3)
    await asyncio.sleep(0.2)
    assert stop_requests == []
    offset[0] = 2 * 3_600_000
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == safe_stop(pos.entry_price, Side.BUY, TICK))
    await asyncio.sleep(0.3)
    assert len(stop_requests) == 1


async def test_initial_stop_survives_a_restart(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    sim_of(runtime).clock.skew_ms += 50  # our clock now trails the exchange's, as it may in life by a few ms
    pos = await open_long(runtime)
    first = protect()
    r = await armed(first, pos)
    await first.stop()
    move_price(runtime, pos.entry_price + r / 2)
    breakeven = safe_stop(pos.entry_price, Side.BUY, TICK)
    await runtime.orders.set_trading_stop(TradingStopRequest(SYMBOL, stop_loss=breakeven))
    await wait_for(lambda: runtime.engine.state.positions[SYMBOL].stop_loss == breakeven)
    await runtime.writer.flush()
    fresh = protect(start=False)
    await fresh.restore(runtime.conn)
    assert fresh.guards[SYMBOL].r == r
    fresh.start()
    move_price(runtime, pos.entry_price + r * Decimal("2.3"))
    await wait_exchange(
        runtime, lambda p: p is not None and p.stop_loss == safe_stop(pos.entry_price + r, Side.BUY, TICK)
    )
    assert len(stop_requests) == 2  # our manual breakeven, then the 2R step; the 1R step is not repeated


async def test_rejected_stop_is_logged_in_plain_words_and_not_retried_at_once(
    runtime: Runtime,
    protect: Callable[..., Protection],
    stop_requests: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(engine: Any, account: Any, raw: dict[str, Any]) -> dict[str, Any]:
        stop_requests.append(dict(raw))
        raise SimError(110007, "ab not enough for new order")

    monkeypatch.setitem(rest.PRIVATE_POST, _PATH, refuse)
    pos = await open_long(runtime)
    prot = protect()
    r = await armed(prot, pos)
    caplog.set_level(logging.WARNING, logger="tui_bot.core.protection")
    move_price(runtime, pos.entry_price + r * Decimal("1.3"))
    await wait_for(lambda: len(stop_requests) == 1)
    await asyncio.sleep(0.5)
    assert len(stop_requests) == 1
    assert "Insufficient balance (110007)" in caplog.text and "could not tighten 1R→0R" in caplog.text


# -- the pure stop arithmetic -----------------------------------------------------------------------------

D = Decimal
STEPS = TradingSettings().rr_tightening_steps


def test_stops_round_away_from_the_market() -> None:
    assert stops.safe_stop(D("100.05"), Side.BUY, TICK) == D("100.0")
    assert stops.safe_stop(D("100.05"), Side.SELL, TICK) == D("100.1")


def test_initial_r_needs_a_stop_on_the_losing_side() -> None:
    assert stops.initial_r(Side.BUY, D("100"), D("90")) == D("10")
    assert stops.initial_r(Side.SELL, D("100"), D("110")) == D("10")
    assert stops.initial_r(Side.BUY, D("100"), D("100")) is None
    assert stops.initial_r(Side.BUY, D("100"), D("105")) is None
    assert stops.initial_r(Side.BUY, D("100"), D("0")) is None


@pytest.mark.parametrize(
    ("side", "fav", "current", "expected"),
    [
        (Side.BUY, "0.99", "90", None),
        (Side.BUY, "1", "90", (D(1), D("100.0"))),
        (Side.BUY, "2.5", "90", (D(2), D("110.0"))),
        (Side.BUY, "2.5", "100", (D(2), D("110.0"))),
        (Side.BUY, "2.5", "110", None),
        (Side.BUY, "1.5", "100", None),
        (Side.SELL, "1.2", "110", (D(1), D("100.0"))),
        (Side.SELL, "2", "0", (D(2), D("90.0"))),
    ],
)
def test_tighten_target_takes_the_highest_step_reached_when_it_improves_the_stop(
    side: Side, fav: str, current: str, expected: tuple[Decimal, Decimal] | None
) -> None:
    hit = stops.tighten_target(STEPS, side, D("100"), D("10"), D(fav), D(current), TICK)
    assert (None if hit is None else (hit[0].at_r, hit[1])) == expected


def test_tighten_target_rounds_the_stop_to_the_safe_side() -> None:
    steps = [TightenStep(at_r=D(1), stop_r=D("0.5"))]
    assert stops.tighten_target(steps, Side.BUY, D("100.03"), D("0.33"), D(1), D(0), TICK) == (steps[0], D("100.1"))
    assert stops.tighten_target(steps, Side.SELL, D("100.03"), D("0.33"), D(1), D(0), TICK) == (steps[0], D("99.9"))


def test_native_trailing_distance_and_activation() -> None:
    assert stops.native_trailing(Side.BUY, D("100"), D("10.01"), D("1.5"), D("1"), D("101"), TICK) == (
        D("10.1"),
        D("115.1"),
    )
    assert stops.native_trailing(Side.SELL, D("100"), D("10"), D("1.5"), D("1"), D("99"), TICK) == (
        D("10.0"),
        D("85.0"),
    )
    assert stops.native_trailing(Side.BUY, D("100"), D("10"), D("1.5"), D("1"), D("120"), TICK) == (D("10.0"), None)
    assert stops.native_trailing(Side.BUY, D("100"), D("0.01"), D("1"), D("1"), D("100"), TICK)[0] == TICK


def test_client_trailing_moves_only_by_at_least_a_tick() -> None:
    assert stops.client_trailing_target(Side.BUY, D("120"), D("10"), D("1"), D("105"), TICK, D("120")) == D("110.0")
    assert stops.client_trailing_target(Side.BUY, D("120.05"), D("10"), D("1"), D("110"), TICK, D("120")) is None
    assert stops.client_trailing_target(Side.BUY, D("119"), D("10"), D("1"), D("110"), TICK, D("119")) is None
    assert stops.client_trailing_target(Side.SELL, D("80"), D("10"), D("1"), D("95"), TICK, D("80")) == D("90.0")


def test_client_trailing_never_puts_the_stop_beyond_a_market_that_fell_back() -> None:
    assert stops.client_trailing_target(Side.BUY, D("120"), D("10"), D("1"), D("100"), TICK, D("107")) == D("106.9")
    assert stops.client_trailing_target(Side.SELL, D("80"), D("10"), D("1"), D("100"), TICK, D("93")) == D("93.1")
    assert stops.client_trailing_target(Side.BUY, D("120"), D("10"), D("1"), D("106.9"), TICK, D("107")) is None


def test_aged_target_is_breakeven_in_profit_else_halfway_to_the_mark() -> None:
    assert stops.aged_target(Side.BUY, D("100"), D("105"), D("90"), TICK) == D("100.0")
    assert stops.aged_target(Side.BUY, D("100"), D("95"), D("90"), TICK) == D("92.5")
    assert stops.aged_target(Side.SELL, D("100"), D("105"), D("110"), TICK) == D("107.5")
    assert stops.aged_target(Side.BUY, D("100"), D("95"), D("0"), TICK) is None
    assert stops.aged_target(Side.BUY, D("100"), D("105"), D("101"), TICK) is None


async def test_a_short_is_tightened_downwards_once_per_step(
    runtime: Runtime, protect: Callable[..., Protection], stop_requests: list[dict[str, Any]]
) -> None:
    last = sim_of(runtime).engine.markets[SYMBOL].last_price
    await runtime.orders.place(SYMBOL, Side.SELL, Decimal("0.010"), stop_loss=last + R)
    state = runtime.engine.state
    await wait_for(lambda: SYMBOL in state.positions and state.positions[SYMBOL].stop_loss > 0)
    pos = state.positions[SYMBOL]
    prot = protect()
    await wait_for(lambda: SYMBOL in prot.guards and prot.guards[SYMBOL].r is not None)
    r = prot.guards[SYMBOL].r
    assert r == pos.stop_loss - pos.entry_price
    breakeven, plus_one = safe_stop(pos.entry_price, Side.SELL, TICK), safe_stop(pos.entry_price - r, Side.SELL, TICK)
    assert breakeven >= pos.entry_price and plus_one < pos.entry_price
    move_price(runtime, pos.entry_price - r * Decimal("1.3"))
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == breakeven)
    move_price(runtime, pos.entry_price - r * Decimal("2.3"))
    await wait_exchange(runtime, lambda p: p is not None and p.stop_loss == plus_one)
    move_price(runtime, pos.entry_price - r * Decimal("2.4"))
    await wait_for(lambda: state.positions[SYMBOL].mark_price <= pos.entry_price - r * Decimal("2.35"))
    await asyncio.sleep(0.2)
    assert [Decimal(c["stopLoss"]) for c in stop_requests] == [breakeven, plus_one]


async def test_a_position_reopened_unseen_gets_a_fresh_guard(
    runtime: Runtime, protect: Callable[..., Protection]
) -> None:
    pos = await open_long(runtime)
    prot = protect()
    await armed(prot, pos)
    prot.guards[SYMBOL].steps_done.add(Decimal(1))
    reopened = Position(SYMBOL, Side.BUY, pos.size, pos.entry_price, open_time=pos.open_time + 60_000)
    guard = prot._guard_for(reopened)  # the flat update in between was missed (e.g. during a reconnect)
    assert guard.opened_ms == reopened.open_time and guard.r is None and not guard.steps_done
    assert prot._guard_for(reopened) is guard
