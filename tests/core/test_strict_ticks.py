"""A running engine with an open position, fed absurd ticker values over the embedded exchange's real socket.

The exchange's own BTCUSDT ticker is stalled, and the test's frames are pushed down the connection that
subscribed it: the refused ones leave the position's mark as it was and are counted on the shard by
reason; the next good one re-marks the position.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import orjson

from tests.core.conftest import sim_of, wait_for
from tests.golden import load_fixture
from tui_bot.domain.enums import Side
from tui_bot.runtime import Runtime

SYMBOL = "BTCUSDT"
TOPIC = f"tickers.{SYMBOL}"


def ticker_delta(ts: int, **values: str) -> str:
    """The golden ticker delta with only these values."""
    frame = load_fixture("ws_ticker_delta")
    frame["data"] = {"symbol": SYMBOL, **values}
    frame["ts"] = ts
    return orjson.dumps(frame).decode()


async def test_absurd_marks_are_refused_and_counted_and_the_next_good_tick_applies(runtime: Runtime) -> None:
    sim = sim_of(runtime)
    state = runtime.engine.state
    await runtime.orders.place(SYMBOL, Side.BUY, Decimal("0.001"))
    await wait_for(lambda: SYMBOL in state.positions and bool(sim.public.subscribers.get(TOPIC)))
    sim.faults.stall(TOPIC, 30)
    (shard,) = [conn for conn in runtime.client.public if TOPIC in conn.topics]
    await wait_for(lambda: state.positions[SYMBOL].mark_price > 0 and SYMBOL in state.tickers)
    await asyncio.sleep(0.3)  # a ticker frame sent before the stall may still be on its way
    mark = state.tickers[SYMBOL].mark_price  # the ticker's last good mark (the position's own stream re-marks too)
    now = sim.clock.now_ms()
    bad = [
        ticker_delta(now, markPrice="1e999999"),
        ticker_delta(now, markPrice="-1"),
        ticker_delta(now, markPrice="0.00_1"),
        ticker_delta(now, symbol="ETHUSDT", markPrice="3412.55"),
        ticker_delta(now, markPrice=str(mark * 1000)),
    ]
    for peer in sim.public.subscribers[TOPIC]:
        for text in bad:
            peer.send(text)
    await wait_for(lambda: shard.stats.decode_errors == len(bad))
    assert shard.stats.rejected == {"number": 2, "sign": 1, "topic": 1, "range": 1}
    assert state.tickers[SYMBOL].mark_price == mark, "no refused frame reached the ticker"
    # the position's own stream (not stalled) may re-mark it meanwhile, but never to a refused value
    assert abs(state.positions[SYMBOL].mark_price - mark) < mark / 100
    good = mark + Decimal("12.3")
    for peer in sim.public.subscribers[TOPIC]:
        peer.send(ticker_delta(now + 1, markPrice=str(good)))
    await wait_for(lambda: state.tickers[SYMBOL].mark_price == good)  # re-marking: test_core_state
    assert abs(state.positions[SYMBOL].mark_price - good) < good / 100
    assert shard.stats.decode_errors == len(bad)
    pos = state.positions[SYMBOL]
    assert pos.unrealised_pnl == (pos.mark_price - pos.entry_price) * Decimal("0.001")
