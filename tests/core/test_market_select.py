"""Selecting a symbol streams its ticker, book, trades and chart on demand; the chart's candles; the account at the
current marks; the watchlist edited from the core and kept across a restart. Against the embedded exchange."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from tests.conftest import SignedRest
from tests.core.conftest import sim_of, wait_for
from tui_bot.core.market_feed import UnknownSymbol
from tui_bot.core.market_view import MarketView
from tui_bot.domain.enums import Side
from tui_bot.domain.market import WatchlistChanged
from tui_bot.runtime import Runtime
from tui_bot.sim.server import SimExchange

BTC, ETH, SOL = "BTCUSDT", "ETHUSDT", "SOLUSDT"


def streamed(rt: Runtime) -> set[str]:
    """Every public topic the client keeps subscribed."""
    return set().union(*(conn.topics for conn in rt.client.public))


def served(sim: SimExchange, topic: str) -> bool:
    """True when the exchange has a subscriber for topic."""
    return bool(sim.public.subscribers.get(topic))


def view(rt: Runtime) -> MarketView:
    assert rt.market is not None
    return rt.market


def market_topics(symbol: str, interval: str = "15") -> set[str]:
    return {f"tickers.{symbol}", f"orderbook.50.{symbol}", f"publicTrade.{symbol}", f"kline.{interval}.{symbol}"}


async def test_selecting_streams_a_symbol_on_demand_and_the_next_selection_drops_what_nothing_needs(
    runtime: Runtime,
) -> None:
    sim = sim_of(runtime)
    assert SOL not in runtime.settings.bot.watchlist and not runtime.engine.state.last_price(SOL)
    await view(runtime).select_symbol(SOL)
    assert market_topics(SOL) <= streamed(runtime)
    await wait_for(lambda: all(served(sim, t) for t in market_topics(SOL)))
    await wait_for(lambda: bool(runtime.engine.state.last_price(SOL)) and view(runtime).book(SOL) is not None)
    await view(runtime).select_symbol(BTC)
    await wait_for(lambda: not any(served(sim, t) for t in market_topics(SOL)))
    assert not market_topics(SOL) & streamed(runtime) and market_topics(BTC) <= streamed(runtime)
    assert view(runtime).book(SOL) is None and view(runtime).trades(SOL) == ()
    await view(runtime).select_symbol(None)
    assert streamed(runtime) & market_topics(BTC) == {f"tickers.{BTC}"}, "the watchlist keeps its ticker"
    assert view(runtime).selected is None


async def test_a_symbol_with_a_position_keeps_its_ticker_after_it_is_deselected(runtime: Runtime) -> None:
    await view(runtime).select_symbol(SOL)
    await wait_for(lambda: bool(runtime.engine.state.last_price(SOL)))
    await runtime.orders.place(SOL, Side.BUY, Decimal("1.0"))
    await wait_for(lambda: SOL in runtime.engine.state.positions)
    await view(runtime).select_symbol(None)
    assert streamed(runtime) & market_topics(SOL) == {f"tickers.{SOL}"}


async def test_the_bots_klines_stay_when_the_chart_lets_go_of_the_same_topic(runtime: Runtime) -> None:
    assert runtime.bot is not None
    await runtime.bot.candles.prepare([BTC], "15")
    await view(runtime).select_symbol(BTC)
    await view(runtime).select_symbol(None)
    assert f"kline.15.{BTC}" in streamed(runtime)
    await runtime.bot.candles.prepare([], "15")
    assert f"kline.15.{BTC}" not in streamed(runtime)


async def test_an_unlisted_symbol_is_refused_with_its_name_and_changes_nothing(runtime: Runtime) -> None:
    await view(runtime).select_symbol(ETH)
    before = streamed(runtime)
    with pytest.raises(UnknownSymbol, match="not listed on SIM: BTCUSDX"):
        await view(runtime).select_symbol("BTCUSDX")
    assert view(runtime).selected == ETH and streamed(runtime) == before


async def rest_klines(sim: SimExchange, interval: str, limit: int) -> list[int]:
    """Bar starts, oldest first, as the exchange's REST kline endpoint lists them."""
    assert sim.urls is not None
    client = SignedRest(sim.urls.rest, sim.api_key, sim.api_secret)
    try:
        reply = await client.get(
            "/v5/market/kline",
            {"category": "linear", "symbol": BTC, "interval": interval, "limit": limit},
            signed=False,
        )
    finally:
        await client.close()
    return [int(row[0]) for row in reversed(reply["result"]["list"])]


