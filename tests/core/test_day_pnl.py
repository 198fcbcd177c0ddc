"""Day PnL is the exchange's own record: the transaction log's rows since 00:00 UTC, whoever traded and whenever
the console started. The oracle is that log as a second program reads it over signed REST."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import SignedRest
from tests.core.conftest import custom_venue, wait_for
from tests.sim.rest_helpers import order, place
from tui_bot.core.day_pnl import DAY_MS
from tui_bot.core.market_view import MarketView
from tui_bot.domain.enums import Side
from tui_bot.domain.market import DayPnlChanged
from tui_bot.runtime import Runtime, start_runtime
from tui_bot.sim.server import SimExchange

BTC, ETH = "BTCUSDT", "ETHUSDT"


def view(rt: Runtime) -> MarketView:
    assert rt.market is not None
    return rt.market


@pytest.fixture
async def other(sim: SimExchange, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SignedRest]:
    """Another program trading the same account over signed REST; the runtimes here use the same keys."""
    monkeypatch.setenv("BYBIT_API_KEY", sim.api_key)
    monkeypatch.setenv("BYBIT_API_SECRET", sim.api_secret)
    assert sim.urls is not None
    client = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    yield client
    await client.close()


async def logged_today(other: SignedRest, sim: SimExchange) -> Decimal:
    """The sum of `change` over the transaction log's rows since 00:00 UTC of the exchange's clock."""
    now = sim.clock.now_ms()
    params: dict[str, object] = {
        "accountType": "UNIFIED",
        "category": "linear",
        "startTime": now - now % DAY_MS,
        "endTime": now + 60_000,
        "limit": 50,
    }
    total, cursor = Decimal(0), ""
    while True:
        reply = await other.get(
            "/v5/account/transaction-log", {**params, **({"cursor": cursor} if cursor else {})}, timestamp=now
        )
        total += sum((Decimal(row["change"]) for row in reply["result"]["list"]), Decimal(0))
        cursor = reply["result"]["nextPageCursor"]
        if not cursor:
            return total


async def round_trip(other: SignedRest, symbol: str, qty: str) -> None:
    """Another program opens and closes a position at market."""
    await place(other, order("Buy", qty=qty, symbol=symbol))
    await place(other, order("Sell", qty=qty, symbol=symbol, reduceOnly=True))


async def shows_the_log(rt: Runtime, other: SignedRest, sim: SimExchange) -> Decimal:
    """Wait until day PnL equals the log with nothing pending; returns it."""
    expected = await logged_today(other, sim)
    await wait_for(lambda: (d := view(rt).day_pnl()).net == expected and d.pending == 0, timeout=8)
    return expected


async def test_day_pnl_is_the_exchanges_log_across_restarts_and_other_programs_trades(
    tmp_path: Path, sim: SimExchange, other: SignedRest
) -> None:
    await round_trip(other, ETH, "0.10")  # before any console ran
    first = await start_runtime(custom_venue(sim), tmp_path / "core.db")
    try:
        day = view(first).day_pnl()
        assert day.net == await logged_today(other, sim) and day.fees > 0, "a trade made before the start counts"
        assert day.day_start_ms == sim.clock.now_ms() - sim.clock.now_ms() % DAY_MS
        sub = first.engine.bus.subscribe()
        await first.orders.place(BTC, Side.BUY, Decimal("0.010"))
        await wait_for(lambda: BTC in first.engine.state.positions)
        await first.orders.close_position(BTC)
        await shows_the_log(first, other, sim)
        assert any(isinstance(e, DayPnlChanged) for e in sub.take())
        await round_trip(other, ETH, "0.20")  # while the console runs
        await shows_the_log(first, other, sim)
    finally:
        await first.close()
    await round_trip(other, BTC, "0.005")  # while no console runs
    second = await start_runtime(custom_venue(sim), tmp_path / "core.db")
    try:
        total = await shows_the_log(second, other, sim)
        day = view(second).day_pnl()
        assert day.net == total == day.gross - day.fees + day.funding
        assert day.fees > 0 and day.gross != 0
    finally:
        await second.close()


async def test_a_fill_counts_at_once_and_gives_way_to_the_logs_row(
    tmp_path: Path, sim: SimExchange, other: SignedRest
) -> None:
    rt = await start_runtime(custom_venue(sim), tmp_path / "core.db")
    try:
        assert rt.market is not None
        rt.market.day.after_fill_s = 30.0  # the log is not read again within this test unless asked
        start = view(rt).day_pnl()
        await rt.orders.place(BTC, Side.BUY, Decimal("0.010"))
        await wait_for(lambda: view(rt).day_pnl().pending == 1)
        assert view(rt).day_pnl().net == await logged_today(other, sim), "the streamed fill counts as the log books it"
        await rt.market.day.refresh()
        day = view(rt).day_pnl()
        assert day.pending == 0 and day.net == await logged_today(other, sim) and day.net < start.net
    finally:
        await rt.close()


async def test_the_count_starts_again_when_the_utc_day_turns(
    tmp_path: Path, sim: SimExchange, other: SignedRest
) -> None:
    rt = await start_runtime(custom_venue(sim), tmp_path / "core.db")
    try:
        await rt.orders.place(BTC, Side.BUY, Decimal("0.010"))
        before = await shows_the_log(rt, other, sim)
        assert before < 0
        first_day = view(rt).day_pnl().day_start_ms
        sim.clock.skew_ms += DAY_MS  # the exchange's clock is a day later
        await rt.client.rest.sync_clock()
        await rt.orders.place(BTC, Side.SELL, Decimal("0.010"))  # a fill of the new day: the count starts again
        await wait_for(lambda: view(rt).day_pnl().day_start_ms == first_day + DAY_MS, timeout=8)
        after = await shows_the_log(rt, other, sim)
        rows = sim.engine.accounts[sim.api_key].transactions
        assert (before, after) == (rows[0].change, rows[1].change), "each day counts its own fill only"
    finally:
        await rt.close()