async def test_the_chart_holds_rest_history_and_the_live_bar_at_the_chosen_interval(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    await view(runtime).set_chart_interval("1")
    await view(runtime).select_symbol(BTC)
    bars = view(runtime).candles(BTC, "1")
    starts = await rest_klines(sim, "1", 201)
    assert [b.start for b in bars[:-1]] == starts[-201:-1] and all(b.confirm for b in bars[:-1])
    live = bars[-1]
    assert not live.confirm and live.start == starts[-1]
    await wait_for(lambda: view(runtime).candles(BTC, "1")[-1] is not live, timeout=5)
    assert view(runtime).candles(BTC, "1")[-1].start >= live.start
    await view(runtime).set_chart_interval("60")
    assert view(runtime).candles(BTC, "1") == () and len(view(runtime).candles(BTC, "60")) == 201
    assert f"kline.60.{BTC}" in streamed(runtime) and f"kline.1.{BTC}" not in streamed(runtime)
    with pytest.raises(ValueError, match="chart interval must be one of 1, 5, 15, 60, not '2'"):
        await view(runtime).set_chart_interval("2")


async def test_equity_and_upnl_follow_the_mark_between_wallet_messages(
    stepped: Runtime, manual_sim: SimExchange
) -> None:
    await stepped.orders.place(BTC, Side.BUY, Decimal("0.010"))
    await wait_for(lambda: BTC in stepped.engine.state.positions and stepped.engine.state.wallet is not None)
    await stepped.engine.drain()
    wallet = stepped.engine.state.wallet
    assert wallet is not None
    held = manual_sim.engine.accounts[manual_sim.api_key].position(BTC)
    for factor in ("1.01", "0.98"):
        market = manual_sim.engine.markets[BTC]
        market.set_price((market.last_price * Decimal(factor)).quantize(market.tick), manual_sim.clock.now_ms())
        manual_sim.step_once()
        mark = market.mark_price
        await wait_for(lambda m=mark: stepped.engine.state.positions[BTC].mark_price == m)  # type: ignore[misc]
        summary = view(stepped).account_summary()
        assert summary is not None and stepped.engine.state.wallet is wallet, "no wallet message in between"
        upnl = (mark - held.entry_price) * held.size
        assert upnl and summary.unrealised_pnl == upnl and summary.equity == wallet.total_wallet_balance + upnl
        assert summary.equity != wallet.total_equity, "the wallet's own equity is stale by now"
        assert summary.available == wallet.total_available_balance + upnl - wallet.total_perp_upl
        assert summary.positions == 1


async def test_watchlist_edits_stream_persist_and_come_back_after_a_restart(
    make_runtime: Callable[..., Awaitable[Runtime]],
) -> None:
    first = await make_runtime()
    try:
        sub = first.engine.bus.subscribe()
        assert view(first).add_to_watchlist(" solusdt ") == (BTC, ETH, SOL)
        assert view(first).add_to_watchlist(SOL) == (BTC, ETH, SOL)
        assert view(first).remove_from_watchlist(ETH) == (BTC, SOL)
        with pytest.raises(UnknownSymbol, match="XYZUSDT is not listed on SIM"):
            view(first).add_to_watchlist("xyzusdt")
        with pytest.raises(ValueError, match="ETHUSDT is not in the watchlist"):
            view(first).remove_from_watchlist(ETH)
        await wait_for(
            lambda: (
                f"tickers.{SOL}" in first.client.ticker_topics and f"tickers.{ETH}" not in first.client.ticker_topics
            )
        )
        assert first.bot is not None and first.bot.analysis.watchlist == [BTC, SOL], "the analysis cycle reads it too"
        changes = [e.symbols for e in sub.take() if isinstance(e, WatchlistChanged)]
        assert changes == [(BTC, ETH, SOL), (BTC, SOL)]
    finally:
        await first.close()
    second = await make_runtime()
    try:
        assert view(second).watchlist_symbols() == (BTC, SOL)
        assert second.client.ticker_topics >= {f"tickers.{BTC}", f"tickers.{SOL}"}
        assert f"tickers.{ETH}" not in second.client.ticker_topics
    finally:
        await second.close()
